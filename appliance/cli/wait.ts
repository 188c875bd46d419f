/**
 * `dpuctl wait --for=condition=Ready KIND/NAME`: blocks until objects reach a condition, as `kubectl wait` does,
 * so scripts (and the README tour) can follow an apply without guessing how long reconciling takes.
 */
import type { CliCommand } from '../../api/cli.js'
import { UsageError } from '../../api/cli.js'
import { DEFAULT_NAMESPACE, type StoredObject } from '../../api/meta.js'
import type { KindInfo } from '../../api/resources/kind.js'
import { ApplianceClient, CLIENT_OPTIONS } from './client.js'
import { ServerProblemError } from './errors.js'
import { parseFlags } from '../../api/cli-flags.js'
import { reportError } from './report.js'
import { objectPath, resolveKind } from './resolve.js'

type WaitFor = { kind: 'condition'; type: string; status: string } | { kind: 'delete' }

/** `condition=Ready`, `condition=Ready=False`, `delete` (kubectl's `--for` forms). */
export function parseWaitFor(text: string): WaitFor {
  if (text === 'delete') return { kind: 'delete' }
  const m = /^condition=([A-Za-z][\w.-]*)(?:=(True|False|Unknown|true|false|unknown))?$/.exec(text)
  if (!m) throw new UsageError(`--for must be condition=TYPE[=STATUS] or delete, got "${text}"`)
  const status = (m[2] ?? 'True').toLowerCase()
  return { kind: 'condition', type: m[1]!, status: status[0]!.toUpperCase() + status.slice(1) }
}

/** `30s`, `2m`, `500ms`, or a bare number of seconds. */
export function parseTimeout(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text)
  if (!m) throw new UsageError(`--timeout must be a duration like 30s, 2m or 500ms, got "${text}"`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
  return Number(m[1]) * unit
}

function met(o: StoredObject | undefined, f: WaitFor): boolean {
  if (f.kind === 'delete') return o === undefined
  const c = o?.status.conditions?.find((x) => x.type === f.type)
  // A condition about an older generation says nothing about the spec that was just applied.
  return c?.status === f.status && (c.observedGeneration === undefined || c.observedGeneration === o!.metadata.generation)
}

const POLL_MS = 200

export const waitCommand: CliCommand = {
  path: ['wait'],
  summary: 'wait until objects reach a condition (--for=condition=Ready) or are deleted (--for=delete)',
  usage: `Usage: dpuctl wait --for=condition=TYPE[=STATUS]|delete KIND/NAME... [-n NS] [--timeout 30s] [--server URL] [--token-file F]

Exits 0 once every named object has the condition (default status True, for its current generation) or is
gone; exits 1 with the objects still waiting when --timeout (default 30s) passes. KIND is any name dpuctl get
accepts (sc, dsc, serviceinterface, ...), also as KIND NAME for a single object.`,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { ...CLIENT_OPTIONS, for: { type: 'string' }, namespace: { type: 'string', short: 'n' }, timeout: { type: 'string' } })
    if (values.for === undefined) throw new UsageError('wait needs --for=condition=TYPE or --for=delete')
    const waitFor = parseWaitFor(values.for)
    const timeoutMs = parseTimeout(values.timeout ?? '30s')
    const targets: Array<{ kind: KindInfo; name: string }> = []
    try {
      if (positionals.length === 2 && !positionals[0]!.includes('/') && !positionals[1]!.includes('/')) {
        targets.push({ kind: resolveKind(positionals[0]!), name: positionals[1]! })
      } else {
        for (const p of positionals) {
          const slash = p.indexOf('/')
          if (slash <= 0 || slash === p.length - 1) throw new UsageError(`expected KIND/NAME, got "${p}"`)
          targets.push({ kind: resolveKind(p.slice(0, slash)), name: p.slice(slash + 1) })
        }
      }
      if (targets.length === 0) throw new UsageError('wait needs at least one KIND/NAME')
      const client = ApplianceClient.fromFlags(values, io)
      const namespace = values.namespace ?? DEFAULT_NAMESPACE
      const read = async (t: (typeof targets)[number]): Promise<StoredObject | undefined> => {
        try {
          return await client.request<StoredObject>('GET', objectPath(t.kind, { namespace, name: t.name }))
        } catch (err) {
          if (err instanceof ServerProblemError && err.status === 404) return undefined
          throw err
        }
      }
      const label = (t: (typeof targets)[number]) => `${t.kind.singular}.${t.kind.group}/${t.name}`
      const deadline = Date.now() + timeoutMs
      let pending = targets
      for (;;) {
        const still: typeof targets = []
        for (const t of pending) {
          if (met(await read(t), waitFor)) io.stdout.write(`${label(t)} ${waitFor.kind === 'delete' ? 'deleted' : 'condition met'}\n`)
          else still.push(t)
        }
        pending = still
        if (pending.length === 0) return 0
        if (Date.now() >= deadline) {
          io.stderr.write(`error: timed out after ${values.timeout ?? '30s'} waiting for ${values.for} on ${pending.map(label).join(', ')}\n`)
          return 1
        }
        await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))))
      }
    } catch (err) {
      return reportError(err, io)
    }
  },
}
