/**
 * Routes that carry their own OpenAPI operation. `route()` registers a handler and records the operation against
 * the very function the router holds; `describeRoutes(app.routes)` reads them back after `app.route()` has mounted
 * every sub-app, so the document is generated from what the router serves: its paths and methods, and which
 * routes sit behind a middleware marked with `securedBy()`. A route registered any other way (a plain
 * `app.get`) is an error, not a gap in the document.
 *
 * This is hono-openapi's `describeRoute` idea (metadata on the route, document from `app.routes`) without its
 * schema converters (ours come from api/openapi.ts) and without an extra middleware on every request.
 */
import type { Env, Handler, Hono, MiddlewareHandler } from 'hono'
import type { RouterRoute } from 'hono/types'
import { COMPOSED_HANDLER } from 'hono/utils/constants'
import type { HttpMethod, OpenApiOperation, OpenApiSecurityRequirement } from '../../api/openapi.js'
import { ApiDescriptionError } from './errors.js'

export interface RouteSpec<P extends string> {
  method: HttpMethod
  /** hono path pattern, relative to the app the route is registered on (`/things/:name`). */
  path: P
  /** What the route does. Its security is not written here: it follows from the middleware (`securedBy`). */
  operation: Omit<OpenApiOperation, 'security'>
}

/** A served route with its operation; `path` is the full hono pattern, `secured` whether auth middleware covers it. */
export interface DescribedRoute {
  method: HttpMethod
  path: string
  operation: Omit<OpenApiOperation, 'security'>
  /** The requirements of the securing middleware that covers this route; empty when the route is open. */
  security: OpenApiSecurityRequirement[]
}

const OPERATIONS = new WeakMap<object, RouteSpec<string>['operation']>()
const SECURITY = new WeakMap<object, OpenApiSecurityRequirement>()

/**
 * Registers `handler` for `spec.method spec.path` on `app`, described by `spec.operation`.
 * @example route(app, { method: 'get', path: '/healthz', operation: { operationId: 'healthz', ... } }, (c) => c.text('ok'))
 */
export function route<E extends Env, P extends string>(app: Hono<E>, spec: RouteSpec<P>, handler: Handler<E, P>): void {
  // A function of its own per route, so one handler shared by two routes still has two operations; named after
  // the operation so a stack trace says which route threw.
  const name = spec.operation.operationId
  const described = { [name]: (...args: Parameters<Handler<E, P>>) => handler(...args) }[name]!
  OPERATIONS.set(described, spec.operation)
  app.on(spec.method.toUpperCase(), spec.path, described)
}

/** Marks an auth middleware, so every route its path pattern covers is documented with `requirement`. */
export function securedBy<M extends MiddlewareHandler>(middleware: M, requirement: OpenApiSecurityRequirement): M {
  SECURITY.set(middleware, requirement)
  return middleware
}

/** hono's `app.route()` wraps a sub-app's handlers when that sub-app has its own error handler. */
function unwrap(handler: RouterRoute['handler']): object {
  return (handler as unknown as Record<string, RouterRoute['handler'] | undefined>)[COMPOSED_HANDLER] ?? handler
}

/** Whether a middleware path pattern (`*`, `/apis`, `/apis/*`) applies to a route pattern. */
function covers(pattern: string, path: string): boolean {
  if (pattern === '*' || pattern === '/*') return true
  if (pattern.endsWith('/*')) return path === pattern.slice(0, -2) || path.startsWith(pattern.slice(0, -1))
  return pattern === path
}

/**
 * Every route of an app (`app.routes`, after all sub-apps are mounted) with its operation, in registration order.
 * Entries of method ALL are middleware (`app.use`): they carry no operation, only security.
 * @throws ApiDescriptionError naming each route that was registered without `route()`
 */
export function describeRoutes(routes: readonly RouterRoute[]): DescribedRoute[] {
  const middleware = routes.filter((r) => r.method === 'ALL')
  const out: DescribedRoute[] = []
  const undescribed: string[] = []
  for (const r of routes) {
    if (r.method === 'ALL') continue
    const operation = OPERATIONS.get(unwrap(r.handler))
    if (!operation) {
      undescribed.push(`${r.method} ${r.path}`)
      continue
    }
    // Middleware in series all apply, so their requirements are AND-ed: one requirement object (OpenAPI 3.1 §4.8.30).
    const required: OpenApiSecurityRequirement = {}
    for (const m of middleware) {
      const requirement = SECURITY.get(unwrap(m.handler))
      if (requirement && covers(m.path, r.path)) Object.assign(required, requirement)
    }
    const security = Object.keys(required).length > 0 ? [required] : []
    out.push({ method: r.method.toLowerCase() as HttpMethod, path: r.path, operation, security })
  }
  if (undescribed.length > 0) throw new ApiDescriptionError(`routes registered without a description (use route()): ${undescribed.join(', ')}`, { routes: undescribed })
  return out
}
