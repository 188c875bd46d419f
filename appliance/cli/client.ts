/**
 * The HTTP client dpuctl uses to talk to an appliance: `--server URL` / `DPUCTL_SERVER`, `--token-file F` /
 * `DPUCTL_TOKEN_FILE`. Problem+json answers become `ServerProblemError` with the server's code and field issues.
 */
import { ApplianceError } from '../../api/errors.js'
import { ERROR_CODES, type ErrorCode } from '../../api/error-codes.js'
import { readTokenFile } from '../rest/token-file.js'
import { DEFAULT_DATA_DIR, DEFAULT_LISTEN } from './config.js'
import { ServerProblemError } from './errors.js'
import type { CliIO } from '../../api/cli.js'

export const DEFAULT_SERVER = `http://${DEFAULT_LISTEN}`
export const DEFAULT_TOKEN_FILE = `${DEFAULT_DATA_DIR}/token`

/** Flags every client command accepts. */
export const CLIENT_OPTIONS = {
  server: { type: 'string' },
  'token-file': { type: 'string' },
} as const

export class ApplianceClient {
  /** `token` undefined: no Authorization header (the open routes: /version, /healthz). */
  constructor(
    readonly server: string,
    private readonly token: string | undefined,
  ) {}

  /** The server and token from flags, then the environment, then the defaults; `anonymous` reads no token file. */
  static fromFlags(values: { server?: string | undefined; 'token-file'?: string | undefined }, io: CliIO, opts: { anonymous?: boolean } = {}): ApplianceClient {
    const server = (values.server ?? io.env.DPUCTL_SERVER ?? DEFAULT_SERVER).replace(/\/+$/, '')
    if (opts.anonymous) return new ApplianceClient(server, undefined)
    const tokenFile = values['token-file'] ?? io.env.DPUCTL_TOKEN_FILE ?? DEFAULT_TOKEN_FILE
    return new ApplianceClient(server, readTokenFile(tokenFile))
  }

  /** One request; the parsed JSON answer, or a `ServerProblemError` / `rest.unreachable` error. */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, { body })
    const text = await res.text()
    return (text === '' ? undefined : JSON.parse(text)) as T
  }

  /**
   * GET `path` as a stream (server-sent events of `?watch=true`, or `accept` such as text/plain for logs): the
   * open body, read until it ends or `signal` aborts. A refused stream (410 too old, 404) throws as `request` does.
   */
  async stream(path: string, signal: AbortSignal, accept = 'text/event-stream'): Promise<AsyncIterable<Uint8Array>> {
    const res = await this.send('GET', path, { accept, signal })
    if (!res.body) throw new ApplianceError('rest.unreachable', `the appliance at ${this.server} answered ${path} without a body`, { retryable: true })
    return res.body
  }

  private async send(method: string, path: string, opts: { body?: unknown; accept?: string; signal?: AbortSignal }): Promise<Response> {
    const { body } = opts
    let res: Response
    try {
      res = await fetch(`${this.server}${path}`, {
        method,
        headers: {
          ...(this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }),
          accept: opts.accept ?? 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(opts.signal ? { signal: opts.signal } : {}),
      })
    } catch (err) {
      if (opts.signal?.aborted) throw err
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      throw new ApplianceError('rest.unreachable', `cannot reach the appliance at ${this.server}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, {
        cause: err,
        retryable: true,
      })
    }
    if (res.ok) return res
    const text = await res.text()
    let problem: Record<string, unknown> = {}
    try {
      problem = JSON.parse(text) as Record<string, unknown>
    } catch {
      problem = { detail: text.trim() || res.statusText }
    }
    const code = (typeof problem.code === 'string' && problem.code in ERROR_CODES ? problem.code : 'rest.not-found') as ErrorCode
    const issues = Array.isArray(problem.errors) ? (problem.errors as { path: string; message: string }[]) : []
    throw new ServerProblemError(code, String(problem.detail ?? problem.title ?? res.statusText), res.status, problem, issues)
  }
}
