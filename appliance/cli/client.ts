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
  constructor(
    readonly server: string,
    private readonly token: string,
  ) {}

  static fromFlags(values: { server?: string | undefined; 'token-file'?: string | undefined }, io: CliIO): ApplianceClient {
    const server = (values.server ?? io.env.DPUCTL_SERVER ?? DEFAULT_SERVER).replace(/\/+$/, '')
    const tokenFile = values['token-file'] ?? io.env.DPUCTL_TOKEN_FILE ?? DEFAULT_TOKEN_FILE
    return new ApplianceClient(server, readTokenFile(tokenFile))
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response
    try {
      res = await fetch(`${this.server}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      throw new ApplianceError('rest.unreachable', `cannot reach the appliance at ${this.server}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, {
        cause: err,
        retryable: true,
      })
    }
    const text = await res.text()
    if (res.ok) return (text === '' ? undefined : JSON.parse(text)) as T
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
