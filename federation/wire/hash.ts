/**
 * Content hashes: per object (delta and dedupe, as go-control-plane's HashResource) and per desired set
 * (to share one encoding between agents whose state is the same).
 */
import { createHash } from 'node:crypto'
import { encodeCanonical } from './cbor.js'

/** The fields that define an object's desired state; status and server-managed metadata never count. */
export interface HashableObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string | undefined; labels?: Record<string, string> | undefined; annotations?: Record<string, string> | undefined }
  spec: unknown
}

/** 128-bit SHA-256 prefix (hex) of the deterministic CBOR of the object's identity, labels, annotations and spec (and the node-relative flag). */
export function hashObject(obj: HashableObject, nodeRelative = false): string {
  const m = obj.metadata
  const body = {
    ...(nodeRelative ? { nodeRelative: true } : {}),
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { name: m.name, namespace: m.namespace, labels: m.labels, annotations: m.annotations },
    spec: obj.spec,
  }
  return createHash('sha256').update(encodeCanonical(body)).digest('hex').slice(0, 32)
}

/** Hash of a key -> hash map, independent of insertion order. */
export function hashSet(entries: Iterable<[string, string]>): string {
  const sorted = [...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  const h = createHash('sha256')
  for (const [k, v] of sorted) h.update(k).update('\0').update(v).update('\n')
  return h.digest('hex').slice(0, 32)
}
