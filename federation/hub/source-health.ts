/**
 * Source health beyond "synced": inputs a source currently rejects (and serves at their last good version) show
 * as a metric and as degraded readiness, so a broken file or a failing watch is never silent.
 */
import { Gauge, type Registry } from 'prom-client'
import type { FleetSource } from './source.js'

export function watchSourceHealth(registry: Registry, sources: readonly FleetSource[]): void {
  new Gauge({
    name: 'dpu_hub_source_errors',
    help: 'Inputs a fleet source rejects right now (files that fail to parse, objects the schema refuses, failing list/watch); their last good objects are still served',
    labelNames: ['source'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const s of sources) this.set({ source: s.name }, Object.keys(s.errors?.() ?? {}).length)
    },
  })
}

export function degradedReasons(sources: readonly FleetSource[]): string[] {
  return sources.flatMap((s) => Object.entries(s.errors?.() ?? {}).map(([input, err]) => `source ${s.name}: ${input}: ${err}`))
}
