/**
 * Status the store sets by itself: a new object is `Ready=Unknown/Pending` until a reconciler reports, and an
 * object whose `spec.node` names another node is `Ready=False/OtherNode` (it is kept, but nothing here acts on it).
 */
import type { Condition, ObjectStatus } from '../../api/meta.js'

export const READY = 'Ready'

/** Sets (or replaces) the condition of `c.type`, keeping `lastTransitionTime` when the status did not change. */
export function setCondition(status: ObjectStatus, c: Omit<Condition, 'lastTransitionTime'>, now = new Date()): ObjectStatus {
  const conditions = [...(status.conditions ?? [])]
  const i = conditions.findIndex((x) => x.type === c.type)
  const prev = i >= 0 ? conditions[i] : undefined
  const next: Condition = { ...c, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : now.toISOString() }
  if (i >= 0) conditions[i] = next
  else conditions.push(next)
  return { ...status, conditions }
}

/** The node an object is pinned to, if its spec names one. */
export function specNode(spec: unknown): string | undefined {
  const node = (spec as { node?: unknown } | null)?.node
  return typeof node === 'string' && node !== '' ? node : undefined
}

function placement(spec: unknown, nodeName: string | undefined): Omit<Condition, 'lastTransitionTime'> | undefined {
  const node = specNode(spec)
  if (node === undefined || nodeName === undefined || node === nodeName) return undefined
  return {
    type: READY,
    status: 'False',
    reason: 'OtherNode',
    message: `spec.node is "${node}" but this appliance is node "${nodeName}"; the object is stored and not acted on`,
  }
}

const PENDING: Omit<Condition, 'lastTransitionTime'> = {
  type: READY,
  status: 'Unknown',
  reason: 'Pending',
  message: 'waiting for a reconciler to act on this generation',
}

export function computeInitialStatus(spec: unknown, nodeName: string | undefined, now = new Date()): ObjectStatus {
  return setCondition({}, placement(spec, nodeName) ?? PENDING, now)
}

/** After a spec change: move into or out of OtherNode; otherwise leave the status for the reconciler. */
export function computeStatusAfterSpecChange(status: ObjectStatus, spec: unknown, nodeName: string | undefined, now = new Date()): ObjectStatus {
  const p = placement(spec, nodeName)
  if (p) return setCondition(status, p, now)
  const ready = status.conditions?.find((c) => c.type === READY)
  if (ready?.reason === 'OtherNode') return setCondition(status, PENDING, now)
  return status
}
