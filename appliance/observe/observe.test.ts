import { describe, expect, it } from 'vitest'
import { register as globalRegistry } from 'prom-client'
import { createHttpMetrics, createMetricsRegistry } from './metrics.js'

describe('metrics', () => {
  it('keeps each registry separate from the others and from the global one', async () => {
    const a = createMetricsRegistry({ defaultMetrics: false })
    const b = createMetricsRegistry({ defaultMetrics: false })
    createHttpMetrics(a).requests.inc({ method: 'GET', route: '/x', status: '200' })
    createHttpMetrics(b)
    expect(await a.metrics()).toMatch(/dpu_appliance_http_requests_total\{method="GET",route="\/x",status="200"\} 1/)
    expect(await b.metrics()).not.toMatch(/status="200"/)
    expect(await globalRegistry.metrics()).not.toMatch(/dpu_appliance/)
  })
})
