/**
 * Local (standalone) desired-state writes. When a fleet-level DPUServiceInterface or DPUServiceChain is applied
 * through the local API, the appliance renders it for its own node here, as the hub would, and stores the fleet
 * object and its node-level objects in ONE transaction. Each rendered object carries the renderer's
 * `RENDERED_FROM_ANNOTATION` naming its fleet object, so re-applying prunes what the new rendering no longer produces and
 * deleting the fleet object deletes its rendered objects. The fleet object's `Ready` rolls up its rendered
 * objects' readiness (`fleet-rollup.ts`).
 */
import { refKey, type ObjectRef, type StoredObject } from '../../api/meta.js'
import type { ParsedObject } from '../../api/resources/kind.js'
import { RENDERED_FROM_ANNOTATION, renderForNode } from '../../api/render/index.js'
import type { ApplyResult, DeleteResult, Store } from '../store/index.js'
import { ownerAnnotation, writeRollup } from './fleet-rollup.js'

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

/** Applies objects from the local API (origin `local`), rendering fleet objects for this node. All-or-nothing. */
export function applyLocalObjects(store: Store, objs: readonly ParsedObject[], node: NodeIdentity): LocalApplyOutcome {
  return store.batch(() => {
    const results = store.objects.apply(objs, { origin: 'local' })
    const rendered: ApplyResult[] = []
    const pruned: DeleteResult[] = []
    let owners: Map<string, StoredObject[]> | undefined
    results.forEach((r, i) => {
      if (!RENDERED_KINDS.has(r.object.kind)) return
      const children = renderForNode(objs[i]!, node)
      const owner = ownerAnnotation(r.ref)
      const annotated = children.map((c) => ({ ...c, metadata: { ...c.metadata, annotations: { ...c.metadata.annotations, [RENDERED_FROM]: owner } } }))
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
    const results = store.objects.delete(refs, { origin: 'local', missingOk: opts.missingOk ?? false })
    const owners = renderedBy(store)
    const children = results.filter((r) => r.action === 'deleted').flatMap((r) => (owners.get(ownerAnnotation(r.ref)) ?? []).map(refOfStored))
    const pruned = children.length > 0 ? store.objects.delete(children, { origin: 'local', missingOk: true }) : []
    return { results, pruned }
  })
}
