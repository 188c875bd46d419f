import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { register as globalRegistry } from 'prom-client'
import { createLogger } from './logger.js'
import { createHttpMetrics, createMetricsRegistry } from './metrics.js'

describe('createLogger', () => {
  it('writes one JSON object per line with an ISO time and a string level', () => {
    const out = new PassThrough()
    let text = ''
    out.on('data', (d: Buffer) => (text += d.toString('utf8')))
    const log = createLogger({ destination: out, base: { component: 'test' } })
    log.info({ url: 'http://x' }, 'listening')
    log.debug('hidden at info')
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ level: 'info', component: 'test', url: 'http://x', msg: 'listening' })
    expect(String(lines[0]!.time)).toMatch(/^\d{4}-\d\d-\d\dT/)
  })
})

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
