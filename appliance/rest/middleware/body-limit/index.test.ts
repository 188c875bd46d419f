import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import type { AppEnv } from '../../env.js'
import { handleError } from '../../problem.js'
import { bodyLimit } from './index.js'

const app = new Hono<AppEnv>()
app.use('*', bodyLimit({ maxBytes: 16 }))
app.post('/', async (c) => c.text(String((await c.req.text()).length)))
app.onError(handleError)

describe('bodyLimit', () => {
  it('passes a body at the limit', async () => {
    expect(await (await app.request('/', { method: 'POST', body: 'x'.repeat(16) })).text()).toBe('16')
  })
  it('refuses a larger body, declared or streamed, with 413 and closes the connection', async () => {
    const declared = await app.request('/', { method: 'POST', body: 'x'.repeat(17) })
    expect(declared.status).toBe(413)
    expect(declared.headers.get('connection')).toBe('close')
    const stream = new ReadableStream({
      start(ctl) {
        for (let i = 0; i < 4; i++) ctl.enqueue(new TextEncoder().encode('x'.repeat(8)))
        ctl.close()
      },
    })
    const streamed = await app.request('/', { method: 'POST', body: stream, duplex: 'half' } as RequestInit)
    expect(streamed.status).toBe(413)
    expect(((await streamed.json()) as { code: string }).code).toBe('rest.body-too-large')
  })
})
