/**
 * A large removal is a decision, not an accident: a source change that would remove more than `maxShare` of a
 * connected DPU's objects is held (not planned) until confirmed, unless the source says those objects were
 * removed on purpose (a file deleted, a Kubernetes DELETE event). What counts is measured on each DPU's rendered
 * set, with the deliberately removed fleet objects put back, so only accidental loss is weighed.
 */
import type { ParsedObject } from '../../api/resources/kind.js'
import { Planner, type DpuNode, type RenderFn } from './planner.js'
import { objectKey } from './source.js'

export interface HeldChange {
  source: string
  since: string
  /** Per DPU: objects the change would remove, of how many it holds now. */
  removals: Record<string, { removed: number; of: number }>
}

export function accidentalRemovals(
  render: RenderFn,
  current: Planner,
  nextFleet: readonly ParsedObject[],
  deliberate: ReadonlySet<string>,
  nodes: readonly DpuNode[],
  maxShare: number,
): HeldChange['removals'] | null {
  if (!current.ready || nodes.length === 0) return null
  const nextKeys = new Set(nextFleet.map(objectKey))
  const putBack = current.fleetObjects().filter((o) => deliberate.has(objectKey(o)) && !nextKeys.has(objectKey(o)))
  const trial = new Planner(render)
  trial.setFleet([...nextFleet, ...putBack])
  const over: HeldChange['removals'] = {}
  for (const node of nodes) {
    const before = current.desiredFor(node).objects
    if (before.size === 0) continue
    const after = trial.desiredFor(node).objects
    let removed = 0
    for (const key of before.keys()) if (!after.has(key)) removed++
    if (removed / before.size > maxShare) over[node.name] = { removed, of: before.size }
  }
  return Object.keys(over).length > 0 ? over : null
}
