/**
 * The appliance's HTTP app. Order matters: request id (so every answer, even a 401, carries one), metrics,
 * body limit, then auth on `/apis` only; probes, metrics, /version and the API description are open.
 */
import { Hono } from 'hono'
import { createHttpMetrics } from '../observe/index.js'
import type { RestDeps } from './deps.js'
import type { AppEnv } from './env.js'
import { RouteNotFoundError } from './errors.js'
import { bearerAuth } from './middleware/auth/index.js'
import { bodyLimit } from './middleware/body-limit/index.js'
import { httpMetrics } from './middleware/metrics/index.js'
import { requestId } from './middleware/request-id/index.js'
import { handleError } from './problem.js'
import { batchRoutes } from './routes/batch.js'
import { healthRoutes } from './routes/health.js'
import { objectRoutes } from './routes/objects.js'
import { openApiRoutes } from './routes/openapi.js'
import { switchRoutes } from './routes/switch.js'
import { versionRoutes } from './routes/version.js'

export function createApp(deps: RestDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use('*', requestId({ log: deps.log }))
  app.use('*', httpMetrics({ metrics: createHttpMetrics(deps.registry) }))
  app.use('*', bodyLimit({ maxBytes: deps.bodyLimitBytes }))
  const auth = bearerAuth({ token: deps.token })
  app.use('/apis', auth)
  app.use('/apis/*', auth)

  app.route('/', healthRoutes(deps))
  app.route('/', openApiRoutes())
  app.route('/', versionRoutes())
  app.route('/apis', batchRoutes(deps))
  app.route('/apis', switchRoutes(deps))
  app.route('/apis', objectRoutes(deps))

  app.notFound((c) => {
    throw new RouteNotFoundError(c.req.method, c.req.path)
  })
  app.onError(handleError)
  return app
}
