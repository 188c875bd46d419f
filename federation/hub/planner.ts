/**
 * Fleet objects -> each DPU's desired set of node-level objects, with content hashes.
 *
 * Holds the latest fleet snapshot (replaced by setFleet) and a per-DPU cache of rendered sets keyed by the
 * snapshot generation and the DPU's labels; a set is rendered at most once per (generation, DPU), and sets
 * whose content is identical share one hash, which keys the encoded-delta cache in `delta-cache.ts`.
 */
import type { WireObject } from '../../api/federation/messages.js'
import type { ParsedObject } from '../../api/resources/kind.js'
import type { NodeSelector } from '../../api/resources/common.js'
import { kindFor } from '../../api/resources/registry.js'
import { nodeSelectorReadsName } from '../../api/resources/selector-match.js'
import { hashObject, hashSet } from '../wire/hash.js'
import { objectKey } from './source.js'

export interface DpuNode {
  name: string
  labels: Readonly<Record<string, string>>
}

export type RenderFn = (obj: ParsedObject, node: DpuNode) => ParsedObject[]

/**
 * Whether rendering `obj` depends on the DPU's name beyond writing it to `spec.node`: node-level objects
 * pinned to one node with `spec.node` (renderForNode passes them to that node only), and fleet objects whose
 * corev1.NodeSelector names nodes with `matchFields` (DPUServiceIPAM, a DPUService's serviceDaemonSet). Other
 * fleet kinds depend on labels only (nodeSelector), and their output names the node only in `spec.node`.
 */
export function dependsOnNodeName(obj: ParsedObject): boolean {
  if (kindFor(obj.apiVersion, obj.kind)?.level !== 'fleet') return (obj.spec as { node?: unknown }).node !== undefined
  const spec = obj.spec as { nodeSelector?: NodeSelector; serviceDaemonSet?: { nodeSelector?: NodeSelector } }
  if (obj.kind === 'DPUServiceIPAM') return nodeSelectorReadsName(spec.nodeSelector)
  if (obj.kind === 'DPUService') return nodeSelectorReadsName(spec.serviceDaemonSet?.nodeSelector)
  return false
}

export interface RenderIssue {
  object: string
  message: string
}

export interface DesiredSet {
  /** Hash over (key, object hash) pairs; equal sets have equal hashes. */
  hash: string
  objects: ReadonlyMap<string, WireObject>
  hashes: ReadonlyMap<string, string>
  /** Fleet objects that could not be rendered for this DPU (left out of the set). */
  issues: readonly RenderIssue[]
  generation: number
}

function labelsKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

type Rendered = { objects: WireObject[] } | { error: string }

export class Planner {
  private fleet: readonly ParsedObject[] = []
  /**
   * Per fleet object (by identity: sources hand back the same object while its file or resource is
   * unchanged), per DPU: what it rendered into, hashed. A change to one fleet object re-renders only it.
   */
  private readonly rendered = new WeakMap<ParsedObject, Map<string, Rendered>>()
  private gen = 0
  private readonly cache = new Map<string, { labels: string; set: DesiredSet }>()
  /** When the fleet last changed (ms), stamped into bookmarks as committedAt. */
  changedAt = Date.now()

  /** Desired sets of the current generation by hash: DPUs with equal sets share one (and its maps). */
  private interned = new Map<string, DesiredSet>()

  constructor(
    private readonly render: RenderFn,
    private readonly nameDependent: (obj: ParsedObject) => boolean = dependsOnNodeName,
  ) {}

  /** False until the first fleet snapshot: nothing may be pushed before the hub knows the fleet. */
  get ready(): boolean {
    return this.gen > 0
  }

  get generation(): number {
    return this.gen
  }

  setFleet(objects: readonly ParsedObject[]): void {
    this.fleet = objects
    this.gen++
    this.interned = new Map()
    this.changedAt = Date.now()
  }

  /**
   * Forgets what these fleet objects rendered into and starts a new generation: for a renderer whose output
   * changed while the object did not (a DPUService whose chart finished rendering). No-op before the first fleet,
   * which must stay the thing that makes the planner ready.
   */
  invalidate(objects: readonly ParsedObject[]): void {
    if (!this.ready) return
    for (const obj of objects) this.rendered.delete(obj)
    this.gen++
    this.interned = new Map()
    this.changedAt = Date.now()
  }

  fleetObjects(): readonly ParsedObject[] {
    return this.fleet
  }

  desiredFor(node: DpuNode): DesiredSet {
    const lk = labelsKey(node.labels)
    const hit = this.cache.get(node.name)
    if (hit && hit.set.generation === this.gen && hit.labels === lk) return hit.set
    const objects = new Map<string, WireObject>()
    const hashes = new Map<string, string>()
    const issues: RenderIssue[] = []
    const nodeKey = `${node.name}\0${lk}`
    for (const fleetObj of this.fleet) {
      const r = this.renderOne(fleetObj, node, this.nameDependent(fleetObj) ? nodeKey : lk)
      if ('error' in r) {
        issues.push({ object: objectKey(fleetObj), message: r.error })
        continue
      }
      for (const w of r.objects) {
        if (objects.has(w.key)) {
          issues.push({ object: objectKey(fleetObj), message: `renders ${w.key}, which another fleet object already renders` })
          continue
        }
        objects.set(w.key, w)
        hashes.set(w.key, w.hash)
      }
    }
    // Reuse the previous set when nothing this DPU sees changed, so sessions compare by identity cheaply.
    const hash = hashSet(hashes)
    let set = this.interned.get(hash)
    if (!set) {
      set = hit && hit.set.hash === hash ? { ...hit.set, generation: this.gen, issues } : { hash, objects, hashes, issues, generation: this.gen }
      // Render issues are per DPU; only issue-free sets are shared.
      if (issues.length === 0) this.interned.set(hash, set)
    }
    this.cache.set(node.name, { labels: lk, set })
    return set
  }

  private renderOne(fleetObj: ParsedObject, node: DpuNode, nodeKey: string): Rendered {
    let perNode = this.rendered.get(fleetObj)
    if (!perNode) this.rendered.set(fleetObj, (perNode = new Map()))
    const hit = perNode.get(nodeKey)
    if (hit) return hit
    let result: Rendered
    try {
      result = {
        objects: this.render(fleetObj, node).map((obj): WireObject => {
          const { node: specNode, ...rest } = obj.spec as Record<string, unknown> & { node?: unknown }
          const relative = specNode === node.name
          const object = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata, spec: relative ? rest : obj.spec } as WireObject['object']
          return relative ? { key: objectKey(obj), hash: hashObject(object, true), nodeRelative: true, object } : { key: objectKey(obj), hash: hashObject(object), object }
        }),
      }
    } catch (err) {
      result = { error: err instanceof Error ? err.message : String(err) }
    }
    perNode.set(nodeKey, result)
    return result
  }

  forget(name: string): void {
    this.cache.delete(name)
  }
}
