/**
 * The write plan of the store durability test, shared by the writer child and the checking parent: 1,000 new
 * ServiceInterfaces in 40 batches of 25, each batch also changing the spec of up to 10 earlier objects, so
 * generations move and "last acknowledged generation" means something.
 */
import type { ParsedObject } from '../../api/resources/kind.js'

export const BATCHES = 40
export const NEW_PER_BATCH = 25
const UPDATES_PER_BATCH = 10

function obj(i: number, spec: Record<string, unknown>): ParsedObject {
  return { apiVersion: 'svc.dpu.nvidia.com/v1alpha1', kind: 'ServiceInterface', metadata: { name: `si-${i}`, namespace: 'durability' }, spec }
}

export function planBatch(k: number): ParsedObject[] {
  const out: ParsedObject[] = []
  for (let i = 0; i < NEW_PER_BATCH; i++) out.push(obj(k * NEW_PER_BATCH + i, { interfaceType: 'pf', pf: { pfID: 0 }, born: k, touched: -1 }))
  const targets = new Set<number>()
  for (let j = 0; j < UPDATES_PER_BATCH && k > 0; j++) targets.add((k * 7919 + j * 104729) % (k * NEW_PER_BATCH))
  for (const t of targets) out.push(obj(t, { interfaceType: 'pf', pf: { pfID: 0 }, born: Math.floor(t / NEW_PER_BATCH), touched: k }))
  return out
}

/** name -> generation after batches 0..last (inclusive); -1 = nothing. */
export function expectedAfter(last: number): Map<string, number> {
  const state = new Map<string, { spec: string; generation: number }>()
  for (let k = 0; k <= last; k++) {
    for (const o of planBatch(k)) {
      const spec = JSON.stringify(o.spec)
      const prev = state.get(o.metadata.name)
      if (!prev) state.set(o.metadata.name, { spec, generation: 1 })
      else if (prev.spec !== spec) state.set(o.metadata.name, { spec, generation: prev.generation + 1 })
    }
  }
  return new Map([...state].map(([name, s]) => [name, s.generation]))
}
