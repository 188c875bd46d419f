/**
 * A reproducible ustar writer (POSIX.1-1988 headers, pax `x` records for long names) streamed through gzip.
 * Entries carry fixed owner (0:0 root), fixed mtime and normalised modes, so the same tree gives the same bytes;
 * Node's gzip header has mtime 0 and no file name, which keeps the .tar.gz stable too.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { createGzip, type Gzip } from 'node:zlib'
import { pipeline } from 'node:stream/promises'
import { Writable } from 'node:stream'

export type TarEntry =
  { type: 'dir'; path: string; mode: number } | { type: 'file'; path: string; mode: number; size: number; source: string | Buffer } | { type: 'symlink'; path: string; target: string }

const BLOCK = 512

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0'
}

function splitUstarName(path: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' }
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i)
    const name = path.slice(i + 1)
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name) return { name, prefix }
    if (Buffer.byteLength(name) > 100) return undefined
  }
  return undefined
}

function header(fields: { name: string; prefix?: string; mode: number; size: number; mtime: number; type: string; linkname?: string }): Buffer {
  const h = Buffer.alloc(BLOCK)
  h.write(fields.name, 0, 100, 'utf8')
  h.write(octal(fields.mode & 0o7777, 8), 100, 'ascii')
  h.write(octal(0, 8), 108, 'ascii')
  h.write(octal(0, 8), 116, 'ascii')
  h.write(octal(fields.size, 12), 124, 'ascii')
  h.write(octal(fields.mtime, 12), 136, 'ascii')
  h.fill(0x20, 148, 156)
  h.write(fields.type, 156, 'ascii')
  if (fields.linkname) h.write(fields.linkname, 157, 100, 'utf8')
  h.write('ustar\0' + '00', 257, 'ascii')
  h.write('root', 265, 'ascii')
  h.write('root', 297, 'ascii')
  h.write(octal(0, 8), 329, 'ascii')
  h.write(octal(0, 8), 337, 'ascii')
  if (fields.prefix) h.write(fields.prefix, 345, 155, 'utf8')
  let sum = 0
  for (const b of h) sum += b
  h.write(octal(sum, 7) + ' ', 148, 'ascii')
  return h
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`
  let len = Buffer.byteLength(body) + 1
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body)
  return `${len}${body}`
}

function pad(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK)
}

/** Headers (pax record if needed, then ustar) for one entry. */
export function entryHeaders(e: TarEntry, mtime: number): Buffer[] {
  const path = e.type === 'dir' ? `${e.path.replace(/\/$/, '')}/` : e.path
  const linkname = e.type === 'symlink' ? e.target : undefined
  const split = splitUstarName(path)
  const pax: string[] = []
  if (!split) pax.push(paxRecord('path', path))
  if (linkname && Buffer.byteLength(linkname) > 100) pax.push(paxRecord('linkpath', linkname))
  const out: Buffer[] = []
  if (pax.length) {
    const body = Buffer.from(pax.join(''), 'utf8')
    out.push(header({ name: 'PaxHeader', mode: 0o644, size: body.length, mtime, type: 'x' }), body, pad(body.length))
  }
  const name = split ?? { name: path.slice(0, 100), prefix: '' }
  const mode = e.type === 'symlink' ? 0o777 : e.mode
  const size = e.type === 'file' ? e.size : 0
  const type = e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : '0'
  out.push(header({ ...name, mode, size, mtime, type, linkname: linkname?.slice(0, 100) }))
  return out
}

async function put(gz: Gzip, b: Buffer): Promise<void> {
  if (!gz.write(b)) await once(gz, 'drain')
}

/** Writes `entries` (already in their final order) as a gzip-compressed tar to `outPath`. */
export async function writeTarGz(outPath: string, entries: readonly TarEntry[], mtime = 0): Promise<void> {
  const gz = createGzip({ level: 9 })
  const done = pipeline(gz, createWriteStream(outPath))
  try {
    for (const e of entries) {
      for (const h of entryHeaders(e, mtime)) await put(gz, h)
      if (e.type !== 'file') continue
      if (Buffer.isBuffer(e.source)) await put(gz, e.source)
      else {
        let n = 0
        await pipeline(
          createReadStream(e.source),
          new Writable({
            write(chunk: Buffer, _enc, cb) {
              n += chunk.length
              if (gz.write(chunk)) cb()
              else gz.once('drain', () => cb())
            },
          }),
        )
        if (n !== e.size) throw new Error(`${e.source} changed size while bundling (${e.size} -> ${n})`)
      }
      await put(gz, pad(e.size))
    }
    await put(gz, Buffer.alloc(BLOCK * 2))
    gz.end()
    await done
  } catch (err) {
    gz.destroy()
    await done.catch(() => undefined)
    throw err
  }
}
