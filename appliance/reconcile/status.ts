/**
 * Writing an object's status from a reconciler: the `Ready` condition (with reason, message and
 * observedGeneration) plus kind-specific members. Writes only when something a reader would see changed, and
 * keeps `lastTransitionTime` while the condition's status stays the same, so a steady state writes nothing.
 */
import type { Condition, ObjectStatus, StoredObject } from '../../api/meta.js'
import type { Store } from '../store/index.js'

export interface ReadyState {
  ready: boolean | 'unknown'
  reason: string
  message: string
  phase?: string
  /** Kind-specific status members (ports, ofports, counters, ...). */
  extra?: Record<string, unknown>
  /** More conditions besides Ready (e.g. Offloadable). */
  conditions?: Array<Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>>
}

function withTransition(prev: Condition | undefined, next: Omit<Condition, 'lastTransitionTime'>, now: string): Condition {
  return { ...next, lastTransitionTime: prev && prev.status === next.status ? prev.lastTransitionTime : now }
}

function stable(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => (typeof val === 'bigint' ? val.toString() : val))
}

/** Sets Ready (and other conditions) on `obj`; returns true if it wrote. */
export function writeReady(store: Store, obj: StoredObject, state: ReadyState): boolean {
  const now = new Date().toISOString()
  const generation = obj.metadata.generation
  const prev = obj.status.conditions ?? []
  const wanted: Array<Omit<Condition, 'lastTransitionTime'>> = [
    {
      type: 'Ready',
      status: state.ready === 'unknown' ? 'Unknown' : state.ready ? 'True' : 'False',
      reason: state.reason,
      message: state.message,
      observedGeneration: generation,
    },
    ...(state.conditions ?? []).map((c) => ({ ...c, observedGeneration: generation })),
  ]
  const conditions = wanted.map((c) =>
    withTransition(
      prev.find((p) => p.type === c.type),
      c,
      now,
    ),
  )
  const status: ObjectStatus = {
    // Flow counters belong to the status refresher (chain-counters.ts); a reconcile pass keeps them.
    ...(obj.status.counters !== undefined ? { counters: obj.status.counters } : {}),
    ...(state.extra ?? {}),
    phase: state.phase ?? (state.ready === true ? 'Ready' : state.ready === false ? 'NotReady' : 'Pending'),
    observedGeneration: generation,
    conditions,
  }
  const strip = (s: ObjectStatus) => stable({ ...s, conditions: (s.conditions ?? []).map(({ lastTransitionTime: _t, ...c }) => c) })
  if (strip(status) === strip(obj.status)) return false
  store.objects.setStatus({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name }, status)
  return true
}
