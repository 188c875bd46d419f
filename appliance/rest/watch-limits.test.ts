/**
 * What a client can make the appliance hold through watches, over a real loopback socket and SQLite store:
 * the caps on open streams (total and per client address, 429 past them), the bound on a slow reader's queue
 * (the stream ends with a 410 Status naming where to resume, and resuming from there loses nothing; a resume
 * replays its bookmark's changes past that bound and is not dropped for them), and the
 * byte bound of the resume window (410 for a bookmark it no longer covers).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { request, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseDocuments, parseObject } from '../../api/resources/registry.js'
import { createLogger } from '../../api/support/logger.js'
import { createMetricsRegistry } from '../observe/index.js'
import { openStore, type Store } from '../store/index.js'
import { createApp } from './app.js'
import { WatchAdmission } from './watch-limits.js'

const TOKEN = 'test-token-0123456789abcdef0123456789abcdef'
const NS = 'default'
const COLLECTION = `/apis/svc.dpu.nvidia.com/v1alpha1/namespaces/${NS}/serviceinterfaces`

let dir: string
let store: Store
let url: string
let port: number
let server: ReturnType<typeof serve>
const admission = new WatchAdmission({ maxWatches: 3, maxWatchesPerClient: 2, maxQueuedEvents: 5 })
const open: IncomingMessage[] = []

function si(name: string, pad = 0) {
  const yaml = `apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: ServiceInterface
metadata: {name: ${name}, namespace: ${NS}, annotations: {pad: "${'x'.repeat(pad)}"}}
spec: {interfaceType: physical, physical: {interfaceName: p0}}
`
  return parseObject(parseDocuments(yaml, 'test')[0]!)
}

/** A watch from a chosen loopback address (127.0.0.x), as a raw response the test reads or leaves unread. */
function watch(from: string, query = ''): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, localAddress: from, path: `${COLLECTION}?watch=true${query}`, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      open.push(res)
      resolve(res)
    })
    req.on('error', reject)
    req.end()
  })
}

async function body(res: IncomingMessage): Promise<string> {
  let text = ''
  for await (const chunk of res) text += String(chunk)
  return text
}

/** SSE events until the stream ends. */
async function events(res: IncomingMessage): Promise<Array<{ event: string; id?: string; data: Record<string, unknown> }>> {
  const out: Array<{ event: string; id?: string; data: Record<string, unknown> }> = []
  for (const block of (await body(res)).split('\n\n')) {
    const fields = Object.fromEntries(
      block
        .split('\n')
        .filter((l) => l && !l.startsWith(':'))
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
    )
    if (fields.event) out.push({ event: fields.event, ...(fields.id ? { id: fields.id } : {}), data: JSON.parse(fields.data!) as Record<string, unknown> })
  }
  return out
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics?name=${name}`, { headers: { authorization: `Bearer ${TOKEN}` } })).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return Number(line?.split(' ')[1])
}

const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 10))
  if (!ok()) throw new Error(`never: ${what}`)
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'watch-limits-'))
  store = openStore(join(dir, 'state.db'), { nodeName: 'dpu-a', watchHistory: { maxEvents: 10_000, maxBytes: 64 * 1024 } })
  const app = createApp({
    store,
    log: createLogger({ level: 'silent' }),
    registry: createMetricsRegistry({ defaultMetrics: false }),
    token: () => TOKEN,
    node: { name: 'dpu-a', labels: {} },
    watchAdmission: admission,
  })
  server = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s))
  })
  port = (server.address() as AddressInfo).port
  url = `http://127.0.0.1:${port}`
})
afterEach(async () => {
  for (const r of open.splice(0)) r.destroy()
  await until('every watch released', () => admission.stats.open === 0)
})
afterAll(async () => {
  ;(server as unknown as { closeAllConnections(): void }).closeAllConnections()
  await new Promise((r) => server.close(r))
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('watch caps', () => {
  it('refuses a watch past the per-client cap and past the total cap with 429, and admits again when one closes', async () => {
    const a1 = await watch('127.0.0.1')
    const a2 = await watch('127.0.0.1')
    expect([a1.statusCode, a2.statusCode]).toEqual([200, 200])
    const a3 = await watch('127.0.0.1')
    expect(a3.statusCode).toBe(429)
    expect(a3.headers['content-type']).toContain('application/problem+json')
    expect(JSON.parse(await body(a3))).toMatchObject({ status: 429, code: 'rest.too-many-watches' })

    const b1 = await watch('127.0.0.2') // another client still fits the total
    expect(b1.statusCode).toBe(200)
    const c1 = await watch('127.0.0.3')
    expect(c1.statusCode).toBe(429)
    expect(JSON.parse(await body(c1)).detail).toMatch(/3 watch streams are already open on this appliance/)
    expect(admission.stats.open).toBe(3)

    a1.destroy()
    await until('a1 released', () => admission.stats.open === 2)
    expect((await watch('127.0.0.3')).statusCode).toBe(200)
    expect(await metric('dpu_appliance_watches_refused_total')).toBeGreaterThanOrEqual(2)
  })
})

describe('a slow watcher', () => {
  it('is dropped once more than maxQueuedEvents wait for it, with a 410 Status naming where to resume; resuming loses nothing', async () => {
    const from = store.resourceVersion()
    const res = await watch('127.0.0.1', `&resourceVersion=${from}`)
    expect(res.statusCode).toBe(200)
    // One transaction of 8 objects: all 8 changes reach the watcher's queue before its stream can send one.
    store.objects.apply(
      Array.from({ length: 8 }, (_, i) => si(`slow-${i}`)),
      { origin: 'local' },
    )
    const got = await events(res) // the server ends the stream
    expect(got).toHaveLength(1)
    expect(got[0]!.event).toBe('ERROR')
    expect(got[0]!.data).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', metadata: { resourceVersion: String(from) } } })
    expect(admission.stats.dropped).toBe(1)
    expect(await metric('dpu_appliance_watches_dropped_total')).toBe(1)

    // The client watches again from the bookmark and sees every change it missed (reading as it goes).
    const again = await watch('127.0.0.1', `&resourceVersion=${from}`)
    const seen: string[] = []
    let buf = ''
    again.setEncoding('utf8')
    await new Promise<void>((resolve) => {
      again.on('data', (chunk: string) => {
        buf += chunk
        for (const m of buf.matchAll(/"name":"(slow-\d)"/g)) if (!seen.includes(m[1]!)) seen.push(m[1]!)
        if (seen.length === 8) resolve()
      })
    })
    expect(seen.sort()).toEqual(Array.from({ length: 8 }, (_, i) => `slow-${i}`))
  })
})

describe('a resumed watch', () => {
  it('replays more than maxQueuedEvents changes from its bookmark without being dropped, in order, then follows live changes', async () => {
    store.objects.apply([si('replay-base')], { origin: 'local' })
    const from = store.resourceVersion()
    // 20 changes, one write each, with nobody watching: four times the slow-reader bound of 5.
    for (let i = 0; i < 20; i++) store.objects.apply([si(`replay-${i}`)], { origin: 'local' })
    const droppedBefore = admission.stats.dropped
    const res = await watch('127.0.0.1', `&resourceVersion=${from}`)
    expect(res.statusCode).toBe(200)
    const got: Array<{ event: string; id: number; name: string }> = []
    let buf = ''
    res.setEncoding('utf8')
    const seen = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          let i
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i)
            buf = buf.slice(i + 2)
            const field = (f: string) =>
              block
                .split('\n')
                .find((l) => l.startsWith(`${f}:`))
                ?.slice(f.length + 1)
                .trim()
            const event = field('event')
            if (!event) continue // keep-alive comment
            const data = JSON.parse(field('data')!) as { object: { metadata?: { name?: string } } }
            got.push({ event, id: Number(field('id') ?? NaN), name: data.object.metadata?.name ?? '' })
          }
          if (got.length >= n) {
            res.off('data', onData)
            res.off('end', onEnd)
            resolve()
          }
        }
        const onData = (chunk: string) => {
          buf += chunk
          check()
        }
        const onEnd = () => reject(new Error(`stream ended after ${got.length} events: ${JSON.stringify(got)}`))
        res.on('data', onData)
        res.on('end', onEnd)
        check()
      })
    await seen(20)
    expect(got.map((e) => e.name)).toEqual(Array.from({ length: 20 }, (_, i) => `replay-${i}`))
    expect(got.every((e) => e.event === 'ADDED')).toBe(true)
    expect(got.map((e) => e.id)).toEqual([...got.map((e) => e.id)].sort((a, b) => a - b))
    expect(got[0]!.id).toBeGreaterThan(from)

    // Caught up: the same stream carries the next change as it happens.
    store.objects.apply([si('replay-live')], { origin: 'local' })
    await seen(21)
    expect(got[20]).toMatchObject({ event: 'ADDED', name: 'replay-live', id: store.resourceVersion() })
    expect(admission.stats.dropped).toBe(droppedBefore)
  })
})

describe('the watch resume window', () => {
  it('holds at most maxBytes of objects; a bookmark it no longer covers gets 410 and the client lists again', async () => {
    const start = store.resourceVersion()
    for (let i = 0; i < 40; i++) store.objects.apply([si(`big-${i}`, 4096)], { origin: 'local' })
    const window = store.watchWindow()
    expect(window.bytes).toBeLessThanOrEqual(64 * 1024)
    expect(window.events).toBeLessThan(40)
    expect(window.floor).toBeGreaterThan(start)
    expect(await metric('dpu_appliance_watch_history_bytes')).toBe(window.bytes)

    const old = await fetch(`${url}${COLLECTION}?watch=true&resourceVersion=${start}`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(old.status).toBe(410)
    expect(((await old.json()) as { code: string }).code).toBe('store.expired')
    const recent = await watch('127.0.0.1', `&resourceVersion=${window.floor}`)
    expect(recent.statusCode).toBe(200)
  })
})
