/**
 * Where a DPU's labels come from (they select which fleet objects render for it).
 *
 *   1. The hub's DPU registry file (`--dpu-registry FILE`, YAML `dpus: {<name>: {labels: {...}}}`): authoritative.
 *      A DPU listed there gets exactly these labels; what it reports about itself is ignored.
 *   2. Otherwise the labels the agent reports in its hello (`--dpu-labels` on the appliance), unless the hub
 *      runs with `--require-registered`, in which case an unlisted DPU is refused.
 *
 * The DPU's *identity* never comes from here or from the hello: only from its certificate.
 */
import { readFileSync, watchFile, unwatchFile } from 'node:fs'
import { parse } from 'yaml'
import { z } from 'zod'
import { LabelsSchema } from '../../api/meta.js'
import type { Logger } from '../wire/logger.js'
import { silentLogger } from '../wire/logger.js'
import { SourceError } from './errors.js'

const RegistrySchema = z.object({
  dpus: z.record(z.string(), z.object({ labels: LabelsSchema.default({}) })).default({}),
})

export class DpuRegistry {
  private entries = new Map<string, Record<string, string>>()
  private listeners: Array<() => void> = []

  constructor(
    private readonly path: string | undefined,
    readonly requireRegistered = false,
    private readonly logger: Logger = silentLogger,
  ) {
    if (path) this.entries = DpuRegistry.load(path)
  }

  static load(path: string): Map<string, Record<string, string>> {
    let raw: unknown
    try {
      raw = parse(readFileSync(path, 'utf8')) ?? {}
    } catch (err) {
      throw new SourceError(`cannot read DPU registry ${path}: ${(err as Error).message}`, { cause: err, context: { path } })
    }
    const parsed = RegistrySchema.safeParse(raw)
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
      throw new SourceError(`invalid DPU registry ${path}`, { issues, context: { path } })
    }
    return new Map(Object.entries(parsed.data.dpus).map(([name, e]) => [name, e.labels]))
  }

  /** Re-reads the file when it changes (polling: registry edits are rare). */
  watch(onChange: () => void): void {
    this.listeners.push(onChange)
    if (!this.path || this.listeners.length > 1) return
    const path = this.path
    watchFile(path, { interval: 1000 }, () => {
      try {
        this.entries = DpuRegistry.load(path)
        for (const l of this.listeners) l()
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'DPU registry rejected; keeping the previous one')
      }
    })
  }

  stop(): void {
    if (this.path) unwatchFile(this.path)
  }

  /** Whether the registry file lists this DPU. */
  has(name: string): boolean {
    return this.entries.has(name)
  }

  /** Labels for a DPU, or null when it must be refused (unlisted while --require-registered). */
  labelsFor(name: string, reported: Record<string, string> | undefined): Record<string, string> | null {
    const listed = this.entries.get(name)
    if (listed) return listed
    if (this.requireRegistered) return null
    const ok = LabelsSchema.safeParse(reported ?? {})
    return ok.success ? ok.data : {}
  }
}
