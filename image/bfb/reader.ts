/**
 * BFB reader: walks the headers of a stream (reference/image.md §2.8) without loading payloads, verifies CRCs
 * one buffer at a time, and splits off a trailer (bf.cfg or Ignition appended after the last image).
 *
 * A trailer starts where a header lacks the magic, or where fewer than 24 bytes remain after an image: text
 * and JSON can never begin with "Bf\x02\x13". In strict mode (verify) a trailer is an error instead.
 */
import { open, type FileHandle } from 'node:fs/promises'
import { BfbCrcError, BfbFormatError, BfbIoError, hex32 } from '../errors.js'
import { crc32 } from './crc32.js'
import { BufferRing, forEachChunk } from './file-range.js'
import { BFB_HEADER_BYTES, BFB_MAJOR, BFB_MINOR, decodeHeader, paddingFor, type BfbHeader } from './header.js'
import { imageName } from './image-ids.js'

export interface BfbEntry extends BfbHeader {
  index: number
  name: string
  /** Byte offset of the header. */
  offset: number
  payloadOffset: number
  padding: number
  /** Offset just past the padding: the next header. */
  end: number
}

export interface BfbTrailer {
  offset: number
  length: number
}

export interface BfbLayout {
  path: string
  size: number
  images: BfbEntry[]
  trailer?: BfbTrailer
}

export interface ReadLayoutOptions {
  /** Treat bytes after the last image as an error (verify) instead of a trailer (inspect, split, merge). */
  strict?: boolean
}

async function openForRead(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r')
  } catch (err) {
    throw new BfbIoError('cannot open BFB', path, err)
  }
}

/** Reads every header of the stream at `path`; payloads are skipped, not read. */
export async function readBfbLayout(path: string, options: ReadLayoutOptions = {}): Promise<BfbLayout> {
  const fh = await openForRead(path)
  try {
    return await readLayoutFrom(fh, path, options)
  } finally {
    await fh.close()
  }
}

async function readLayoutFrom(fh: FileHandle, path: string, { strict = false }: ReadLayoutOptions): Promise<BfbLayout> {
  const size = (await fh.stat()).size
  if (size === 0) throw new BfbFormatError('empty file: a BFB holds at least one 24-byte header', { offset: 0 })
  const images: BfbEntry[] = []
  const head = Buffer.alloc(BFB_HEADER_BYTES)
  let pos = 0
  const last = (): { imageId?: number; imageName?: string; imageIndex?: number } => {
    const prev = images.at(-1)
    return prev ? { imageId: prev.id, imageName: prev.name, imageIndex: prev.index } : {}
  }
  const trailerOrError = (what: string): BfbLayout => {
    if (images.length === 0) throw new BfbFormatError(`not a BFB: ${what}`, { offset: pos })
    if (strict) throw new BfbFormatError(`${size - pos} bytes after the last image: ${what}`, { offset: pos, ...last() })
    return { path, size, images, trailer: { offset: pos, length: size - pos } }
  }
  while (pos < size) {
    if (size - pos < BFB_HEADER_BYTES) return trailerOrError(`header too short (${size - pos} of 24 bytes)`)
    await fh.read(head, 0, BFB_HEADER_BYTES, pos)
    const h = decodeHeader(head)
    if (!h) return trailerOrError(`bad magic 0x${hex32(head.readUInt32LE(0))}`)
    const here = { offset: pos, imageId: h.id, imageName: imageName(h.id), imageIndex: images.length }
    if (h.major !== BFB_MAJOR) throw new BfbFormatError(`unsupported header major version ${h.major}`, here)
    if (h.minor > BFB_MINOR) throw new BfbFormatError(`unsupported header minor version ${h.minor}`, here)
    if (h.headerWords < 3) throw new BfbFormatError(`header length ${h.headerWords} words, need at least 3`, here)
    // hdr_len > 3: newer writers may add words; skip them as ATF and mlxbf-bootctl do.
    const payloadOffset = pos + h.headerWords * 8
    if (payloadOffset > size) throw new BfbFormatError(`header of ${h.headerWords} words truncated`, here)
    const padding = paddingFor(h.length)
    if (payloadOffset + h.length > size) {
      throw new BfbFormatError(`image truncated: header says ${h.length} bytes, ${size - payloadOffset} present`, { ...here, offset: payloadOffset })
    }
    if (payloadOffset + h.length + padding > size) {
      throw new BfbFormatError(`padding missing: ${padding} zero bytes expected after the payload, ${size - payloadOffset - h.length} present`, { ...here, offset: payloadOffset + h.length })
    }
    const end = payloadOffset + h.length + padding
    images.push({ ...h, index: images.length, name: imageName(h.id), offset: pos, payloadOffset, padding, end })
    pos = end
  }
  return { path, size, images }
}

export interface ImageCheck {
  entry: BfbEntry
  actualCrc: number
  ok: boolean
}

export interface VerifyOptions extends ReadLayoutOptions {
  onProgress?: (done: number, total: number) => void
}

/** Computes every image's CRC over payload plus padding, streaming; returns one check per image. */
export async function checkBfb(path: string, options: VerifyOptions = {}): Promise<{ layout: BfbLayout; checks: ImageCheck[] }> {
  const fh = await openForRead(path)
  try {
    const layout = await readLayoutFrom(fh, path, options)
    const checks: ImageCheck[] = []
    const ring = new BufferRing(1)
    for (const entry of layout.images) {
      let crc = 0
      await forEachChunk(
        fh,
        entry.payloadOffset,
        entry.length + entry.padding,
        (c) => {
          crc = crc32(c, crc)
        },
        ring,
      )
      checks.push({ entry, actualCrc: crc, ok: crc === entry.crc })
      options.onProgress?.(entry.end, layout.size)
    }
    return { layout, checks }
  } finally {
    await fh.close()
  }
}

/** Throws the first problem of the stream (format, then CRC, in stream order); resolves with the layout. */
export async function verifyBfb(path: string, options: VerifyOptions = { strict: true }): Promise<BfbLayout> {
  const { layout, checks } = await checkBfb(path, { strict: true, ...options })
  const bad = checks.find((c) => !c.ok)
  if (bad) {
    const e = bad.entry
    throw new BfbCrcError({ offset: e.offset, imageId: e.id, imageName: e.name, imageIndex: e.index }, e.crc, bad.actualCrc)
  }
  return layout
}

/** Streams one image's payload (without padding) to `onChunk`. */
export async function readImagePayload(path: string, entry: BfbEntry, onChunk: (c: Buffer) => void | Promise<void>): Promise<void> {
  const fh = await openForRead(path)
  try {
    await forEachChunk(fh, entry.payloadOffset, entry.length, onChunk)
  } finally {
    await fh.close()
  }
}

/** Reads the trailer (bf.cfg, Ignition) into memory; trailers are small (DPF caps bf.cfg at 128 KiB). */
export async function readTrailer(path: string, trailer: BfbTrailer): Promise<Buffer> {
  const fh = await openForRead(path)
  try {
    const b = Buffer.alloc(trailer.length)
    await fh.read(b, 0, trailer.length, trailer.offset)
    return b
  } finally {
    await fh.close()
  }
}
