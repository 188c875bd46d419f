/**
 * Open-loop HTTP GET load at a constant arrival rate (the wrk2 model), run as its own process.
 *
 * Why not autocannon's `overallRate`: it lets each connection send its share of the second back-to-back as soon as
 * the second starts, then idles, so "1,000 req/s" is really a burst of 1,000 requests over 10 connections once a
 * second; and its coordinated-omission correction assumes one request per millisecond per connection. Here
 * request i is due at t0 + i/rate, spread evenly, and its latency is measured from that due time, not from when it
 * was sent: a slow server (or a late timer in this process) delays every request behind it, and all of that delay
 * is counted, so the figure cannot hide a stall.
 *
 * The client is plain sockets with the request bytes built once and a minimal response reader (status line and
 * Content-Length), so that on a 2-core machine the generator takes as little CPU from the server as it can.
 *
 *   node --import tsx bench/rest/open-loop.ts --url URL [--header 'K: V']... [--rate 1000] [--duration 10]
 *        [--connections 10] [--warmup 1]
 * Prints one JSON line: { sent, ok, non2xx, errors, rate, p50, p90, p99, p999, max, sendLagP99, sendLagMax } (ms);
 * the first `--warmup` seconds of requests are sent but not counted.
 */
import { connect, type Socket } from 'node:net'
import { parseArgs } from 'node:util'
import { percentile } from '../support/percentile.js'

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    header: { type: 'string', multiple: true, default: [] },
    rate: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
  },
})
if (!values.url) throw new Error('open-loop: --url is required')
const url = new URL(values.url)
if (url.protocol !== 'http:') throw new Error(`open-loop: only http:// URLs, got ${url.protocol}`)
const rate = Number(values.rate)
const warmup = Math.round(rate * Number(values.warmup))
const total = warmup + Math.round(rate * Number(values.duration))
const intervalNs = 1e9 / rate

for (const h of values.header) if (h.indexOf(':') < 1) throw new Error(`open-loop: header "${h}" is not "Name: value"`)
const requestBytes = Buffer.from([`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, ...values.header, '', ''].join('\r\n'), 'latin1')

const latenciesMs = new Float64Array(total)
/** How late this process sent each request (timer granularity, its own GC): part of latency, reported apart. */
const sendLagMs = new Float64Array(total)
let ok = 0
let non2xx = 0
let errors = 0
let done = 0

/** One keep-alive connection with at most one request in flight; its reader knows where each response ends. */
class Connection {
  busyWith: { i: number; due: bigint } | undefined
  #buf: Buffer = Buffer.alloc(0)
  readonly #socket: Socket
  constructor(private readonly onFree: (c: Connection) => void) {
    this.#socket = connect({ host: url.hostname, port: Number(url.port || 80), noDelay: true })
    this.#socket.on('data', (chunk: Buffer) => this.#read(chunk))
    this.#socket.on('error', (err) => {
      if (this.busyWith) {
        errors++
        finish(this.busyWith.i, this.busyWith.due, false)
      }
      throw new Error(`open-loop: connection failed: ${err.message}`)
    })
  }
  send(i: number, due: bigint): void {
    this.busyWith = { i, due }
    this.#socket.write(requestBytes)
  }
  #read(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    const headEnd = this.#buf.indexOf('\r\n\r\n')
    if (headEnd < 0) return
    const head = this.#buf.toString('latin1', 0, headEnd)
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)
    if (!length) throw new Error(`open-loop: response without Content-Length (chunked is not supported): ${head.split('\r\n')[0]}`)
    const end = headEnd + 4 + Number(length[1])
    if (this.#buf.length < end) return
    if (this.#buf.length > end) throw new Error('open-loop: more bytes than one response (the server answered unasked)')
    this.#buf = Buffer.alloc(0)
    const status = Number(head.slice(9, 12))
    const good = status >= 200 && status < 300
    if (!good) non2xx++
    const { i, due } = this.busyWith!
    this.busyWith = undefined
    finish(i, due, good)
    this.onFree(this)
  }
  close(): void {
    this.#socket.destroy()
  }
}

function finish(i: number, due: bigint, good: boolean): void {
  latenciesMs[i] = Number(process.hrtime.bigint() - due) / 1e6
  if (good && i >= warmup) ok++
  done++
  if (done === total) report()
}

// Requests that are due while every connection is busy wait here; that wait counts in their latency.
const waiting: { i: number; due: bigint }[] = []
const idle: Connection[] = []
const connections = Array.from(
  { length: Number(values.connections) },
  () =>
    new Connection((c) => {
      const next = waiting.shift()
      if (next) c.send(next.i, next.due)
      else idle.push(c)
    }),
)
idle.push(...connections)

const t0 = process.hrtime.bigint()
let next = 0
/** Sends every request that is due; a 1 ms timer is Node's finest, so at most a millisecond's worth go together. */
function tick(): void {
  const now = process.hrtime.bigint()
  while (next < total) {
    const due = t0 + BigInt(Math.round(next * intervalNs))
    if (due > now) break
    sendLagMs[next] = Number(now - due) / 1e6
    const c = idle.pop()
    if (c) c.send(next, due)
    else waiting.push({ i: next, due })
    next++
  }
  if (next < total) setTimeout(tick, 1)
}
tick()

function report(): void {
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9
  const sorted = latenciesMs.slice(warmup).sort()
  const lag = sendLagMs.slice(warmup).sort()
  const ms = (v: number) => Math.round(v * 100) / 100
  process.stdout.write(
    `${JSON.stringify({
      sent: total - warmup,
      ok,
      non2xx,
      errors,
      rate: Math.round(total / elapsed),
      p50: ms(percentile(sorted, 50)),
      p90: ms(percentile(sorted, 90)),
      p99: ms(percentile(sorted, 99)),
      p999: ms(percentile(sorted, 99.9)),
      max: ms(sorted[sorted.length - 1]!),
      sendLagP99: ms(percentile(lag, 99)),
      sendLagMax: ms(lag[lag.length - 1]!),
    })}\n`,
  )
  for (const c of connections) c.close()
}
