/**
 * BFB writer (reference/image.md §2.9). One pass over the inputs: each header is first skipped, the payload is
 * streamed through a ring of four reused buffers (reads and CRC overlap the writes), then the header is written into its slot. Memory is
 * constant whatever the image size; the output must therefore be a seekable file, written beside the target and
 * renamed into place so a failed build never leaves a half BFB under the final name.
 */
import { open, rename, unlink } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { BfbCrcError, BfbFormatError, BfbIoError, ImageInputError } from '../errors.js'
import { crc32 } from './crc32.js'
import { BufferRing } from './file-range.js'
import { BFB_HEADER_BYTES, BFB_MAX_IMAGE_BYTES, encodeHeader, paddingFor } from './header.js'
import { imageName } from './image-ids.js'
import { computeLinks } from './order.js'
import { sourceLength, streamSource, type PartSource } from './source.js'

export interface BfbPart {
  id: number
  version: number
  source: PartSource
  /** CRC the copied bytes must give (an image taken from a base BFB): checks the base without a second pass. */
  expectedCrc?: number
}

export interface WriteBfbOptions {
  /** Raw bytes appended after the last image (bf.cfg, Ignition), as `cat bfb cfg` would. */
  trailer?: PartSource
  onProgress?: (done: number, total: number) => void
}

export interface WrittenImage {
  id: number
  version: number
  length: number
  crc: number
  offset: number
}

/** Writes `parts` in the given order (see `orderImages`/`mergeImages`) to `outPath`. */
export async function writeBfb(outPath: string, parts: readonly BfbPart[], options: WriteBfbOptions = {}): Promise<WrittenImage[]> {
  if (parts.length === 0) throw new ImageInputError('a BFB needs at least one image')
  const lengths: number[] = []
  for (const p of parts) {
    const n = await sourceLength(p.source)
    if (n > BFB_MAX_IMAGE_BYTES) {
      throw new ImageInputError(`image ${p.id} (${imageName(p.id)}) is ${n} bytes; a BFB image holds at most 4 GiB - 1`, { id: p.id })
    }
    if (p.version < 0 || p.version > 15) throw new ImageInputError(`image ${p.id}: version ${p.version} outside 0..15`)
    lengths.push(n)
  }
  const trailerLength = options.trailer ? await sourceLength(options.trailer) : 0
  const total = lengths.reduce((a, n) => a + BFB_HEADER_BYTES + n + paddingFor(n), 0) + trailerLength
  const links = computeLinks(parts)
  const tmp = join(dirname(outPath), `.${basename(outPath)}.${process.pid}.tmp`)
  let fh
  try {
    fh = await open(tmp, 'w')
  } catch (err) {
    throw new BfbIoError('cannot create output', outPath, err)
  }
  const written: WrittenImage[] = []
  // Reads and CRC of the next chunks run while earlier chunks are written; writes stay one at a time and in
  // order, since concurrent buffered writes to one file only contend for its inode lock.
  const ring = new BufferRing(4, 1 << 20)
  let lastWrite: Promise<void> = Promise.resolve()
  let writeError: unknown
  let pos = 0
  let lastReport = 0
  const report = (): void => {
    if (options.onProgress && (pos - lastReport >= 64 << 20 || pos === total)) {
      lastReport = pos
      options.onProgress(pos, total)
    }
  }
  try {
    const out = fh
    const writeAll = async (chunk: Buffer, at: number): Promise<void> => {
      let off = 0
      while (off < chunk.length) {
        const { bytesWritten } = await out.write(chunk, off, chunk.length - off, at + off)
        off += bytesWritten
      }
    }
    // Starts the write and returns; the ring keeps the buffer until the write settles.
    const put = async (chunk: Buffer): Promise<void> => {
      if (writeError) throw writeError
      const at = pos
      const p = lastWrite
        .then(() => writeAll(chunk, at))
        .catch((err: unknown) => {
          writeError ??= err
        })
      lastWrite = p
      ring.hold(chunk, p)
      pos += chunk.length
      report()
    }
    for (const [i, part] of parts.entries()) {
      const headerAt = pos
      pos += BFB_HEADER_BYTES
      let crc = 0
      const got = await streamSource(part.source, ring, async (c) => {
        crc = crc32(c, crc)
        await put(c)
      })
      const length = lengths[i]!
      if (got !== length) {
        throw new BfbFormatError(`input changed while writing: expected ${length} bytes, read ${got}`, {
          offset: headerAt,
          imageId: part.id,
          imageName: imageName(part.id),
          imageIndex: i,
        })
      }
      const pad = paddingFor(length)
      if (pad) {
        const zeros = Buffer.alloc(pad)
        crc = crc32(zeros, crc)
        await put(zeros)
      }
      if (part.expectedCrc !== undefined && part.expectedCrc !== crc) {
        throw new BfbCrcError({ offset: headerAt, imageId: part.id, imageName: imageName(part.id), imageIndex: i }, part.expectedCrc, crc)
      }
      const header = encodeHeader({ id: part.id, version: part.version, length, crc, ...links[i]! })
      await writeAll(header, headerAt)
      written.push({ id: part.id, version: part.version, length, crc, offset: headerAt })
    }
    if (options.trailer) await streamSource(options.trailer, ring, put)
    await lastWrite
    if (writeError) throw writeError
    await out.truncate(pos)
    await out.close()
    fh = undefined
    await rename(tmp, outPath)
    return written
  } catch (err) {
    await lastWrite
    await fh?.close().catch(() => undefined)
    await unlink(tmp).catch(() => undefined)
    if (err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'string' && !('context' in err)) {
      throw new BfbIoError('cannot write BFB', outPath, err)
    }
    throw err
  }
}
