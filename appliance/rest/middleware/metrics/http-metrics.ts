import type { MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import type { HttpMetrics } from '../../../observe/index.js'
import type { AppEnv } from '../../env.js'

/** Counts requests and observes latency, labelled by the route pattern (never the raw path: bounded cardinality). */
export const httpMetrics = ({ metrics }: { metrics: HttpMetrics }): MiddlewareHandler<AppEnv> =>
  async function httpMetrics(c, next) {
    const start = process.hrtime.bigint()
    try {
      await next()
    } finally {
      const route = matchedRoutes(c)[c.req.routeIndex]?.path ?? 'unmatched'
      const seconds = Number(process.hrtime.bigint() - start) / 1e9
      metrics.requests.inc({ method: c.req.method, route, status: String(c.res.status) })
      metrics.latency.observe({ method: c.req.method, route }, seconds)
    }
  }
