/**
 * The appliance's HTTP app. Order matters: request id (so every answer, even a 401, carries one), metrics,
 * Host check, body limit, then auth on `/apis` (and on `/metrics` and `/openapi.json` unless `publicMetrics`);
 * probes, version and the explorer page are open.
 * Every route is registered with `route()`, so `/openapi.json` is generated from this app's own routes.
 */
import { hostname } from 'node:os'
import { Hono } from 'hono'
import { BEARER_SCHEME } from '../../api/openapi.js'
import { createHttpMetrics } from '../observe/index.js'
import type { RestDeps } from './deps.js'
import type { AppEnv } from './env.js'
import { RouteNotFoundError } from './errors.js'
import { bearerAuth } from './middleware/auth/index.js'
import { bodyLimit } from './middleware/body-limit/index.js'
import { hostCheck } from './middleware/host-check/index.js'
import { httpMetrics } from './middleware/metrics/index.js'
import { requestId } from './middleware/request-id/index.js'
import { handleError } from './problem.js'
import { describeRoutes, securedBy } from './route.js'
import { batchRoutes } from './routes/batch.js'
import { docsRoutes } from './routes/docs.js'
import { healthRoutes } from './routes/health.js'
import { objectRoutes, unservedKindError } from './routes/objects.js'
import { openApiRoutes } from './routes/openapi.js'
import { serviceRoutes } from './routes/services.js'
import { switchRoutes } from './routes/switch.js'
import { versionRoutes } from './routes/version.js'
import { WatchAdmission } from './watch-limits.js'
import { readVersionInfo } from '../../api/version-info.js'

export function createApp(given: RestDeps): Hono<AppEnv> {
  // One admission for the watch routes and the metrics that report it.
  const deps: RestDeps = { ...given, watchAdmission: given.watchAdmission ?? new WatchAdmission() }
  const app = new Hono<AppEnv>()
  const version = deps.version ?? readVersionInfo()
  app.use('*', requestId({ log: deps.log }))
  app.use('*', httpMetrics({ metrics: createHttpMetrics(deps.registry) }))
  app.use('*', hostCheck({ allowedHosts: [deps.node.name, hostname(), ...(deps.allowedHosts ?? [])] }))
  app.use('*', bodyLimit({ maxBytes: deps.bodyLimitBytes }))
  // Marked, so every route under it is documented as needing the bearer token (and every other one as open).
  const auth = securedBy(bearerAuth({ token: deps.token }), { [BEARER_SCHEME]: [] })
  app.use('/apis', auth)
  app.use('/apis/*', auth)
  // What a scraper or explorer reads tells an attacker the objects and the switch: behind the token unless asked.
  if (!deps.publicMetrics) {
    app.use('/metrics', auth)
    app.use('/openapi.json', auth)
  }

  app.route('/', healthRoutes(deps))
  app.route('/', versionRoutes(version))
  app.route('/', openApiRoutes({ routes: () => app.routes, version: version.gitVersion.replace(/^v/, '') }))
  app.route('/', docsRoutes())
  app.route('/apis', batchRoutes(deps))
  app.route('/apis', switchRoutes(deps))
  app.route('/apis', serviceRoutes(deps))
  app.route('/apis', objectRoutes(deps))

  app.notFound((c) => {
    throw unservedKindError(c.req.path) ?? new RouteNotFoundError(c.req.method, c.req.path)
  })
  app.onError(handleError)
  // A route registered without its description fails here, at start, rather than at the first /openapi.json.
  describeRoutes(app.routes)
  return app
}
