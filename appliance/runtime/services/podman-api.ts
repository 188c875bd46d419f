/**
 * A minimal client of podman's libpod REST API over its unix socket (node:http with socketPath): JSON requests,
 * streamed responses, and the multiplexed stdout/stderr framing podman uses for logs and exec without a tty
 * (Docker's attach protocol: an 8-byte header `[stream, 0, 0, 0, size uint32 BE]`, then `size` bytes).
 */
import { request, type IncomingMessage } from 'node:http'
import { PodmanApiError, PodmanUnavailableError } from './errors.js'

/** The libpod API version prefix; podman 4.x serves v4.0.0 paths. */
const API = '/v4.0.0/libpod'

export interface PodmanRequest {
  method?: 'GET' | 'POST' | 'DELETE'
  path: string
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  signal?: AbortSignal
  /** Per request (the default 60 s bounds a hung podman; streams pass 0 for none). */
  timeoutMs?: number
}

function buildPath(path: string, query: PodmanRequest['query']): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.set(k, String(v))
  const s = q.toString()
  return `${API}${path}${s ? `?${s}` : ''}`
}

export class PodmanApi {
  constructor(readonly socketPath: string) {}

  /** Sends a request and resolves with the response once headers arrive (body unread). */
  open(req: PodmanRequest): Promise<IncomingMessage> {
    const path = buildPath(req.path, req.query)
    const method = req.method ?? 'GET'
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body))
    return new Promise((resolve, reject) => {
      const r = request({ socketPath: this.socketPath, path, method, headers: body ? { 'content-type': 'application/json', 'content-length': body.length } : {}, signal: req.signal }, resolve)
      const timeoutMs = req.timeoutMs ?? 60_000
      if (timeoutMs > 0) r.setTimeout(timeoutMs, () => r.destroy(new PodmanUnavailableError(this.socketPath, `${method} ${req.path}: no answer after ${timeoutMs} ms`)))
      r.on('error', (err) => reject(err instanceof PodmanUnavailableError || req.signal?.aborted ? err : new PodmanUnavailableError(this.socketPath, `${method} ${req.path}: ${err.message}`, err)))
      r.end(body)
    })
  }

  /** A JSON request; throws PodmanApiError on a status >= 400 (unless listed in `ok`). */
  async json<T>(req: PodmanRequest, ok: readonly number[] = []): Promise<{ status: number; body: T | undefined }> {
    const res = await this.open(req)
    const text = await readAll(res)
    const status = res.statusCode ?? 0
    if (status >= 400 && !ok.includes(status)) throw new PodmanApiError(req.method ?? 'GET', req.path, status, errorMessage(text))
    if (text.length === 0) return { status, body: undefined }
    try {
      return { status, body: JSON.parse(text.toString('utf8')) as T }
    } catch {
      return { status, body: undefined }
    }
  }

  /** A streamed response with a success status, else PodmanApiError. */
  async stream(req: PodmanRequest): Promise<IncomingMessage> {
    const res = await this.open(req)
    const status = res.statusCode ?? 0
    if (status >= 400) throw new PodmanApiError(req.method ?? 'GET', req.path, status, errorMessage(await readAll(res)))
    return res
  }
}

function errorMessage(text: Buffer): string {
  try {
    const j = JSON.parse(text.toString('utf8')) as { message?: unknown; cause?: unknown }
    return typeof j.message === 'string' ? j.message : String(j.cause ?? '')
  } catch {
    return text.toString('utf8').slice(0, 500)
  }
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of res) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

export interface Frame {
  /** 0 stdin, 1 stdout, 2 stderr (3: podman's system error stream). */
  stream: number
  data: Buffer
}

/** Splits a multiplexed stream into frames as they complete. */
export async function* demultiplex(source: AsyncIterable<Buffer | string>): AsyncGenerator<Frame> {
  let buf = Buffer.alloc(0)
  for await (const chunk of source) {
    buf = Buffer.concat([buf, typeof chunk === 'string' ? Buffer.from(chunk) : chunk])
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4)
      if (buf.length < 8 + size) break
      yield { stream: buf[0] ?? 1, data: buf.subarray(8, 8 + size) }
      buf = buf.subarray(8 + size)
    }
  }
}

/** Reads newline-delimited JSON objects (the events stream). */
export async function* jsonLines(source: AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  let pending = ''
  for await (const chunk of source) {
    pending += chunk.toString()
    let nl: number
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim()
      pending = pending.slice(nl + 1)
      if (line === '') continue
      try {
        yield JSON.parse(line)
      } catch {
        // a malformed line is skipped; the next event still arrives
      }
    }
  }
}
