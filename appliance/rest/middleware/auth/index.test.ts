import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import type { AppEnv } from '../../env.js'
import { handleError } from '../../problem.js'
import { bearerAuth } from './index.js'

let token = 'first-token'
const app = new Hono<AppEnv>()
app.use('*', bearerAuth({ token: () => token }))
app.get('/', (c) => c.text('in'))
app.onError(handleError)

describe('bearerAuth', () => {
  it.each([
    ['missing', undefined],
    ['wrong scheme', 'Token first-token'],
    ['empty bearer', 'Bearer '],
    ['wrong token', 'Bearer first-tokem'],
    ['longer token', 'Bearer first-token2'],
  ])('refuses %s with a 401 problem', async (_, header) => {
    const res = await app.request('/', header === undefined ? {} : { headers: { authorization: header } })
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
  })
  it('accepts the token case-insensitively on the scheme and reads the token per request', async () => {
    expect((await app.request('/', { headers: { authorization: 'bearer first-token' } })).status).toBe(200)
    token = 'rotated'
    expect((await app.request('/', { headers: { authorization: 'Bearer first-token' } })).status).toBe(401)
    expect((await app.request('/', { headers: { authorization: 'Bearer rotated' } })).status).toBe(200)
  })
})
