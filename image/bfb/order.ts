/**
 * Canonical image order and merging (reference/image.md §2.5–2.6): table order of §2.4, versions of one id
 * adjacent and ascending, a new part replaces the image with the same (id, version). Unknown ids keep their
 * place after the known image that preceded them in the base stream, since no table says where they belong.
 */
import { canonicalOrder } from './image-ids.js'

export interface OrderedItem {
  id: number
  version: number
}

interface Keyed<T> {
  item: T
  key: [number, number, number, number]
}

/** Orders items canonically; `anchors` gives an unknown id's position hint (from the base stream). */
export function orderImages<T extends OrderedItem>(items: readonly T[], anchors: ReadonlyMap<number, number> = new Map()): T[] {
  const keyed: Keyed<T>[] = items.map((item) => {
    const order = canonicalOrder(item.id)
    if (order !== undefined) return { item, key: [order, 0, 0, item.version] }
    // Unknown: just after the known image it followed; unknown ids among themselves by first appearance.
    const anchor = anchors.get(item.id) ?? -1
    return { item, key: [anchor, 1, item.id, item.version] }
  })
  keyed.sort((a, b) => {
    for (let i = 0; i < 4; i++) if (a.key[i] !== b.key[i]) return a.key[i]! - b.key[i]!
    return 0
  })
  return keyed.map((k) => k.item)
}

/** For each unknown id in a stream, the canonical position of the last known image before it. */
export function unknownAnchors(stream: readonly OrderedItem[]): Map<number, number> {
  const anchors = new Map<number, number>()
  let lastKnown = -1
  for (const img of stream) {
    const order = canonicalOrder(img.id)
    if (order !== undefined) lastKnown = order
    else if (!anchors.has(img.id)) anchors.set(img.id, lastKnown)
  }
  return anchors
}

/** Base images with same-(id, version) parts replaced, plus the new parts, in canonical order. */
export function mergeImages<T extends OrderedItem>(base: readonly T[], parts: readonly T[]): T[] {
  const key = (i: OrderedItem): string => `${i.id}/${i.version}`
  const replaced = new Set(parts.map(key))
  const merged = [...base.filter((b) => !replaced.has(key(b))), ...parts]
  return orderImages(merged, unknownAnchors(base))
}

/** following_images and next_img_ver for a stream in emission order (§2.3). */
export function computeLinks(stream: readonly OrderedItem[]): { following: bigint; nextVersion: number }[] {
  const lastIndexOf = new Map<number, number>()
  stream.forEach((img, i) => lastIndexOf.set(img.id, i))
  let map = 0n
  for (const img of stream) if (img.id < 64) map |= 1n << BigInt(img.id)
  return stream.map((img, i) => {
    // The bit of an id stays set while a later version of the same id is still to come.
    if (lastIndexOf.get(img.id) === i && img.id < 64) map &= ~(1n << BigInt(img.id))
    const next = stream[i + 1]
    return { following: map, nextVersion: next && next.id === img.id ? next.version : 0 }
  })
}
