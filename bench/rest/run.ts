/**
 * REST throughput and latency of a running appliance (`dpuctl appliance run` in its own process); the load
 * generator (autocannon) runs in this process, so it never shares an event loop with the server.
 *
 *   GET   one object at a constant rate (default 1,000 req/s), open loop (`open-loop.ts`, its own process: each
 *         request is due at an evenly spaced time and its latency counts from then): p50/p99 latency, which the
 *         target is judged on. Baseline: `/healthz` the same way (no auth, no store), so the ratio is what auth +
 *         routing + the store read cost. Also shown: autocannon's `overallRate` at the same rate, which sends each
 *         second's requests as one burst over the connections (a harsher, bursty load; see open-loop.ts), and the
 *         most GETs per second the appliance answers (autocannon, no rate limit, same connections).
 *   apply batches of objects (default 100 per POST) as fast as the server takes them, on 2 keep-alive
 *         connections: objects/s timed here (hrtime from the first request sent to the last answer; autocannon's
 *         `duration` is rounded up to its 1 s sample tick, so it cannot time this) and batch latency. Baseline:
 *         the same batches applied straight to a store in this process (no HTTP), so the ratio is what HTTP,
 *         JSON, validation and rendering cost on top of the SQLite transaction. `--apply-rounds` alternating
 *         rounds of each (REST, in-process, REST, ...), median and range.
 *
 * Targets (issue #2): GET p99 <= 5 ms at 1,000 req/s; apply >= 1,000 objects/s.
 * Run: node --import tsx bench/rest/run.ts [--rate 1000] [--duration 10] [--batch 100] [--batches 200] [--apply-rounds 3]
 */
import { execFile } from 'node:child_process'
import { Agent, request } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import type { ParsedObject } from '../../api/resources/kind.js'
import { openStore } from '../../appliance/store/index.js'
import { startApplianceProcess } from '../../test/support/appliance-process.js'
import { percentile } from '../support/percentile.js'
import { fmt, load, spread } from '../support/stats.js'

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '10' },
    batch: { type: 'string', default: '100' },
    batches: { type: 'string', default: '200' },
    connections: { type: 'string', default: '10' },
    'apply-rounds': { type: 'string', default: '3' },
  },
})
const RATE = Number(values.rate)
const DURATION = Number(values.duration)
const BATCH = Number(values.batch)
const BATCHES = Number(values.batches)
const CONNECTIONS = Number(values.connections)
const APPLY_ROUNDS = Number(values['apply-rounds'])
const NS = 'bench'

function si(name: string, v: number): ParsedObject {
  return {
    apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
    kind: 'ServiceInterface',
    metadata: { name, namespace: NS, labels: { bench: 'rest' } },
    spec: { interfaceType: 'vf', vf: { pfID: 0, vfID: v % 128 } },
  }
}
const batchOf = (seq: number, prefix: string) => Array.from({ length: BATCH }, (_, i) => si(`${prefix}-${seq}-${i}`, seq + i))

interface OpenLoopResult {
  sent: number
  ok: number
  non2xx: number
  errors: number
  rate: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
  sendLagP99: number
  sendLagMax: number
}
/** Constant-rate GETs from a separate process (`open-loop.ts`). */
async function openLoop(url: string, headers: Record<string, string>): Promise<OpenLoopResult> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'open-loop.ts')
  const args = [
    '--import',
    'tsx',
    script,
    '--url',
    url,
    '--rate',
    String(RATE),
    '--duration',
    String(DURATION),
    '--connections',
    String(CONNECTIONS),
    ...Object.entries(headers).flatMap(([k, v]) => ['--header', `${k}: ${v}`]),
  ]
  const { stdout } = await promisify(execFile)(process.execPath, args)
  const r = JSON.parse(stdout) as OpenLoopResult
  if (r.ok !== r.sent || r.errors > 0 || r.non2xx > 0) throw new Error(`open-loop ${url}: ${JSON.stringify(r)}`)
  return r
}

/** POSTs `bodies` over `connections` keep-alive connections, each sending its next batch when the previous is answered. */
async function postAll(url: string, headers: Record<string, string>, bodies: string[], connections: number): Promise<{ seconds: number; latenciesMs: number[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  const latenciesMs: number[] = []
  let next = 0
  const post = (body: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now()
      const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          latenciesMs.push(performance.now() - t0)
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) reject(new Error(`apply: HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString()}`))
          else resolve()
        })
      })
      req.on('error', reject)
      req.end(body)
    })
  const t0 = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < bodies.length) await post(bodies[next++]!)
    }),
  )
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  agent.destroy()
  return { seconds, latenciesMs }
}

type Result = autocannon.Result
function run(opts: autocannon.Options): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)))
  })
}
function check(name: string, r: Result): void {
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`)
}

/**
 * Upper bound of the server-side p99 (handler time, from the appliance's own latency histogram): the smallest
 * bucket holding 99% of the route's GETs. Separates what the server spends from what a loaded client sees.
 */
function serverSideP99(text: string, route: string): string {
  const rows = [...text.matchAll(/^dpu_appliance_http_request_duration_seconds_bucket\{(.*)\} (\d+)$/gm)]
    .filter((m) => m[1]!.includes('method="GET"') && m[1]!.includes(`route="${route}"`))
    .map((m) => ({ le: /le="([^"]+)"/.exec(m[1]!)![1]!, n: Number(m[2]) }))
  const total = rows.find((r) => r.le === '+Inf')?.n ?? 0
  const hit = rows.find((r) => r.n >= total * 0.99)
  return hit ? `<= ${hit.le === '+Inf' ? 'inf' : `${Number(hit.le) * 1000} ms`}` : 'n/a'
}

/**
 * The appliance's event-loop delay (prom-client default metrics): stalls there delay every queued request. Node's
 * monitor times a 10 ms timer (prom-client's default precision), so its figures include those 10 ms; they are
 * taken off here to leave the stall itself.
 */
function eventLoopLag(text: string): string {
  const get = (name: string) => Math.max(0, Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000 - 10)
  return `p99 ${get('nodejs_eventloop_lag_p99_seconds').toFixed(1)} ms, max ${get('nodejs_eventloop_lag_max_seconds').toFixed(1)} ms`
}

const appliance = await startApplianceProcess({ nodeName: 'bench' })
const tmp = mkdtempSync(join(tmpdir(), 'bench-rest-'))
try {
  const auth = { authorization: `Bearer ${appliance.token}`, 'content-type': 'application/json' }
  // 1,000 objects present while GETs run, so the store is not trivially small.
  for (let s = 0; s < 1000 / BATCH; s++) {
    const res = await fetch(`${appliance.url}/apis/appliance/v1/apply`, { method: 'POST', headers: auth, body: JSON.stringify({ kind: 'List', items: batchOf(s, 'seed') }) })
    if (!res.ok) throw new Error(`seed failed: ${res.status} ${await res.text()}`)
  }
  const objectUrl = `${appliance.url}/apis/svc.dpu.nvidia.com/v1alpha1/namespaces/${NS}/serviceinterfaces/seed-3-7`

  const common = { connections: CONNECTIONS, duration: DURATION, overallRate: RATE }
  await run({ ...common, url: objectUrl, headers: auth, duration: 2 }) // warm-up (JIT, page cache)
  await (await fetch(`${appliance.url}/metrics`, { headers: auth })).text() // resets the event-loop delay histogram: measure the GET phases only
  const olHealthz = await openLoop(`${appliance.url}/healthz`, {})
  const olGet = await openLoop(objectUrl, { authorization: auth.authorization })
  const healthz = await run({ ...common, url: `${appliance.url}/healthz` })
  check('healthz', healthz)
  const get = await run({ ...common, url: objectUrl, headers: auth })
  check('get', get)
  // Throughput: as many GETs as the appliance answers over the same connections, no rate limit.
  const getMax = await run({ connections: CONNECTIONS, duration: Math.min(DURATION, 5), url: objectUrl, headers: auth })
  check('get max', getMax)

  // one scrape: prom-client resets the event-loop delay histogram on every collect
  const metricsText = await (await fetch(`${appliance.url}/metrics`, { headers: auth })).text()
  const serverP99 = serverSideP99(metricsText, '/apis/svc.dpu.nvidia.com/v1alpha1/namespaces/:namespace/serviceinterfaces/:name')
  const lag = eventLoopLag(metricsText)

  const restRate: number[] = []
  const directRate: number[] = []
  const batchMs: number[] = []
  const direct = openStore(join(tmp, 'direct.db'))
  for (let r = 0; r < APPLY_ROUNDS; r++) {
    // Bodies are built before the clock starts, as the in-process side gets its objects ready-made.
    const bodies = Array.from({ length: BATCHES }, (_, s) => JSON.stringify({ kind: 'List', items: batchOf(s, `load${r}`) }))
    const rest = await postAll(`${appliance.url}/apis/appliance/v1/apply`, auth, bodies, 2)
    restRate.push((BATCHES * BATCH) / rest.seconds)
    batchMs.push(...rest.latenciesMs)
    const batches = Array.from({ length: BATCHES }, (_, s) => batchOf(s, `direct${r}`))
    const t0 = process.hrtime.bigint()
    for (const b of batches) direct.objects.apply(b, { origin: 'local' })
    directRate.push((BATCHES * BATCH) / (Number(process.hrtime.bigint() - t0) / 1e9))
  }
  direct.close()
  const restObjectsPerSec = spread(restRate).median
  const directObjectsPerSec = spread(directRate).median
  const applyP50 = percentile(batchMs, 50)
  const applyP99 = percentile(batchMs, 99)

  const rows = [
    ['GET /healthz, open loop (baseline)', `${olHealthz.rate} req/s`, `p50 ${olHealthz.p50} ms`, `p99 ${olHealthz.p99} ms`, `max ${olHealthz.max} ms`],
    ['GET object, open loop', `${olGet.rate} req/s`, `p50 ${olGet.p50} ms`, `p99 ${olGet.p99} ms`, `max ${olGet.max} ms`],
    ['  generator send lag', '', '', `p99 ${olGet.sendLagP99} ms`, `max ${olGet.sendLagMax} ms`],
    ['GET /healthz, autocannon burst', `${healthz.requests.average.toFixed(0)} req/s`, `p50 ${healthz.latency.p50} ms`, `p99 ${healthz.latency.p99} ms`],
    ['GET object, autocannon burst', `${get.requests.average.toFixed(0)} req/s`, `p50 ${get.latency.p50} ms`, `p99 ${get.latency.p99} ms`],
    ['GET object, max throughput', `${getMax.requests.average.toFixed(0)} req/s`, `p50 ${getMax.latency.p50} ms`, `p99 ${getMax.latency.p99} ms`],
    ['GET object, server side', '', '', `p99 ${serverP99}`],
    ['appliance event-loop stall', '', '', lag],
  ]
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(36) : c.padEnd(20))).join(''))
  console.log(`apply, store in-process (baseline)  ${fmt(spread(directRate), 'obj/s')}`)
  console.log(`apply via REST (${BATCH}/batch, 2 conns)   ${fmt(spread(restRate), 'obj/s')}; per batch p50 ${applyP50.toFixed(1)} ms, p99 ${applyP99.toFixed(1)} ms`)
  const getRatio = olGet.p99 / olHealthz.p99
  const applyRatio = restObjectsPerSec / directObjectsPerSec
  console.log(
    `ratio GET p99 object/healthz (open loop): ${getRatio.toFixed(2)}   ratio apply REST/in-process (medians): ${applyRatio.toFixed(2)} ` +
      `(per round ${restRate.map((x, i) => (x / directRate[i]!).toFixed(2)).join(' ')})`,
  )
  console.log(
    `targets: GET p99 ${olGet.p99} ms <= 5 ms at ${RATE} req/s (open loop): ${olGet.p99 <= 5 ? 'met' : 'MISSED'}; ` +
      `apply ${restObjectsPerSec.toFixed(0)} obj/s >= 1000: ${restObjectsPerSec >= 1000 ? 'met' : 'MISSED'}`,
  )
  console.log(`load during the run (2 cores, shared): ${load()}`)
  console.log(
    JSON.stringify({
      bench: 'rest',
      loadavg: loadavg(),
      rate: RATE,
      duration: DURATION,
      batch: BATCH,
      openLoop: { get: olGet, healthz: olHealthz },
      burstGetP50: get.latency.p50,
      burstGetP99: get.latency.p99,
      getMaxRps: getMax.requests.average,
      serverP99,
      eventLoopLag: lag,
      getRps: get.requests.average,
      healthzP99: healthz.latency.p99,
      restObjectsPerSec,
      directObjectsPerSec,
      restRate,
      directRate,
      applyP50,
      applyP99,
    }),
  )
} finally {
  await appliance.dispose()
  rmSync(tmp, { recursive: true, force: true })
}
