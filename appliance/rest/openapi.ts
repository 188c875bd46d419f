/**
 * The appliance's OpenAPI 3.1 document, generated from the routes hono serves (`describeRoutes`): each route's
 * path (`:name` becomes `{name}`, with its path parameter declared), method, operation and security (open unless
 * a `securedBy` middleware covers it), around the components that `api/openapi.ts` generates from the zod schemas.
 */
import type { RouterRoute } from 'hono/types'
import {
  buildOpenApi,
  isSharedParameter,
  parameterRef,
  type JsonObject,
  type OpenApiOperation,
  type OpenApiParameter,
  type OpenApiPathItem,
  type OpenApiReference,
  type OpenApiTag,
} from '../../api/openapi.js'
import { KINDS } from '../../api/resources/registry.js'
import { ApiDescriptionError } from './errors.js'
import { describeRoutes } from './route.js'

/** Every tag an operation may use, in the order the explorer shows them: the API first, then its plumbing. */
const TAGS: readonly OpenApiTag[] = [
  { name: 'appliance', description: 'Discovery, batch apply and delete across kinds, the event log, the appliance status' },
  ...KINDS.map((k) => ({ name: k.kind, description: `${k.apiVersion} ${k.kind} (${k.level} level)` })),
  { name: 'switch', description: 'Observed Open vSwitch state: bridges, installed flows, chain counters, packet traces' },
  { name: 'probes', description: 'Liveness, readiness, version and Prometheus metrics (no token)' },
  { name: 'docs', description: 'This document and the API explorer that renders it (no token)' },
]

/** One hono pattern segment (`:name`, `:name{[0-9]+}`) to its OpenAPI template, or undefined when it is literal. */
function paramOf(segment: string): string | undefined {
  const m = /^:(\w+)(\{.*\})?$/.exec(segment)
  if (!m) {
    if (segment.includes(':') || segment.includes('*')) throw new ApiDescriptionError(`path segment "${segment}" has no OpenAPI form`, { segment })
    return undefined
  }
  return m[1]
}

/** `/a/:b/c` -> `/a/{b}/c` and the path parameter names, in order. */
export function toOpenApiPath(pattern: string): { path: string; params: string[] } {
  const params: string[] = []
  const path = pattern
    .split('/')
    .map((segment) => {
      const p = paramOf(segment)
      if (p === undefined) return segment
      params.push(p)
      return `{${p}}`
    })
    .join('/')
  return { path, params }
}

function isReference(p: OpenApiParameter | OpenApiReference): p is OpenApiReference {
  return '$ref' in p
}

/**
 * The operation's parameters with one entry per path parameter of the route, derived from the path: the
 * operation's own declaration when it has one (an enum, a description), else the shared one, else a string.
 */
function withPathParameters(route: string, params: string[], declared: OpenApiOperation['parameters'] = []): Array<OpenApiParameter | OpenApiReference> {
  const own = new Map(declared.filter((p): p is OpenApiParameter => !isReference(p) && p.in === 'path').map((p) => [p.name, p]))
  for (const name of own.keys()) {
    if (!params.includes(name)) throw new ApiDescriptionError(`${route} declares path parameter "${name}" that its path does not have`, { route, name })
  }
  const pathParams = params.map((name): OpenApiParameter | OpenApiReference => {
    const p = own.get(name)
    if (p) return p
    return isSharedParameter(name) ? parameterRef(name) : { name, in: 'path', required: true, schema: { type: 'string' } }
  })
  const rest = declared.filter((p) => isReference(p) || p.in !== 'path')
  return [...pathParams, ...rest]
}

/** The whole document for the routes of an app (`app.routes` once every sub-app is mounted). */
export function buildApplianceOpenApi(routes: readonly RouterRoute[], options: { version?: string } = {}): JsonObject {
  const paths: Record<string, OpenApiPathItem> = {}
  const ids = new Set<string>()
  const used = new Set<string>()
  for (const r of describeRoutes(routes)) {
    const { path, params } = toOpenApiPath(r.path)
    const where = `${r.method.toUpperCase()} ${path}`
    const item = (paths[path] ??= {})
    if (item[r.method]) throw new ApiDescriptionError(`${where} is registered twice`, { route: where })
    if (ids.has(r.operation.operationId)) throw new ApiDescriptionError(`operationId ${r.operation.operationId} is used twice (${where})`, { route: where })
    ids.add(r.operation.operationId)
    for (const t of r.operation.tags) used.add(t)
    const { parameters: declared, ...operation } = r.operation
    const parameters = withPathParameters(where, params, declared)
    // Each operation states its security as the middleware covering it decides: `[]` when none does.
    item[r.method] = { ...operation, ...(parameters.length > 0 ? { parameters } : {}), security: r.security }
  }
  const unknown = [...used].filter((t) => !TAGS.some((tag) => tag.name === t))
  if (unknown.length > 0) throw new ApiDescriptionError(`tags without a description: ${unknown.join(', ')}`, { tags: unknown })
  return buildOpenApi({ paths, tags: TAGS.filter((t) => used.has(t.name)), ...(options.version ? { version: options.version } : {}) })
}
