/**
 * Readiness of a fleet object on a standalone appliance rolls up the node objects rendered from it, as DPF's
 * ServiceChainSet status counts its ServiceChains (`numberApplied`, `numberReady`): a DPUServiceChain is
 * `Ready=True` only while every ServiceChain rendered from it on this DPU is Ready, and otherwise `Ready=False` with
 * the first unready child's reason and message. A separate `Rendered` condition says what was rendered.
 *
 * Holds only the set of fleet objects whose children changed since the last flush; the roll-up itself is computed
 * from the store each time (a fleet object has a handful of children). Writes happen after the store's commit
 * (watch listeners run inside the writer's delivery), coalesced per fleet object, and only when the status differs.
 */
import type { Condition, ObjectRef, ObjectStatus, StoredObject } from '../../api/meta.js'
import { KINDS } from '../../api/resources/registry.js'
import { RENDERED_FROM_ANNOTATION } from '../../api/render/index.js'
import { READY, setCondition, type Store } from '../store/index.js'
import type { NodeIdentity } from './local-desired.js'

export const RENDERED = 'Rendered'

/** `Kind/namespace/name` of a rendered object's fleet object, as the renderer wrote it. */
export function ownerOf(o: StoredObject): ObjectRef | undefined {
  const owner = o.metadata.annotations?.[RENDERED_FROM_ANNOTATION]
  if (owner === undefined || o.metadata.origin !== 'local') return undefined
  const [kind, namespace, name] = owner.split('/')
  const info = KINDS.find((k) => k.kind === kind && k.level === 'fleet')
  if (!info || !namespace || !name) return undefined
  return { apiVersion: info.apiVersion, kind: info.kind, namespace, name }
}

export function ownerAnnotation(ref: Pick<ObjectRef, 'kind' | 'namespace' | 'name'>): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`
}

function readyOf(o: StoredObject): Condition | undefined {
  return o.status.conditions?.find((c) => c.type === READY)
}

/** The fleet object's status from its children (pure). `children` are in a stable order. */
export function computeRollup(owner: StoredObject, children: readonly StoredObject[], node: NodeIdentity, now = new Date()): ObjectStatus {
  const generation = owner.metadata.generation
  const ready = children.filter((c) => readyOf(c)?.status === 'True')
  const label = (c: StoredObject) => `${c.kind} ${c.metadata.namespace}/${c.metadata.name}`
  const rendered: Omit<Condition, 'lastTransitionTime'> =
    children.length > 0
      ? { type: RENDERED, status: 'True', reason: 'Rendered', message: `rendered ${children.length} node object(s) for node ${node.name}`, observedGeneration: generation }
      : { type: RENDERED, status: 'True', reason: 'NotSelected', message: `the node selector does not select node ${node.name}; nothing rendered`, observedGeneration: generation }
  let readyCondition: Omit<Condition, 'lastTransitionTime'>
  if (children.length === 0) {
    readyCondition = { type: READY, status: 'True', reason: 'NotSelected', message: rendered.message, observedGeneration: generation }
  } else if (ready.length === children.length) {
    readyCondition = { type: READY, status: 'True', reason: 'Ready', message: `${ready.length}/${children.length} node object(s) Ready on node ${node.name}`, observedGeneration: generation }
  } else {
    const first = children.find((c) => readyOf(c)?.status !== 'True')!
    const c = readyOf(first)
    readyCondition = {
      type: READY,
      status: 'False',
      reason: c?.reason ?? 'Pending',
      message: `${ready.length}/${children.length} node object(s) Ready on node ${node.name}; ${label(first)}: ${c?.message ?? 'no status yet'}`,
      observedGeneration: generation,
    }
  }
  let status: ObjectStatus = {
    ...owner.status,
    phase: readyCondition.status === 'True' ? 'Ready' : 'NotReady',
    observedGeneration: generation,
    numberApplied: children.length,
    numberReady: ready.length,
  }
  status = setCondition(status, readyCondition, now)
  return setCondition(status, rendered, now)
}

/** Every local object rendered from `owner`, in kind/namespace/name order. */
export function readChildren(store: Store, owner: Pick<ObjectRef, 'kind' | 'namespace' | 'name'>): StoredObject[] {
  const key = ownerAnnotation(owner)
  return store.objects
    .list()
    .filter((o) => o.metadata.origin === 'local' && o.metadata.annotations?.[RENDERED_FROM_ANNOTATION] === key)
    .sort((a, b) => `${a.kind}/${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.namespace}/${b.metadata.name}`))
}

/** Writes the roll-up of `owner` (if it still exists); returns the object as stored afterwards. */
export function writeRollup(store: Store, ownerRef: ObjectRef, node: NodeIdentity): StoredObject | undefined {
  const owner = store.objects.get(ownerRef)
  if (!owner) return undefined
  return store.objects.setStatus(ownerRef, computeRollup(owner, readChildren(store, ownerRef), node))
}

/**
 * Follows the store and keeps every fleet object's roll-up current when a child's status (or the child set)
 * changes. Returns the stop function.
 */
export function startFleetRollup(store: Store, node: NodeIdentity): () => void {
  const due = new Map<string, ObjectRef>()
  let scheduled: NodeJS.Immediate | undefined
  const flush = () => {
    scheduled = undefined
    const refs = [...due.values()]
    due.clear()
    for (const ref of refs) writeRollup(store, ref, node)
  }
  const unsubscribe = store.watch((ev) => {
    const owner = ownerOf(ev.object)
    if (!owner) return
    due.set(ownerAnnotation(owner), owner)
    scheduled ??= setImmediate(flush)
  })
  return () => {
    unsubscribe()
    if (scheduled) clearImmediate(scheduled)
  }
}
