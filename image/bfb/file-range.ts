/**
 * Streams a byte range of an open file through a small ring of reused buffers, so memory stays constant
 * whatever the size. A consumer that hands a buffer to an asynchronous write `hold`s it until the write
 * settles; the next read into that buffer waits for it. This is what lets reading, CRC and writing overlap.
 */
import type { FileHandle } from 'node:fs/promises'

export const CHUNK_BYTES = 4 << 20

export class BufferRing {
  private readonly buffers: Buffer[]
  private readonly busy: (Promise<unknown> | undefined)[]
  private next = 0

  constructor(count = 1, size = CHUNK_BYTES) {
    this.buffers = Array.from({ length: count }, () => Buffer.allocUnsafe(size))
    this.busy = this.buffers.map(() => undefined)
  }

  /** The next buffer, once whatever held it has settled. */
  async take(): Promise<Buffer> {
    const i = this.next
    this.next = (i + 1) % this.buffers.length
    const held = this.busy[i]
    if (held) {
      this.busy[i] = undefined
      await held.catch(() => undefined)
    }
    return this.buffers[i]!
  }

  /** Keeps `buffer` from being reused until `until` settles. */
  hold(buffer: Buffer, until: Promise<unknown>): void {
    const i = this.buffers.findIndex((b) => b.buffer === buffer.buffer)
    if (i >= 0) this.busy[i] = until
  }

  /** Waits for every held buffer. */
  async drain(): Promise<void> {
    await Promise.all(this.busy.map((b) => b?.catch(() => undefined)))
  }
}

/** Calls `onChunk` with successive views of [offset, offset+length); a view is valid until `onChunk` returns unless held. */
export async function forEachChunk(
  fh: FileHandle,
  offset: number,
  length: number,
  onChunk: (chunk: Buffer) => void | Promise<void>,
  ring: BufferRing = new BufferRing(1, Math.min(CHUNK_BYTES, Math.max(length, 1))),
): Promise<number> {
  let done = 0
  while (done < length) {
    const buffer = await ring.take()
    const want = Math.min(buffer.length, length - done)
    const { bytesRead } = await fh.read(buffer, 0, want, offset + done)
    if (bytesRead === 0) break
    await onChunk(buffer.subarray(0, bytesRead))
    done += bytesRead
  }
  return done
}
