/**
 * Incremental CRC-32 (IEEE 802.3, as zlib): `crc32(chunk, previous)`. Node >= 20.15 has it natively;
 * the running value lets a 1 GiB initramfs be checked one buffer at a time.
 */
import { crc32 as zlibCrc32 } from 'node:zlib'

export function crc32(data: Uint8Array, previous = 0): number {
  return zlibCrc32(data, previous) >>> 0
}
