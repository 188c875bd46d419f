import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../../observe/index.js'
import type { AppEnv } from '../../env.js'
import { requestId } from './index.js'

const app = new Hono<AppEnv>()
app.use('*', requestId({ log: createLogger({ level: 'silent' }) }))
app.get('/', (c) => c.text(c.get('requestId')))

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
})
