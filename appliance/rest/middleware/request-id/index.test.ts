import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../../../api/support/logger.js'
import type { AppEnv } from '../../env.js'
import { requestId } from './index.js'

const app = new Hono<AppEnv>()
app.use('*', requestId({ log: createLogger({ level: 'silent' }) }))
app.get('/', (c) => c.text(c.get('requestId')))
app.get('/fail', () => {
  throw new Error('boom')
})
app.onError((_err, c) => c.json({ error: 'boom' }, 500))

describe('requestId', () => {
  it('keeps a plain caller id and echoes it', async () => {
    const res = await app.request('/', { headers: { 'x-request-id': 'abc-123' } })
    expect(await res.text()).toBe('abc-123')
    expect(res.headers.get('x-request-id')).toBe('abc-123')
  })
  it.each(['', 'a b', 'x'.repeat(129), '<script>'])('replaces an unusable id %j with a UUID', async (given) => {
    const res = await app.request('/', { headers: { 'x-request-id': given } })
    expect(await res.text()).toMatch(/^[0-9a-f-]{36}$/)
  })
  it('echoes the id on error responses and on answers the handler did not build (404)', async () => {
    const failed = await app.request('/fail', { headers: { 'x-request-id': 'err-1' } })
    expect(failed.status).toBe(500)
    expect(failed.headers.get('x-request-id')).toBe('err-1')
    const missing = await app.request('/nowhere', { headers: { 'x-request-id': 'nf-1' } })
    expect(missing.status).toBe(404)
    expect(missing.headers.get('x-request-id')).toBe('nf-1')
  })
})
