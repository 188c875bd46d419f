/**
 * Splits a revision's delta into push chunks under the size limit (KEP-3157: stream snapshots item by item
 * with bounded buffers, never one huge message). The bookmark that closes a revision is per agent and is
 * encoded separately; chunks hold no per-agent field so their bytes can be shared.
 */
import { CHUNK_TARGET_BYTES, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, type WireObject } from '../../api/federation/messages.js'
import { encodeCanonical } from './cbor.js'
import { encodeHubMessage } from './codec.js'
import { MessageTooLargeError } from './errors.js'

/** Message overhead besides the objects: header fields and array headers, generously rounded up. */
const ENVELOPE_BYTES = 64

/** Returns the encoded push chunks for a delta; empty when there is nothing to send. */
export function encodeDeltaChunks(
  upserts: readonly WireObject[],
  removals: readonly string[],
  { target = CHUNK_TARGET_BYTES, limit = MAX_MESSAGE_BYTES }: { target?: number; limit?: number } = {},
): Buffer[] {
  // Small deltas (the common case: one changed object) go out as one chunk without sizing each object.
  if (upserts.length + removals.length <= 64) {
    const whole = encodeHubMessage({ v: PROTOCOL_VERSION, type: 'push', seq: 0, upserts: [...upserts], removals: [...removals] }, Number.MAX_SAFE_INTEGER)
    if (whole.length === 0 || (upserts.length === 0 && removals.length === 0)) return []
    if (whole.length <= target) return [whole]
  }
  const chunks: Buffer[] = []
  let batch: WireObject[] = []
  let batchRemovals: string[] = []
  let size = ENVELOPE_BYTES
  const flush = (): void => {
    if (batch.length === 0 && batchRemovals.length === 0) return
    chunks.push(encodeHubMessage({ v: PROTOCOL_VERSION, type: 'push', seq: chunks.length, upserts: batch, removals: batchRemovals }, limit))
    batch = []
    batchRemovals = []
    size = ENVELOPE_BYTES
  }
  for (const obj of upserts) {
    const n = encodeCanonical(obj).length
    if (n + ENVELOPE_BYTES > limit) throw new MessageTooLargeError(n + ENVELOPE_BYTES, limit)
    if (size + n > target && batch.length + batchRemovals.length > 0) flush()
    batch.push(obj)
    size += n
  }
  for (const key of removals) {
    const n = key.length + 3
    if (size + n > target && batch.length + batchRemovals.length > 0) flush()
    batchRemovals.push(key)
    size += n
  }
  flush()
  return chunks
}
