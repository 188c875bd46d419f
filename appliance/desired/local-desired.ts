/**
 * Local (standalone) desired-state writes. When a fleet-level DPUServiceInterface or DPUServiceChain is applied
 * through the local API, the appliance renders it for its own node here, as the hub would, and stores the fleet
 * object and its node-level objects in ONE transaction. Each rendered object carries the renderer's
 * `RENDERED_FROM_ANNOTATION` naming its fleet object, so re-applying prunes what the new rendering no longer produces and
 * deleting the fleet object deletes its rendered objects.
 *
 * A rendered object belongs to its fleet object, as a Deployment's ReplicaSet belongs to the Deployment: a
 * direct apply or delete of it through the local API is refused (`desired.rendered-object`, naming the fleet
 * object), because the renderer would never recreate a deleted child and would overwrite an edited one on the
 * next apply of its owner. Only while the owner exists: an orphan (its fleet object gone) stays editable, or
 * nothing could remove it. The renderer itself writes through `store.objects`, which knows no such rule.
 *
 * The fleet object's `Ready` rolls up its rendered objects' readiness (`fleet-rollup.ts`).
 */
import { refKey, type ObjectRef, type StoredObject } from '../../api/meta.js'
import type { ParsedObject } from '../../api/resources/kind.js'
import { RENDERED_FROM_ANNOTATION, renderForNode } from '../../api/render/index.js'
import type { ApplyResult, DeleteResult, Store } from '../store/index.js'
import { refOf } from '../store/index.js'
import { RenderedObjectError } from './errors.js'
import { ownerAnnotation, ownerOf, writeRollup } from './fleet-rollup.js'

/** Annotation the renderer puts on node-level objects: `<Kind>/<namespace>/<name>` of their fleet object. */
export const RENDERED_FROM = RENDERED_FROM_ANNOTATION

/** Fleet kinds a standalone appliance renders for itself; other fleet kinds are stored as they are. */
const RENDERED_KINDS: ReadonlySet<string> = new Set(['DPUServiceInterface', 'DPUServiceChain'])

export interface NodeIdentity {
  name: string
  labels: Readonly<Record<string, string>>
}

export interface LocalApplyOutcome {
  /** One per input object, in input order. */
  results: ApplyResult[]
  /** Node-level objects created or updated by rendering fleet objects. */
  rendered: ApplyResult[]
  /** Rendered objects whose fleet object no longer produces them. */
  pruned: DeleteResult[]
}

export interface LocalDeleteOutcome {
  results: DeleteResult[]
  pruned: DeleteResult[]
}

function renderedBy(store: Store): Map<string, StoredObject[]> {
  const byOwner = new Map<string, StoredObject[]>()
  for (const o of store.objects.list()) {
    const owner = o.metadata.annotations?.[RENDERED_FROM]
    if (owner !== undefined && o.metadata.origin === 'local') byOwner.set(owner, [...(byOwner.get(owner) ?? []), o])
  }
  return byOwner
}

function refOfStored(o: StoredObject): ObjectRef {
  return { apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }
}

/**
 * The fleet object the stored object at `ref` was rendered from, while that fleet object exists. Hub-owned
 * objects are left to the store's own read-only rule, which names the hub's source as the place to change them.
 */
function readLiveOwner(store: Store, ref: ObjectRef): ObjectRef | undefined {
  const o = store.objects.get(ref)
  const owner = o ? ownerOf(o) : undefined
  return owner && store.objects.get(owner) ? owner : undefined
}

/** Applies objects from the local API (origin `local`), rendering fleet objects for this node. All-or-nothing. */
export function applyLocalObjects(store: Store, objs: readonly ParsedObject[], node: NodeIdentity): LocalApplyOutcome {
  return store.batch(() => {
    for (const o of objs) {
      const owner = readLiveOwner(store, refOf(o))
      if (owner) throw new RenderedObjectError(refOf(o), owner, 'stored')
    }
    const inputs = new Set(objs.map((o) => refKey(refOf(o))))
    const results = store.objects.apply(objs, { origin: 'local' })
    const rendered: ApplyResult[] = []
    const pruned: DeleteResult[] = []
    let owners: Map<string, StoredObject[]> | undefined
    results.forEach((r, i) => {
      if (!RENDERED_KINDS.has(r.object.kind)) return
      const children = renderForNode(objs[i]!, node)
      const owner = ownerAnnotation(r.ref)
      const annotated = children.map((c) => ({ ...c, metadata: { ...c.metadata, annotations: { ...c.metadata.annotations, [RENDERED_FROM]: owner } } }))
      // The same request also writes the child directly: one of the two writes would silently lose.
      for (const c of annotated) if (inputs.has(refKey(refOf(c)))) throw new RenderedObjectError(refOf(c), r.ref, 'same-request')
      if (annotated.length > 0) rendered.push(...store.objects.apply(annotated, { origin: 'local' }))
      owners ??= renderedBy(store)
      const keep = new Set(annotated.map((c) => refKey({ apiVersion: c.apiVersion, kind: c.kind, namespace: c.metadata.namespace ?? r.ref.namespace, name: c.metadata.name })))
      const stale = (owners.get(owner) ?? []).map(refOfStored).filter((ref) => !keep.has(refKey(ref)))
      if (stale.length > 0) pruned.push(...store.objects.delete(stale, { origin: 'local', missingOk: true }))
      r.object = writeRollup(store, r.ref, node) ?? r.object
    })
    return { results, rendered, pruned }
  })
}

/** Deletes objects from the local API, with the node-level objects rendered from them. All-or-nothing. */
export function deleteLocalObjects(store: Store, refs: readonly ObjectRef[], opts: { missingOk?: boolean } = {}): LocalDeleteOutcome {
  return store.batch(() => {
    // Deleting a rendered object together with its fleet object is fine: the owner takes it anyway.
    const deleting = new Set(refs.map(refKey))
    for (const ref of refs) {
      const owner = readLiveOwner(store, ref)
      if (owner && !deleting.has(refKey(owner))) throw new RenderedObjectError(ref, owner, 'stored')
    }
    const results = store.objects.delete(refs, { origin: 'local', missingOk: opts.missingOk ?? false })
    const owners = renderedBy(store)
    const children = results.filter((r) => r.action === 'deleted').flatMap((r) => (owners.get(ownerAnnotation(r.ref)) ?? []).map(refOfStored))
    const pruned = children.length > 0 ? store.objects.delete(children, { origin: 'local', missingOk: true }) : []
    return { results, pruned }
  })
}
