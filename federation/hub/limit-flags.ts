/**
 * Command-line flags for the hub's per-identity bounds (`HubLimits`, issue #14): one table gives each flag, the
 * field it sets and its help line, so `dpuctl hub run` parses, validates (zod) and documents them from the
 * same place. federation/README.md has the table with defaults, metrics and what happens past each bound.
 */
import { z } from 'zod'
import { DEFAULT_HUB_LIMITS, type HubLimits } from './hub.js'

export interface LimitFlag {
  /** Flag name without the leading `--`. */
  flag: string
  field: keyof HubLimits
  help: string
}

export const HUB_LIMIT_FLAGS: readonly LimitFlag[] = [
  { flag: 'max-connections-per-identity', field: 'maxConnectionsPerIdentity', help: 'HTTP/2 connections one DPU certificate may hold' },
  { flag: 'max-streams-per-identity', field: 'maxStreamsPerIdentity', help: 'open streams one DPU certificate may hold' },
  { flag: 'hello-timeout-ms', field: 'helloTimeoutMs', help: 'a stream must say hello within this many ms' },
  { flag: 'max-hello-objects', field: 'maxHelloObjects', help: 'objects a hello may claim' },
  { flag: 'max-hello-bytes', field: 'maxHelloBytes', help: 'bytes of keys and hashes a hello may claim' },
  { flag: 'hello-burst', field: 'helloBurst', help: 'hellos per identity in a burst ...' },
  { flag: 'hello-refill-ms', field: 'helloRefillMs', help: '... then one per this many ms' },
  { flag: 'delta-cache-bytes', field: 'deltaCacheBytes', help: 'encoded bytes the shared delta cache keeps' },
]

/** A whole number from 1 up, as typed on the command line. */
const positiveInt = z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().min(1, 'must be at least 1').max(Number.MAX_SAFE_INTEGER, 'is too large'))

export class LimitFlagError extends Error {
  override readonly name = 'LimitFlagError'
}

/** `parseArgs` option specs for the limit flags. */
export function limitFlagOptions(): Record<string, { type: 'string' }> {
  return Object.fromEntries(HUB_LIMIT_FLAGS.map((f) => [f.flag, { type: 'string' as const }]))
}

/** The limits given on the command line (absent flags: absent, so the defaults apply). Throws LimitFlagError. */
export function parseLimitFlags(values: Readonly<Record<string, unknown>>): Partial<HubLimits> {
  const out: Partial<HubLimits> = {}
  for (const f of HUB_LIMIT_FLAGS) {
    const raw = values[f.flag]
    if (raw === undefined) continue
    const r = positiveInt.safeParse(raw)
    if (!r.success) throw new LimitFlagError(`--${f.flag} ${r.error.issues[0]?.message ?? 'is invalid'} (got "${String(raw)}")`)
    out[f.field] = r.data
  }
  return out
}

/** Usage lines: `--flag N   help (default D)`. */
export function limitFlagsUsage(): string {
  return HUB_LIMIT_FLAGS.map((f) => `  --${f.flag.padEnd(29)} ${f.help} (default ${DEFAULT_HUB_LIMITS[f.field]})`).join('\n')
}
