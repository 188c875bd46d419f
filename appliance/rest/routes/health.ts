/**
 * Unauthenticated probes and metrics: `/healthz` (the process answers), `/readyz` (every readiness check
 * passes; the store's is built in), `/metrics` (Prometheus text).
 */
import { Hono } from 'hono'
import { jsonContent, problemResponses, type JsonObject } from '../../../api/openapi.js'
import { Counter, Gauge } from '../../observe/index.js'
import type { ReadinessCheck, RestDeps } from '../deps.js'
import type { AppEnv } from '../env.js'
import { ValidationProblemError } from '../errors.js'
import { route } from '../route.js'

const ReadinessSchema: JsonObject = {
  type: 'object',
  required: ['ok', 'checks'],
  properties: {
    ok: { type: 'boolean' },
    checks: {
      type: 'array',
      items: { type: 'object', required: ['name', 'ok'], properties: { name: { type: 'string' }, ok: { type: 'boolean' }, message: { type: 'string' } } },
    },
  },
}
const text = (description: string): JsonObject => ({ description, content: { 'text/plain': { schema: { type: 'string' } } } })

export function storeReadiness(deps: Pick<RestDeps, 'store'>): ReadinessCheck {
  return () => {
    try {
      deps.store.ping()
      return { name: 'store', ok: true }
    } catch (err) {
      return { name: 'store', ok: false, message: err instanceof Error ? err.message : String(err) }
    }
  }
}

export function healthRoutes(deps: RestDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const checks = [storeReadiness(deps), ...(deps.readiness ?? [])]

  new Gauge({
    name: 'dpu_appliance_objects',
    help: 'Stored objects by apiVersion and kind',
    labelNames: ['api_version', 'kind'] as const,
    registers: [deps.registry],
    collect() {
      this.reset()
      for (const k of deps.store.stats().objects) this.set({ api_version: k.apiVersion, kind: k.kind }, k.count)
    },
  })
  new Gauge({
    name: 'dpu_appliance_store_bytes',
    help: 'Size of the SQLite store (database and WAL files)',
    registers: [deps.registry],
    collect() {
      this.set(deps.store.stats().fileBytes)
    },
  })
  new Gauge({
    name: 'dpu_appliance_watch_streams',
    help: 'Open watch streams',
    registers: [deps.registry],
    collect() {
      this.set(deps.store.watcherCount())
    },
  })
  const admission = deps.watchAdmission
  if (admission) {
    new Counter({
      name: 'dpu_appliance_watches_refused_total',
      help: 'Watch requests refused with 429 (past the total or per-client cap)',
      registers: [deps.registry],
      collect() {
        this.reset()
        this.inc(admission.stats.refused)
      },
    })
    new Counter({
      name: 'dpu_appliance_watches_dropped_total',
      help: 'Watch streams ended because their reader fell behind the queue bound',
      registers: [deps.registry],
      collect() {
        this.reset()
        this.inc(admission.stats.dropped)
      },
    })
  }
  new Gauge({
    name: 'dpu_appliance_watch_history_bytes',
    help: 'Bytes of objects the watch resume window holds',
    registers: [deps.registry],
    collect() {
      this.set(deps.store.watchWindow().bytes)
    },
  })
  new Gauge({
    name: 'dpu_appliance_watch_history_events',
    help: 'Changes the watch resume window holds',
    registers: [deps.registry],
    collect() {
      this.set(deps.store.watchWindow().events)
    },
  })
  new Gauge({
    name: 'dpu_appliance_resource_version',
    help: 'Newest committed resourceVersion',
    registers: [deps.registry],
    collect() {
      this.set(deps.store.resourceVersion())
    },
  })

  route(app, { method: 'get', path: '/healthz', operation: { operationId: 'healthz', tags: ['probes'], summary: 'The process answers', responses: { '200': text('ok') } } }, (c) => c.text('ok'))
  route(
    app,
    {
      method: 'get',
      path: '/readyz',
      operation: {
        operationId: 'readyz',
        tags: ['probes'],
        summary: 'Every readiness check passes (the store, and what the appliance was started with)',
        responses: {
          '200': { description: 'Ready', content: jsonContent(ReadinessSchema) },
          '503': { description: 'Not ready: the failing checks say why', content: jsonContent(ReadinessSchema) },
        },
      },
    },
    (c) => {
      const results = checks.map((check) => {
        try {
          return check()
        } catch (err) {
          return { name: 'unknown', ok: false, message: err instanceof Error ? err.message : String(err) }
        }
      })
      const ok = results.every((r) => r.ok)
      return c.json({ ok, checks: results }, ok ? 200 : 503)
    },
  )
  // `?name=<metric>` (repeatable) answers only those metrics: a cheap scrape for a probe that watches one counter,
  // where the full text (every chain's samples) costs ~10 ms of the appliance's CPU at 1,000 chains.
  route(
    app,
    {
      method: 'get',
      path: '/metrics',
      operation: {
        operationId: 'metrics',
        tags: ['probes'],
        summary: 'Prometheus metrics (text exposition format 0.0.4); open, so a scraper needs no token',
        parameters: [
          {
            name: 'name',
            in: 'query',
            required: false,
            description: 'Answer only these metrics (repeatable)',
            style: 'form',
            explode: true,
            schema: { type: 'array', items: { type: 'string' } },
          },
        ],
        responses: { '200': text('Prometheus text exposition format 0.0.4'), ...problemResponses('400') },
      },
    },
    async (c) => {
      const names = c.req.queries('name')
      if (!names || names.length === 0) return c.body(await deps.registry.metrics(), 200, { 'content-type': deps.registry.contentType })
      const unknown = names.filter((n) => deps.registry.getSingleMetric(n) === undefined)
      if (unknown.length > 0) {
        throw new ValidationProblemError(
          `no metric named ${unknown.join(', ')}`,
          unknown.map(() => ({ path: 'name', message: 'not a metric of this appliance' })),
        )
      }
      const texts = await Promise.all([...new Set(names)].map((n) => deps.registry.getSingleMetricAsString(n)))
      return c.body(texts.join('\n') + '\n', 200, { 'content-type': deps.registry.contentType })
    },
  )
  return app
}
