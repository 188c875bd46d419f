/**
 * Where an image's bytes come from when a BFB is written: memory, a file, a range of a file (an image inside
 * another BFB) or several of these back to back (an initramfs with an appended cpio archive).
 */
import { open, stat } from 'node:fs/promises'
import { BfbIoError } from '../errors.js'
import { forEachChunk, type BufferRing } from './file-range.js'

export type PartSource = { kind: 'bytes'; data: Buffer } | { kind: 'file'; path: string; offset?: number; length?: number } | { kind: 'concat'; parts: PartSource[] }

export const bytesSource = (data: Buffer | string): PartSource => ({
  kind: 'bytes',
  data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data,
})
export const fileSource = (path: string, offset?: number, length?: number): PartSource => ({ kind: 'file', path, offset, length })

/** Total byte length of a source (stats files; reads nothing). */
export async function sourceLength(src: PartSource): Promise<number> {
  switch (src.kind) {
    case 'bytes':
      return src.data.length
    case 'file': {
      if (src.length !== undefined) return src.length
      try {
        return (await stat(src.path)).size - (src.offset ?? 0)
      } catch (err) {
        throw new BfbIoError('cannot read image part', src.path, err)
      }
    }
    case 'concat': {
      let n = 0
      for (const p of src.parts) n += await sourceLength(p)
      return n
    }
  }
}

/** Streams a source's bytes through `onChunk`, reading files into the buffers of `ring`. */
export async function streamSource(src: PartSource, ring: BufferRing, onChunk: (c: Buffer) => Promise<void>): Promise<number> {
  switch (src.kind) {
    case 'bytes':
      if (src.data.length) await onChunk(src.data)
      return src.data.length
    case 'file': {
      let fh
      try {
        fh = await open(src.path, 'r')
      } catch (err) {
        throw new BfbIoError('cannot read image part', src.path, err)
      }
      try {
        const offset = src.offset ?? 0
        const length = src.length ?? (await fh.stat()).size - offset
        return await forEachChunk(fh, offset, length, onChunk, ring)
      } finally {
        await fh.close()
      }
    }
    case 'concat': {
      let n = 0
      for (const p of src.parts) n += await streamSource(p, ring, onChunk)
      return n
    }
  }
}
