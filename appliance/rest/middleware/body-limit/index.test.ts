import { serve, type ServerType } from '@hono/node-server'
import { Hono } from 'hono'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppEnv } from '../../env.js'
import { handleError } from '../../problem.js'
import { bodyLimit, readBodyText } from './index.js'

const app = new Hono<AppEnv>()
app.use('*', bodyLimit({ maxBytes: 16 }))
app.post('/', async (c) => c.text(String((await readBodyText(c)).length)))
app.post('/twice', async (c) => c.text(`${await readBodyText(c)}|${await readBodyText(c)}`))
app.onError(handleError)

describe('bodyLimit (fetch-style requests)', () => {
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

/** Served by node on loopback: the body is read from the IncomingMessage, not through a fetch Request. */
describe('bodyLimit (node server)', () => {
  let server: ServerType
  let port: number
  beforeAll(async () => {
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s))
    })
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  /** POSTs `chunks` (chunked transfer unless `length` is declared); resolves status, connection header, body. */
  const post = (path: string, chunks: string[], length?: number) =>
    new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path, agent: false, headers: length === undefined ? {} : { 'content-length': length } }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }))
      })
      req.on('error', reject)
      for (const c of chunks) req.write(c)
      req.end()
    })

  it('passes a body at the limit, declared or chunked, and reads it once', async () => {
    expect(await post('/', ['x'.repeat(16)], 16)).toMatchObject({ status: 200, body: '16' })
    expect(await post('/', ['x'.repeat(8), 'x'.repeat(8)])).toMatchObject({ status: 200, body: '16' })
    expect(await post('/twice', ['héllo'])).toMatchObject({ status: 200, body: 'héllo|héllo' })
  })

  it('refuses a declared larger body before reading it, and a chunked one while reading, with 413 and close', async () => {
    const declared = await post('/', ['x'.repeat(17)], 17)
    expect(declared).toMatchObject({ status: 413, connection: 'close' })
    expect((JSON.parse(declared.body) as { code: string }).code).toBe('rest.body-too-large')
    const streamed = await post('/', ['x'.repeat(8), 'x'.repeat(8), 'x'.repeat(8)])
    expect(streamed).toMatchObject({ status: 413, connection: 'close' })
    expect((JSON.parse(streamed.body) as { code: string }).code).toBe('rest.body-too-large')
  })
})
