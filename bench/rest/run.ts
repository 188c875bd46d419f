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
 *   apply batches of objects (default 100 per POST) as fast as the server takes them: objects/s and batch
 *         latency. Baseline: the same batches applied straight to a store in this process (no HTTP), so the
 *         ratio is what HTTP, JSON, validation and rendering cost on top of the SQLite transaction.
 *
 * Targets (issue #2): GET p99 <= 5 ms at 1,000 req/s; apply >= 1,000 objects/s.
 * Run: node --import tsx bench/rest/run.ts [--rate 1000] [--duration 10] [--batch 100] [--batches 200]
 */
import { execFile } from 'node:child_process'
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

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '10' },
    batch: { type: 'string', default: '100' },
    batches: { type: 'string', default: '200' },
    connections: { type: 'string', default: '10' },
  },
})
const RATE = Number(values.rate)
const DURATION = Number(values.duration)
const BATCH = Number(values.batch)
const BATCHES = Number(values.batches)
const CONNECTIONS = Number(values.connections)
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

interface OpenLoopResult { sent: number; ok: number; non2xx: number; errors: number; rate: number; p50: number; p90: number; p99: number; p999: number; max: number; sendLagP99: number; sendLagMax: number }
/** Constant-rate GETs from a separate process (`open-loop.ts`). */
async function openLoop(url: string, headers: Record<string, string>): Promise<OpenLoopResult> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'open-loop.ts')
  const args = ['--import', 'tsx', script, '--url', url, '--rate', String(RATE), '--duration', String(DURATION), '--connections', String(CONNECTIONS),
    ...Object.entries(headers).flatMap(([k, v]) => ['--header', `${k}: ${v}`])]
  const { stdout } = await promisify(execFile)(process.execPath, args)
  const r = JSON.parse(stdout) as OpenLoopResult
  if (r.ok !== r.sent || r.errors > 0 || r.non2xx > 0) throw new Error(`open-loop ${url}: ${JSON.stringify(r)}`)
  return r
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

  let seq = 0
  const apply = await run({
    url: `${appliance.url}/apis/appliance/v1/apply`,
    connections: 2,
    amount: BATCHES,
    requests: [
      {
        method: 'POST',
        headers: auth,
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ kind: 'List', items: batchOf(seq++, 'load') }) }),
      },
    ],
  })
  check('apply', apply)
  const restObjectsPerSec = (apply['2xx'] * BATCH) / apply.duration

  const direct = openStore(join(tmp, 'direct.db'))
  const t0 = process.hrtime.bigint()
  for (let s = 0; s < BATCHES; s++) direct.objects.apply(batchOf(s, 'direct'), { origin: 'local' })
  const directSeconds = Number(process.hrtime.bigint() - t0) / 1e9
  direct.close()
  const directObjectsPerSec = (BATCHES * BATCH) / directSeconds

  const rows = [
    ['GET /healthz, open loop (baseline)', `${olHealthz.rate} req/s`, `p50 ${olHealthz.p50} ms`, `p99 ${olHealthz.p99} ms`, `max ${olHealthz.max} ms`],
    ['GET object, open loop', `${olGet.rate} req/s`, `p50 ${olGet.p50} ms`, `p99 ${olGet.p99} ms`, `max ${olGet.max} ms`],
    ['  generator send lag', '', '', `p99 ${olGet.sendLagP99} ms`, `max ${olGet.sendLagMax} ms`],
    ['GET /healthz, autocannon burst', `${healthz.requests.average.toFixed(0)} req/s`, `p50 ${healthz.latency.p50} ms`, `p99 ${healthz.latency.p99} ms`],
    ['GET object, autocannon burst', `${get.requests.average.toFixed(0)} req/s`, `p50 ${get.latency.p50} ms`, `p99 ${get.latency.p99} ms`],
    ['GET object, max throughput', `${getMax.requests.average.toFixed(0)} req/s`, `p50 ${getMax.latency.p50} ms`, `p99 ${getMax.latency.p99} ms`],
    ['GET object, server side', '', '', `p99 ${serverP99}`],
    ['appliance event-loop stall', '', '', lag],
    ['apply, store in-process (baseline)', `${directObjectsPerSec.toFixed(0)} obj/s`, '', ''],
    [`apply via REST (${BATCH}/batch)`, `${restObjectsPerSec.toFixed(0)} obj/s`, `p50 ${apply.latency.p50} ms/batch`, `p99 ${apply.latency.p99} ms/batch`],
  ]
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(36) : c.padEnd(20))).join(''))
  const getRatio = olGet.p99 / olHealthz.p99
  const applyRatio = restObjectsPerSec / directObjectsPerSec
  console.log(`ratio GET p99 object/healthz (open loop): ${getRatio.toFixed(2)}   ratio apply REST/in-process: ${applyRatio.toFixed(2)}`)
  console.log(`targets: GET p99 ${olGet.p99} ms <= 5 ms at ${RATE} req/s (open loop): ${olGet.p99 <= 5 ? 'met' : 'MISSED'}; ` +
    `apply ${restObjectsPerSec.toFixed(0)} obj/s >= 1000: ${restObjectsPerSec >= 1000 ? 'met' : 'MISSED'}`)
  console.log(`load average during the run (2 cores, shared): ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  console.log(JSON.stringify({ bench: 'rest', loadavg: loadavg(), rate: RATE, duration: DURATION, batch: BATCH, openLoop: { get: olGet, healthz: olHealthz }, burstGetP50: get.latency.p50, burstGetP99: get.latency.p99, getMaxRps: getMax.requests.average, serverP99, eventLoopLag: lag, getRps: get.requests.average, healthzP99: healthz.latency.p99, restObjectsPerSec, directObjectsPerSec, applyP99: apply.latency.p99 }))
} finally {
  await appliance.dispose()
  rmSync(tmp, { recursive: true, force: true })
}
