import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { createHttpMetrics, createMetricsRegistry } from '../../../observe/index.js'
import type { AppEnv } from '../../env.js'
import { httpMetrics } from './index.js'

describe('httpMetrics', () => {
  it('labels by route pattern, not by raw path', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false })
    const app = new Hono<AppEnv>()
    app.use('*', httpMetrics({ metrics: createHttpMetrics(registry) }))
    app.get('/things/:name', (c) => c.text(c.req.param('name')))
    await app.request('/things/a')
    await app.request('/things/b')
    await app.request('/nothing')
    const text = await registry.metrics()
    expect(text).toMatch(/dpu_appliance_http_requests_total\{method="GET",route="\/things\/:name",status="200"\} 2/)
    expect(text).toMatch(/status="404"\} 1/)
    expect(text).not.toMatch(/things\/a/)
  })
})
