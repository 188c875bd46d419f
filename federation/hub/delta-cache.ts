/**
 * Encoded push chunks keyed by (what the agent holds, what it should hold), as set hashes. Agents in the same
 * state that need the same change get the same Buffers, so a change is encoded once per distinct delta
 * (go-control-plane's NodeHash idea). Bounded LRU, by entries and by encoded bytes (issue #14: 256 entries of
 * 3.3 MiB deltas held 1.09 GiB): entries are cheap to rebuild, and a delta larger than the whole byte budget is
 * sent without being cached.
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

export interface DeltaCacheLimits {
  /** Entries kept at most (default 256). */
  maxEntries?: number
  /** Encoded bytes kept at most (default 64 MiB). */
  maxBytes?: number
}

export const DEFAULT_DELTA_CACHE_BYTES = 64 * 1024 * 1024

export class DeltaCache {
  private readonly entries = new Map<string, { chunks: Buffer[]; bytes: number }>()
  private readonly maxEntries: number
  readonly maxBytes: number
  encodes = 0
  /** Encoded bytes held now. */
  bytes = 0

  constructor(limits: DeltaCacheLimits = {}) {
    this.maxEntries = limits.maxEntries ?? 256
    this.maxBytes = limits.maxBytes ?? DEFAULT_DELTA_CACHE_BYTES
  }

  get size(): number {
    return this.entries.size
  }

  chunksFor(fromHash: string, toHash: string, build: () => Delta): Buffer[] {
    const key = `${fromHash}>${toHash}`
    const hit = this.entries.get(key)
    if (hit) {
      this.entries.delete(key)
      this.entries.set(key, hit)
      return hit.chunks
    }
    const { upserts, removals } = build()
    const chunks = encodeDeltaChunks(upserts, removals)
    this.encodes++
    const bytes = chunks.reduce((n, c) => n + c.length, 0)
    if (bytes > this.maxBytes) return chunks
    this.entries.set(key, { chunks, bytes })
    this.bytes += bytes
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next().value as string
      this.bytes -= this.entries.get(oldest)!.bytes
      this.entries.delete(oldest)
    }
    return chunks
  }
}
