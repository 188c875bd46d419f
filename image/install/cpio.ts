/**
 * A newc cpio archive ("070701") around files that stay on disk, for appending to an initramfs: the kernel
 * unpacks concatenated archives (compressed or not) in order, skipping NUL padding at 4-byte boundaries.
 */
import { bytesSource, fileSource, type PartSource } from '../bfb/source.js'

const pad4 = (n: number): number => (4 - (n % 4)) % 4

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0')
}

function newcHeader(ino: number, mode: number, size: number, name: string): Buffer {
  const nameBytes = Buffer.from(name + '\0', 'utf8')
  const fields = [ino, mode, 0, 0, mode & 0o040000 ? 2 : 1, 0, size, 0, 0, 0, 0, nameBytes.length, 0]
  const head = Buffer.from('070701' + fields.map(hex8).join(''), 'ascii')
  return Buffer.concat([head, nameBytes, Buffer.alloc(pad4(head.length + nameBytes.length))])
}

export type CpioEntry = { type: 'dir'; name: string } | { type: 'file'; name: string; path: string; size: number; mode?: number }

/** The archive as a streamable source (file contents are read when written). */
export function cpioSource(entries: readonly CpioEntry[]): PartSource {
  const parts: PartSource[] = []
  let ino = 1
  for (const e of entries) {
    if (e.type === 'dir') parts.push(bytesSource(newcHeader(ino++, 0o040755, 0, e.name)))
    else {
      parts.push(bytesSource(newcHeader(ino++, 0o100000 | (e.mode ?? 0o644), e.size, e.name)))
      parts.push(fileSource(e.path, 0, e.size))
      if (pad4(e.size)) parts.push(bytesSource(Buffer.alloc(pad4(e.size))))
    }
  }
  parts.push(bytesSource(newcHeader(0, 0, 0, 'TRAILER!!!')))
  return { kind: 'concat', parts }
}

export { pad4 }
