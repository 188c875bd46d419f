/**
 * The 24-byte BFB image header (reference/image.md §2.2): three little-endian u64 words.
 *   w0: magic (32) | major (4) | minor (4) | reserved (4) | next_img_ver (4) | cur_img_ver (4) | hdr_len (4) | id (8)
 *   w1: image_len (32) | image_crc (32)
 *   w2: following_images bitmap
 */
export const BFB_MAGIC = 0x13026642
export const BFB_HEADER_BYTES = 24
export const BFB_MAJOR = 1
/** Minor 2 added the version nibbles; readers reject anything newer (mlx-mkbfb does too). */
export const BFB_MINOR = 2
export const BFB_HEADER_WORDS = 3
export const BFB_MAX_IMAGE_BYTES = 0xffffffff

export interface BfbHeader {
  major: number
  minor: number
  nextVersion: number
  version: number
  /** Header length in 8-byte words; >3 means extra words follow that readers skip. */
  headerWords: number
  id: number
  length: number
  crc: number
  following: bigint
}

/** Zero padding after a payload so that the next header starts on an 8-byte boundary. */
export function paddingFor(length: number): number {
  return (8 - (length % 8)) % 8
}

export function encodeHeader(h: Omit<BfbHeader, 'major' | 'minor' | 'headerWords'>): Buffer {
  const b = Buffer.alloc(BFB_HEADER_BYTES)
  b.writeUInt32LE(BFB_MAGIC, 0)
  b[4] = BFB_MAJOR | (BFB_MINOR << 4)
  b[5] = (h.nextVersion & 0xf) << 4
  b[6] = (h.version & 0xf) | (BFB_HEADER_WORDS << 4)
  b[7] = h.id & 0xff
  b.writeUInt32LE(h.length >>> 0, 8)
  b.writeUInt32LE(h.crc >>> 0, 12)
  b.writeBigUInt64LE(h.following, 16)
  return b
}

/** Decodes 24 bytes; returns undefined when the magic is absent (the start of a trailer). */
export function decodeHeader(b: Buffer): BfbHeader | undefined {
  if (b.length < BFB_HEADER_BYTES || b.readUInt32LE(0) !== BFB_MAGIC) return undefined
  const minor = b[4]! >> 4
  // Minor < 2 headers have no version nibbles: that part of w0 is reserved.
  const versioned = minor >= 2
  return {
    major: b[4]! & 0xf,
    minor,
    nextVersion: versioned ? b[5]! >> 4 : 0,
    version: versioned ? b[6]! & 0xf : 0,
    headerWords: b[6]! >> 4,
    id: b[7]!,
    length: b.readUInt32LE(8),
    crc: b.readUInt32LE(12),
    following: b.readBigUInt64LE(16),
  }
}
