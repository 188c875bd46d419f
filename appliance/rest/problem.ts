/**
 * The only place where errors meet HTTP: an ApplianceError's `code` is mapped through `ERROR_CODES` to an
 * RFC 9457 problem document (§3: type, title, status, detail, instance; plus our `code`, `errors` and `object`
 * extension members). Anything else is logged with the request id and answered with a bare 500, so internals
 * never leak.
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { ERROR_CODES } from '../../api/error-codes.js'
import { isApplianceError, type ApplianceError, type FieldIssue } from '../../api/errors.js'
import type { AppEnv } from './env.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  instance: string
  code: string
  errors: FieldIssue[]
  /** The object the problem concerns, when the request carried several. */
  object?: { index?: number; apiVersion?: string; kind?: string; namespace?: string; name?: string }
}

function objectOf(err: ApplianceError): Problem['object'] {
  const c = err.context as Record<string, unknown>
  const pick = (k: string) => (typeof c[k] === 'string' || typeof c[k] === 'number' ? c[k] : undefined)
  const o = { index: pick('index'), apiVersion: pick('apiVersion'), kind: pick('kind'), namespace: pick('namespace'), name: pick('name') }
  const present = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
  return Object.keys(present).length > 0 ? (present as Problem['object']) : undefined
}

export function buildProblem(err: ApplianceError, requestId: string): Problem {
  const meaning = ERROR_CODES[err.code]
  const object = objectOf(err)
  return {
    type: `urn:dpu-appliance:problem:${err.code}`,
    title: meaning.title,
    status: meaning.status,
    detail: err.message,
    instance: requestId,
    code: err.code,
    errors: err.issues.map((i) => ({ path: i.path, message: i.message })),
    ...(object ? { object } : {}),
  }
}

export function problemResponse(c: Context<AppEnv>, err: ApplianceError, headers: Record<string, string> = {}): Response {
  const problem = buildProblem(err, c.get('requestId') ?? '')
  return c.body(JSON.stringify(problem), problem.status as ContentfulStatusCode, { 'content-type': PROBLEM_CONTENT_TYPE, ...headers })
}

/** `app.onError`: problem+json for our errors, a logged bare 500 for anything else. */
export function handleError(err: unknown, c: Context<AppEnv>): Response {
  if (isApplianceError(err)) {
    if (ERROR_CODES[err.code].status >= 500) c.get('log')?.error({ err, requestId: c.get('requestId') }, 'request failed')
    const headers: Record<string, string> = err.code === 'rest.unauthorized' ? { 'www-authenticate': 'Bearer realm="dpu-appliance"' } : {}
    // The unread rest of an oversized body would be parsed as the next request on a kept-alive connection.
    if (err.code === 'rest.body-too-large') headers.connection = 'close'
    return problemResponse(c, err, headers)
  }
  c.get('log')?.error({ err, requestId: c.get('requestId') }, 'unhandled error')
  return c.text('Internal Server Error', 500)
}
