/**
 * Encoded push chunks keyed by (what the agent holds, what it should hold), as set hashes. Agents in the same
 * state that need the same change get the same Buffers, so a change is encoded once per distinct delta
 * (go-control-plane's NodeHash idea). Bounded LRU: entries are cheap to rebuild.
 */
import type { WireObject } from '../../api/federation/messages.js'
import { encodeDeltaChunks } from '../wire/chunk.js'

export interface Delta {
  upserts: WireObject[]
  removals: string[]
}

export function computeDelta(held: ReadonlyMap<string, string>, desired: { objects: ReadonlyMap<string, WireObject> }): Delta {
  const upserts: WireObject[] = []
  const removals: string[] = []
  for (const [key, obj] of desired.objects) if (held.get(key) !== obj.hash) upserts.push(obj)
  for (const key of held.keys()) if (!desired.objects.has(key)) removals.push(key)
  upserts.sort((a, b) => (a.key < b.key ? -1 : 1))
  removals.sort()
  return { upserts, removals }
}

export class DeltaCache {
  private readonly entries = new Map<string, Buffer[]>()
  encodes = 0

  constructor(private readonly capacity = 256) {}

  chunksFor(fromHash: string, toHash: string, build: () => Delta): Buffer[] {
    const key = `${fromHash}>${toHash}`
    const hit = this.entries.get(key)
    if (hit) {
      this.entries.delete(key)
      this.entries.set(key, hit)
      return hit
    }
    const { upserts, removals } = build()
    const chunks = encodeDeltaChunks(upserts, removals)
    this.encodes++
    this.entries.set(key, chunks)
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string)
    return chunks
  }
}
