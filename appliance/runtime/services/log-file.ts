/**
 * A container's log on disk: one line per output line, `<ISO 8601 time> <text>`, so `since` can filter without
 * an index. The file is bounded: past `maxBytes` it is renamed to `<path>.1` (one old file kept, the previous
 * `.1` dropped) and a new file is started, so a chatty service costs at most twice `maxBytes` of disk.
 *
 * `LogFileWriter` is fed raw output chunks; it holds a partial last line until its newline arrives (or `flush()`).
 * `readLogFile` reads both files back for `logs()`: oldest first, with `tail`, `since` and `follow`.
 */
import { closeSync, fstatSync, openSync, renameSync, writeSync } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

export const DEFAULT_LOG_MAX_BYTES = 1024 * 1024

/** Appends timestamped lines; writes are synchronous and small, so lines of one container never interleave. */
export class LogFileWriter {
  private fd: number
  private size: number
  private partial = ''

  constructor(
    readonly path: string,
    private readonly maxBytes = DEFAULT_LOG_MAX_BYTES,
  ) {
    this.fd = openSync(path, 'a', 0o640)
    this.size = fstatSync(this.fd).size
  }

  /** Adds output; complete lines are written at once with the time they arrived. */
  write(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString('utf8')
    const end = text.lastIndexOf('\n')
    if (end < 0) {
      this.partial = text
      return
    }
    this.partial = text.slice(end + 1)
    this.writeLines(text.slice(0, end).split('\n'))
  }

  /** A line written by the runtime itself (start failures), same format as the container's own output. */
  note(line: string): void {
    this.writeLines([line])
  }

  /** Writes a pending partial line (the process ended without a final newline). */
  flush(): void {
    if (this.partial === '') return
    const line = this.partial
    this.partial = ''
    this.writeLines([line])
  }

  close(): void {
    this.flush()
    closeSync(this.fd)
  }

  private writeLines(lines: string[]): void {
    const now = new Date().toISOString()
    const data = Buffer.from(lines.map((l) => `${now} ${l}\n`).join(''), 'utf8')
    if (this.size > 0 && this.size + data.length > this.maxBytes) this.rotate()
    writeSync(this.fd, data)
    this.size += data.length
  }

  private rotate(): void {
    closeSync(this.fd)
    renameSync(this.path, `${this.path}.1`)
    this.fd = openSync(this.path, 'a', 0o640)
    this.size = 0
  }
}

export interface ReadLogOptions {
  tail?: number
  since?: Date
  follow?: boolean
  signal?: AbortSignal
  /** How often `follow` looks for appended data. */
  pollMs?: number
}

interface Line {
  time: number
  text: string
}

function parseLine(raw: string): Line {
  const space = raw.indexOf(' ')
  const time = space > 0 ? Date.parse(raw.slice(0, space)) : Number.NaN
  return Number.isNaN(time) ? { time: 0, text: raw } : { time, text: raw.slice(space + 1) }
}

async function readWhole(path: string): Promise<{ text: string; ino: number | undefined; size: number }> {
  const fh = await open(path, 'r').catch(() => undefined)
  if (fh === undefined) return { text: '', ino: undefined, size: 0 }
  try {
    const st = await fh.stat()
    const buf = Buffer.alloc(st.size)
    const { bytesRead } = await fh.read(buf, 0, st.size, 0)
    return { text: buf.subarray(0, bytesRead).toString('utf8'), ino: st.ino, size: bytesRead }
  } finally {
    await fh.close()
  }
}

async function readFrom(path: string, offset: number): Promise<{ data: Buffer; ino: number | undefined; size: number }> {
  const fh = await open(path, 'r').catch(() => undefined)
  if (fh === undefined) return { data: Buffer.alloc(0), ino: undefined, size: 0 }
  try {
    const st = await fh.stat()
    if (st.size <= offset) return { data: Buffer.alloc(0), ino: st.ino, size: st.size }
    const buf = Buffer.alloc(st.size - offset)
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset)
    return { data: buf.subarray(0, bytesRead), ino: st.ino, size: offset + bytesRead }
  } finally {
    await fh.close()
  }
}

function toOutput(lines: Line[]): Buffer {
  return Buffer.from(lines.map((l) => `${l.text}\n`).join(''), 'utf8')
}

/** The log's lines without their timestamps, oldest first; with `follow`, then new lines until the signal aborts. */
export async function* readLogFile(path: string, options: ReadLogOptions = {}): AsyncGenerator<Buffer> {
  const since = options.since?.getTime()
  const old = await readWhole(`${path}.1`)
  const current = await readWhole(path)
  const complete = current.text.lastIndexOf('\n') + 1
  let lines = (old.text + current.text.slice(0, complete))
    .split('\n')
    .filter((l) => l !== '')
    .map(parseLine)
  if (since !== undefined) lines = lines.filter((l) => l.time >= since)
  if (options.tail !== undefined) lines = options.tail === 0 ? [] : lines.slice(-options.tail)
  if (lines.length > 0) yield toOutput(lines)
  if (options.follow !== true) return

  // Follow: poll the file for growth. A rotation shows as a new inode: the rest of the old file is now `.1`.
  let ino = current.ino
  let offset = Buffer.byteLength(current.text.slice(0, complete), 'utf8')
  let pending = ''
  const signal = options.signal
  const aborted = (): boolean => signal?.aborted === true
  while (!aborted()) {
    await sleep(options.pollMs ?? 200, undefined, { signal }).catch(() => undefined)
    if (aborted()) break
    const st = await stat(path).catch(() => undefined)
    let chunk = ''
    if (st !== undefined && ino !== undefined && st.ino !== ino) {
      // Rotated once: the file we read is `.1` now, go on from our offset. Rotated twice while we slept: what we
      // had been reading is gone and `.1` is another file, read it whole (never from an offset into another file).
      const old = await stat(`${path}.1`).catch(() => undefined)
      const rest = await readFrom(`${path}.1`, old?.ino === ino ? offset : 0)
      chunk += rest.data.toString('utf8')
      offset = 0
    }
    const next = await readFrom(path, offset)
    ino = next.ino ?? ino
    offset = next.size === 0 && next.ino === undefined ? offset : Math.max(offset, next.size)
    chunk += next.data.toString('utf8')
    if (chunk === '') continue
    const text = pending + chunk
    const end = text.lastIndexOf('\n')
    if (end < 0) {
      pending = text
      continue
    }
    pending = text.slice(end + 1)
    const fresh = text
      .slice(0, end)
      .split('\n')
      .filter((l) => l !== '')
      .map(parseLine)
    if (fresh.length > 0) yield toOutput(fresh)
  }
}
