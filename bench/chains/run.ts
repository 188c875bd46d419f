/**
 * Service chaining at scale (issue #4), one run, everything real: a private OVS sandbox (userspace netdev
 * datapath, vswitchd in its own netns), the appliance as its own process (`dpuctl appliance run`), REST only.
 *
 *   1. throughput  iperf3 TCP through a two-port chain vs. the same veths on a bridge with the NORMAL action
 *                  (veth offloads off on every end). Target >= 0.9x.
 *   Then, for each of two shapes of N two-port chains (the same chains, different ports under them):
 *      vlan   chain i joins VLAN i+1 on trunk `tk0` with VLAN i+1 on trunk `tk1` (2N `vlan` ServiceInterfaces on
 *             two `physical` ones: 2 OVS ports, as tenant VLANs on a DPU's uplinks);
 *      veth   chain i joins `ca<i>` with `cb<i>`, N veth pairs as 2N `physical` ServiceInterfaces (2N OVS ports).
 *   2. create      interfaces and chains POSTed to /apis/appliance/v1/apply in batches; the clock stops when a
 *                  watch on the chains has seen every chain Ready (Ready=True is written only after the barrier).
 *   3. change      one chain change per request (second port swapped to a spare interface and back), timed from
 *                  the REST request to the answer of `apply?wait=installed`, which comes after the barrier for the
 *                  chains pass that read this write. Baseline in the same run: DPF's mechanism, `ovs-ofctl --bundle
 *                  add-flows` of that chain's new flows from a file, on a bridge preloaded with the same flows.
 *                  Targets p50 <= 5 ms, p99 <= 20 ms. Also printed: vswitchd's OpenFlow echo round trip, the
 *                  floor under any confirmed change.
 *   4. restore     SIGKILL ovs-vswitchd and start it again: time until the appliance has every flow back
 *                  (its programmer's own figure, OpenFlow connect -> barrier, and the wall time from starting
 *                  vswitchd). Target <= 1 s.
 *
 *   npx tsx bench/chains/run.ts [--chains 1000] [--changes 1000] [--shapes vlan,veth] [--iperf-seconds 5]
 *        [--iperf-rounds 3] [--node-args='--cpu-prof --cpu-prof-dir=DIR'] (node flags for the appliance process)
 *        [--heap-snapshot DIR] (a heap snapshot of the appliance once every chain is Ready, after the memory line;
 *        summarize it with bench/chains/heap-summary.ts)
 */
import { execFile } from 'node:child_process'
import { Agent, request } from 'node:http'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs, promisify } from 'node:util'
import { startApplianceProcess, type ApplianceProcess } from '../../test/support/appliance-process.js'
import { Cleanup, createNetns, createVethPair, exec, iperf3Client, ping, startIperf3Server } from '../../bin/demo/netns.js'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { chainCookie, formatCookie } from '../../appliance/sfc/cookie.js'
import { percentile } from '../support/percentile.js'
import { until } from '../../test/support/until.js'

const run = promisify(execFile)
const { values: flags } = parseArgs({
  options: {
    'node-args': { type: 'string', default: '' },
    'heap-snapshot': { type: 'string' },
    chains: { type: 'string', default: '1000' },
    changes: { type: 'string', default: '1000' },
    shapes: { type: 'string', default: 'vlan,veth' },
    'iperf-seconds': { type: 'string', default: '5' },
    'iperf-rounds': { type: 'string', default: '3' },
  },
})
const N = Number(flags.chains)
const CHANGES = Number(flags.changes)
const IPERF_S = Number(flags['iperf-seconds'])
const ROUNDS = Number(flags['iperf-rounds'])
const SVC = 'svc.dpu.nvidia.com/v1alpha1'
const SPARE_VLAN = 4000
if (N > SPARE_VLAN - 1) throw new Error(`--chains must be < ${SPARE_VLAN} (VLAN ids)`)

const ms = (x: number) => `${x.toFixed(1)} ms`
const log = (...a: unknown[]) => console.log(...a)
type Doc = Record<string, unknown>
type Labels = Record<string, string>

const physical = (name: string, netdev: string, labels: Labels): Doc => ({
  apiVersion: SVC,
  kind: 'ServiceInterface',
  metadata: { name, labels },
  spec: { interfaceType: 'physical', physical: { interfaceName: netdev } },
})
const vlan = (name: string, parent: string, vlanID: number, labels: Labels): Doc => ({
  apiVersion: SVC,
  kind: 'ServiceInterface',
  metadata: { name, labels },
  spec: { interfaceType: 'vlan', vlan: { vlanID, parentInterfaceRef: parent } },
})
const chain = (name: string, ports: Labels[]): Doc => ({
  apiVersion: SVC,
  kind: 'ServiceChain',
  metadata: { name },
  spec: { switches: [{ ports: ports.map((matchLabels) => ({ serviceInterface: { matchLabels } })) }] },
})
const ref = (d: Doc): Doc => ({ apiVersion: d.apiVersion, kind: d.kind, metadata: { name: (d.metadata as { name: string }).name } })

/**
 * REST client on node:http with one keep-alive connection: the change figure is the appliance's, so the client
 * should add as little as it can (undici's fetch adds ~1-2 ms per request here).
 */
class Api {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 })
  private readonly base: URL
  constructor(private readonly app: ApplianceProcess) {
    this.base = new URL(app.url)
  }
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          headers: {
            authorization: `Bearer ${this.app.token}`,
            ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            if ((res.statusCode ?? 0) >= 300) return reject(new Error(`${method} ${path}: HTTP ${res.statusCode}: ${text.slice(0, 500)}`))
            if (!(res.headers['content-type'] ?? '').includes('json')) return resolve(text as T)
            try {
              resolve(JSON.parse(text) as T)
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)))
            }
          })
        },
      )
      req.on('error', reject)
      req.end(payload)
    })
  }
  apply(docs: unknown[], wait = false) {
    return this.call<{ flows?: { installed: boolean } }>('POST', `/apis/appliance/v1/apply${wait ? '?wait=installed&timeoutMs=30000' : ''}`, docs)
  }
  delete(docs: Doc[]) {
    return this.call('POST', '/apis/appliance/v1/delete', docs.map(ref))
  }
  async flows(bridge: string): Promise<string[]> {
    const dump = await this.call<{ items: Array<{ bridge: string; flows: string[] }> }>('GET', `/apis/appliance/v1/flows?bridge=${bridge}`)
    return dump.items[0]?.flows ?? []
  }
  close() {
    this.agent.destroy()
  }
}

interface WatchedObject {
  metadata: { name: string; generation: number }
  status: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> }
}

/**
 * Follows a kind's watch stream and resolves when `want` objects are Ready at their current generation. The
 * appliance drops a watcher that falls more than 1,000 changes behind (an ERROR event with a 410 Status, as a
 * Kubernetes API server does with a slow watch): this one then watches again from the last resourceVersion it
 * received, and lists again (a watch without resourceVersion starts with every object) when the Status names
 * none or the resume window no longer covers it (HTTP 410).
 */
function watchReady(app: ApplianceProcess, want: number, plural = 'servicechains'): { done: Promise<number>; close(): void } {
  const ctrl = new AbortController()
  const ready = new Set<string>()
  // The resourceVersion of the last event received (its SSE id); undefined: list first.
  let since: string | undefined
  let rewatches = 0
  const done = (async () => {
    for (;;) {
      if (rewatches > 1000) throw new Error(`${plural} watch: dropped ${rewatches} times, giving up`)
      const query = since === undefined ? '' : `&resourceVersion=${since}`
      const res = await fetch(`${app.url}/apis/${SVC}/namespaces/default/${plural}?watch=true${query}`, {
        headers: { authorization: `Bearer ${app.token}` },
        signal: ctrl.signal,
      })
      if (res.status === 410 && since !== undefined) {
        // The bookmark fell out of the resume window: list again.
        await res.body?.cancel()
        log(`        ${plural} watch: resourceVersion ${since} is gone (410); listing again`)
        since = undefined
        rewatches++
        continue
      }
      if (!res.ok) throw new Error(`${plural} watch: HTTP ${res.status}: ${await res.text()}`)
      // A list replaces what the last one said: objects deleted meanwhile get no DELETED event.
      if (since === undefined) ready.clear()
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
      let buf = ''
      let dropped = false
      while (!dropped) {
        const { value, done: end } = await reader.read()
        if (end) {
          // Ended without a Status (a restart, a proxy): a list is right whatever the stream had sent.
          since = undefined
          rewatches++
          break
        }
        buf += value
        let i
        // One SSE message per blank-line-separated block: `event:`, `id:` (the resourceVersion), `data:`.
        while (!dropped && (i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i).split('\n')
          buf = buf.slice(i + 2)
          const field = (name: string) => block.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2)
          const [type, id, data] = [field('event'), field('id'), field('data')]
          if (data === undefined) continue // keep-alive comment
          if (type === 'ERROR') {
            const status = (JSON.parse(data) as { object: { code?: number; message?: string; metadata?: { resourceVersion?: string } } }).object
            since = status.metadata?.resourceVersion
            rewatches++
            dropped = true
            log(`        ${plural} watch: dropped by the appliance (${status.code}: ${status.message}); ${since === undefined ? 'listing again' : `watching again from ${since}`}`)
            continue
          }
          if (id !== undefined) since = id
          const o = (JSON.parse(data) as { object: WatchedObject }).object
          const ok = type !== 'DELETED' && o.status.observedGeneration === o.metadata.generation && o.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          if (ok) ready.add(o.metadata.name)
          else ready.delete(o.metadata.name)
          if (ready.size >= want) {
            ctrl.abort()
            if (rewatches > 0) log(`        ${plural} watch: all ${want} Ready after ${rewatches} re-watches`)
            return performance.now()
          }
        }
      }
      await reader.cancel().catch(() => undefined)
    }
  })()
  return { done, close: () => ctrl.abort() }
}

async function iperf(cleanup: Cleanup, from: string, toNs: string, toIp: string, port: number): Promise<number> {
  // Warm up ARP and the path first: vswitchd may still be bringing the ports up right after a reconfiguration.
  for (let i = 0; (await ping(from, toIp, { count: 1, interval: 0.2, timeoutS: 1 })).received === 0; i++) {
    if (i === 20) throw new Error(`no path from ${from} to ${toIp}`)
  }
  const server = await startIperf3Server(cleanup, toNs, { port, timeoutS: IPERF_S + 30 })
  const r = await iperf3Client(from, toIp, { port, durationS: IPERF_S })
  await server.done
  return r.bitsPerSecond / 1e9
}

/** Alternating rounds (NORMAL, chain, NORMAL, chain, ...) over the same veths; medians, since one shared VM is noisy. */
async function throughput(cleanup: Cleanup, ovs: OvsSandbox, app: ApplianceProcess, api: Api, rounds: number): Promise<{ normal: number[]; chain: number[] }> {
  const nsA = await createNetns(cleanup, 'tn')
  const nsB = await createNetns(cleanup, 'tn')
  await createVethPair(cleanup, { name: 'ta', netns: ovs.netns, peer: 'ext0', peerNetns: nsA, addr: '10.88.0.1/24', disableOffloads: true })
  await createVethPair(cleanup, { name: 'tb', netns: ovs.netns, peer: 'ext0', peerNetns: nsB, addr: '10.88.0.2/24', disableOffloads: true })
  const out = { normal: [] as number[], chain: [] as number[] }
  let port = 5301
  for (let r = 0; r < rounds; r++) {
    // A bridge without fail_mode forwards with its default flow, priority=0 actions=NORMAL.
    await ovs.vsctl('add-br', 'br-base', '--', 'set', 'bridge', 'br-base', 'datapath_type=netdev', '--', 'add-port', 'br-base', 'ta', '--', 'add-port', 'br-base', 'tb')
    await ovs.ofctl('add-flow', 'br-base', 'priority=0,actions=NORMAL')
    out.normal.push(await iperf(cleanup, nsA, nsB, '10.88.0.2', port++))
    await ovs.vsctl('del-br', 'br-base')

    const docs = [physical('ta', 'ta', { tput: 'a' }), physical('tb', 'tb', { tput: 'b' }), chain('tput', [{ tput: 'a' }, { tput: 'b' }])]
    const ready = watchReady(app, 1)
    await api.apply(docs)
    await ready.done
    out.chain.push(await iperf(cleanup, nsA, nsB, '10.88.0.2', port++))
    await api.delete(docs)
    // The appliance removes the ports it owned and the chain's flows; wait for both before giving the veths to
    // br-base again (and before the next section counts what br-sfc holds).
    const cookie = `cookie=${formatCookie(chainCookie('default', 'tput'))}`
    await until(
      'ta/tb and their chain off br-sfc',
      async () => {
        const [ports, flows] = await Promise.all([ovs.vsctl('list-ports', 'br-sfc'), api.flows('br-sfc')])
        return !/\b(ta|tb)\b/.test(ports) && !flows.some((f) => f.split(/[ ,]/).includes(cookie))
      },
      60_000,
      100,
    )
  }
  return out
}

/** N two-port chains over some ports, and how one chain's second port moves to a spare interface and back. */
interface Shape {
  name: string
  describe: string
  /** Creates the netdevs in vswitchd's netns (untimed); returns what it made, for the log. */
  netdevs(ovs: OvsSandbox): Promise<string>
  interfaces: Doc[]
  chains: Doc[]
  chainName(i: number): string
  /** Chain i after a change: its second port on the spare interface, or back on its own. */
  changed(i: number, toSpare: boolean): Doc
}

async function ipBatch(ovs: OvsSandbox, name: string, lines: string[]): Promise<void> {
  writeFileSync(join(ovs.rundir, name), lines.join('\n') + '\n')
  await run('ip', ['-n', ovs.netns!, '-batch', join(ovs.rundir, name)])
}

function vlanShape(): Shape {
  const a = (i: number) => ({ vchain: String(i), end: 'a' })
  const b = (i: number) => ({ vchain: String(i), end: 'b' })
  const interfaces = [physical('tk0', 'tk0', { trunk: '0' }), physical('tk1', 'tk1', { trunk: '1' }), vlan('vspare', 'tk1', SPARE_VLAN, { vspare: 'yes' })]
  for (let i = 0; i < N; i++) interfaces.push(vlan(`va${i}`, 'tk0', i + 1, a(i)), vlan(`vb${i}`, 'tk1', i + 1, b(i)))
  return {
    name: 'vlan',
    describe: `${N} chains over ${2 * N + 1} vlan interfaces on 2 trunk ports (tk0, tk1)`,
    async netdevs(ovs) {
      await ipBatch(ovs, 'trunks.batch', ['link set lo up', 'link add tk0 type veth peer name tk1', 'link set tk0 up', 'link set tk1 up'])
      return 'one veth pair tk0/tk1'
    },
    interfaces,
    chains: Array.from({ length: N }, (_, i) => chain(`v${i}`, [a(i), b(i)])),
    chainName: (i) => `v${i}`,
    changed: (i, toSpare) => chain(`v${i}`, [a(i), toSpare ? { vspare: 'yes' } : b(i)]),
  }
}

function vethShape(): Shape {
  const a = (i: number) => ({ chain: String(i), end: 'a' })
  const b = (i: number) => ({ chain: String(i), end: 'b' })
  const interfaces = [physical('spare', 'sp0', { spare: 'yes' })]
  for (let i = 0; i < N; i++) interfaces.push(physical(`ca${i}`, `ca${i}`, a(i)), physical(`cb${i}`, `cb${i}`, b(i)))
  return {
    name: 'veth',
    describe: `${N} chains over ${2 * N + 1} physical interfaces, each its own OVS port (veths)`,
    async netdevs(ovs) {
      const lines = ['link set lo up']
      for (let i = 0; i < N; i++) lines.push(`link add ca${i} type veth peer name cb${i}`, `link set ca${i} up`, `link set cb${i} up`)
      lines.push('link add sp0 type veth peer name sp1', 'link set sp0 up', 'link set sp1 up')
      await ipBatch(ovs, 'veths.batch', lines)
      return `${N + 1} veth pairs`
    },
    interfaces,
    chains: Array.from({ length: N }, (_, i) => chain(`c${i}`, [a(i), b(i)])),
    chainName: (i) => `c${i}`,
    changed: (i, toSpare) => chain(`c${i}`, [a(i), toSpare ? { spare: 'yes' } : b(i)]),
  }
}

interface Sums {
  passS: number
  passes: number
  batchS: number
  batches: number
  applyS: number
  applies: number
}

/** Prometheus text from the appliance: every metric, or only those `names`. */
function metricsText(api: Api, ...names: string[]): Promise<string> {
  return api.call<string>('GET', `/metrics${names.map((n, i) => `${i === 0 ? '?' : '&'}name=${n}`).join('')}`)
}

async function sums(api: Api): Promise<Sums> {
  const text = await metricsText(api)
  const v = (name: string) => Number(new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(text)?.[1] ?? 0)
  return {
    passS: v('dpu_appliance_reconcile_duration_seconds_sum\\{loop="chains"\\}'),
    passes: v('dpu_appliance_reconcile_duration_seconds_count\\{loop="chains"\\}'),
    batchS: v('dpu_appliance_flow_batch_duration_seconds_sum\\{bridge="br-sfc"\\}'),
    batches: v('dpu_appliance_flow_batch_duration_seconds_count\\{bridge="br-sfc"\\}'),
    applyS: v('dpu_appliance_http_request_duration_seconds_sum\\{method="POST",route="/apis/appliance/v1/apply"\\}'),
    applies: v('dpu_appliance_http_request_duration_seconds_count\\{method="POST",route="/apis/appliance/v1/apply"\\}'),
  }
}

/**
 * The appliance keeps working for a while after answering (the status write triggers another pass): wait until its
 * loops are quiet, so neither side of the comparison runs while the other one's leftovers use the CPU.
 * Quiet = no pass finished over two consecutive 120 ms windows (a change's chains pass takes ms here).
 */
async function waitIdle(api: Api): Promise<void> {
  // One metric only: the whole text (every chain's samples) would itself keep the appliance busy for ~10 ms.
  const passes = async () => {
    const text = await metricsText(api, 'dpu_appliance_reconcile_passes_total')
    return [...text.matchAll(/^dpu_appliance_reconcile_passes_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0)
  }
  const sleep = () => new Promise((r) => setTimeout(r, 120))
  let last = await passes()
  for (let stable = 0; stable < 2;) {
    await sleep()
    const now = await passes()
    stable = now === last ? stable + 1 : 0
    last = now
  }
}

async function createChains(ovs: OvsSandbox, app: ApplianceProcess, api: Api, shape: Shape): Promise<void> {
  const tDev = performance.now()
  const made = await shape.netdevs(ovs)
  log(`[${shape.name}] ${shape.describe}; netdevs: ${made} in vswitchd's netns in ${ms(performance.now() - tDev)} (setup, not timed below)`)
  const watch = watchReady(app, N)
  const portsWatch = watchReady(app, shape.interfaces.length, 'serviceinterfaces')
  const t0 = performance.now()
  for (let i = 0; i < shape.interfaces.length; i += 1000) await api.apply(shape.interfaces.slice(i, i + 1000))
  await api.apply(shape.chains)
  const tPosted = performance.now()
  const tReady = await watch.done
  const tPorts = await portsWatch.done
  const metrics = await metricsText(api)
  const mem = await memory(app, api)
  const installedFlows = (await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-sfc')).split('\n').filter((l) => l.includes('cookie=')).length
  const ports = (await ovs.vsctl('list-ports', 'br-sfc')).split('\n').filter(Boolean).length
  log(
    `[${shape.name}] create: ${N} chains + ${shape.interfaces.length} interfaces posted in ${ms(tPosted - t0)} (${Math.ceil(shape.interfaces.length / 1000) + 1} batches); ` +
      `all Ready (flows confirmed by barrier) ${ms(tReady - t0)} after the first request ` +
      `(every ServiceInterface Ready: ${ms(tPorts - t0)}); ${installedFlows} flows and ${ports} ports on br-sfc`,
  )
  log(`[${shape.name}] memory: ${mem}`)
  if (flags['heap-snapshot']) log(`        heap snapshot: ${await heapSnapshot(app, api, flags['heap-snapshot'])}`)
  const batches = /dpu_appliance_flow_batches_total\{bridge="br-sfc",kind="diff"\} (\d+)/.exec(metrics)?.[1]
  log(`        chains passes so far: ${/dpu_appliance_reconcile_passes_total\{loop="chains",result="ok"\} (\d+)/.exec(metrics)?.[1]}, flow batches (diff): ${batches}`)
}

/** DESIGN.md §8: the appliance's RSS with 1,000 chains stays under this. */
const RSS_BUDGET_MIB = 96
const MiB = 1024 * 1024

/**
 * The appliance's memory, from the kernel (RSS, and its anonymous/file split: file pages are shared code and
 * the SQLite file) and from V8 (prom-client's default metrics, read in the appliance itself), with the budget.
 */
async function memory(app: ApplianceProcess, api: Api): Promise<string> {
  const status = readFileSync(`/proc/${app.pid}/status`, 'utf8')
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024
  // prom-client sets all three heap gauges in the collect of heap_size_total only: it must be asked for first.
  const text = await metricsText(api, 'nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes')
  const v = (name: string) => Number(new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN) / MiB
  const rss = kib('VmRSS')
  // The appliance's CPU time so far (user + system, from /proc/<pid>/stat): what a memory setting costs in CPU,
  // which wall-clock figures on a shared machine cannot show. Fields 14 and 15 after the parenthesised name.
  const stat = readFileSync(`/proc/${app.pid}/stat`, 'utf8')
  const [utime, stime] = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .slice(11, 13)
    .map(Number)
  const cpuSeconds = (utime! + stime!) / CLOCK_TICKS
  return (
    `appliance RSS ${rss.toFixed(1)} MiB (budget ${RSS_BUDGET_MIB} MiB: ${rss <= RSS_BUDGET_MIB ? 'met' : 'MISSED'}, ${(rss / RSS_BUDGET_MIB).toFixed(2)}x; ` +
    `anon ${kib('RssAnon').toFixed(1)}, file ${kib('RssFile').toFixed(1)}, peak ${kib('VmHWM').toFixed(1)} MiB); ` +
    `JS heap used ${v('nodejs_heap_size_used_bytes').toFixed(1)} of ${v('nodejs_heap_size_total_bytes').toFixed(1)} MiB, external ${v('nodejs_external_memory_bytes').toFixed(1)} MiB; CPU ${cpuSeconds.toFixed(1)} s so far`
  )
}

/** `getconf CLK_TCK`: 100 on every Linux the benchmark runs on. */
const CLOCK_TICKS = 100

/**
 * Has the appliance write a heap snapshot (it was started with --heapsnapshot-signal=SIGUSR2) and waits until
 * it is written: V8 writes it on the main thread, so the first request answered after the signal comes after it.
 */
async function heapSnapshot(app: ApplianceProcess, api: Api, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir))
  process.kill(app.pid, 'SIGUSR2')
  let file: string | undefined
  await until(
    'the heap snapshot',
    async () => {
      file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f))
      return file !== undefined && (await api.call('GET', '/healthz')) !== undefined
    },
    300_000,
    500,
  )
  return join(dir, file!)
}

/** The installed flows of one chain (its cookie), as the appliance dumps them in ovs-ofctl text. */
async function chainFlows(api: Api, name: string): Promise<string[]> {
  const cookie = `cookie=${formatCookie(chainCookie('default', name))}`
  return (await api.flows('br-sfc')).filter((f) => f.split(/[ ,]/).includes(cookie))
}

/**
 * One chain change at a time, REST request -> barrier; baseline: `ovs-ofctl --bundle add-flows` of the same
 * chain's flows after the change (read back from the switch, untimed), on br-dpf preloaded with all chains' flows.
 * Two ways, the same changes:
 *   isolated    each change (ours or DPF's) starts after the appliance's loops were quiet for >= 240 ms, so
 *               nothing else runs; on this VM that also means cold CPUs (a vCPU woken from idle, cold caches),
 *               which costs every process hop here (~0.5 ms each way for plain HTTP);
 *   sequential  each change is sent as soon as the previous one is confirmed, as a script or an operator's
 *               batch of edits does: ours back to back, then DPF's the same way.
 */
async function changeChains(ovs: OvsSandbox, api: Api, shape: Shape): Promise<void> {
  await ovs.vsctl('--may-exist', 'add-br', 'br-dpf', '--', 'set', 'bridge', 'br-dpf', 'datapath_type=netdev', 'fail_mode=secure')
  await ovs.ofctl('del-flows', 'br-dpf')
  const allFlows = await api.flows('br-sfc')
  writeFileSync(join(ovs.rundir, 'all.flows'), allFlows.join('\n') + '\n')
  await ovs.ofctl('-O', 'OpenFlow14', '--bundle', 'add-flows', 'br-dpf', join(ovs.rundir, 'all.flows'))
  const original = await chainFlows(api, shape.chainName(0))
  log(`        a two-port chain's flows: ${original.join(' | ')}`)

  await waitIdle(api)
  const echo = [...(await ovs.ofctl('-O', 'OpenFlow14', 'ping', 'br-sfc', '10')).matchAll(/time=([\d.]+) ?ms/g)].map((m) => Number(m[1]))
  log(`        vswitchd OpenFlow echo round trip on br-sfc (${echo.length} pings): p50 ${ms(percentile(echo, 50))} p99 ${ms(percentile(echo, 99))}`)
  // And how long one HTTP exchange with the appliance takes at all, with the same client: GET /healthz.
  const hz: number[] = []
  for (let i = 0; i < 200; i++) {
    const t = performance.now()
    await api.call('GET', '/healthz')
    hz.push(performance.now() - t)
  }
  log(`        HTTP round trip with this client (GET /healthz, 200 requests): p50 ${ms(percentile(hz, 50))} p99 ${ms(percentile(hz, 99))}`)
  const flowFile = (name: string) => join(ovs.rundir, `${name}.flows`)
  const timeOurs = async (j: number, doc: Doc, into: number[]) => {
    const t = performance.now()
    const r = await api.apply([doc], true)
    const dt = performance.now() - t
    if (!r.flows?.installed) throw new Error(`change ${j}: not installed within the wait`)
    into.push(dt)
  }
  const timeDpf = async (file: string, into: number[]) => {
    const t = performance.now()
    await run('ovs-ofctl', ['-O', 'OpenFlow14', '--bundle', 'add-flows', 'br-dpf', file], { env: ovs.env })
    into.push(performance.now() - t)
  }
  const report = (mode: string, ours: number[], dpf: number[], before: Sums, after: Sums) => {
    const avg = (s: number, n: number) => (n > 0 ? ms((s * 1000) / n) : '-')
    log(
      `[${shape.name}] change, ${mode} (${ours.length} changes): REST -> barrier p50 ${ms(percentile(ours, 50))} p99 ${ms(percentile(ours, 99))} max ${ms(Math.max(...ours))} (targets 5 / 20 ms); ` +
        `ovs-ofctl --bundle add-flows p50 ${ms(percentile(dpf, 50))} p99 ${ms(percentile(dpf, 99))}; ratio p50 ${(percentile(ours, 50) / percentile(dpf, 50)).toFixed(2)}x p99 ${(percentile(ours, 99) / percentile(dpf, 99)).toFixed(2)}x`,
    )
    log(
      `        appliance during these changes: chains pass avg ${avg(after.passS - before.passS, after.passes - before.passes)} (${after.passes - before.passes} passes), ` +
        `of which flow batch send -> barrier avg ${avg(after.batchS - before.batchS, after.batches - before.batches)} (${after.batches - before.batches} batches); ` +
        `its own time per apply request (its HTTP histogram) avg ${avg(after.applyS - before.applyS, after.applies - before.applies)}`,
    )
  }

  // Chain k's flows before its change (from the preload dump) and after it (read back after our change): DPF's files.
  const flowsBefore = new Map<string, string[]>()
  for (const f of allFlows) {
    const cookie = /cookie=(0x[0-9a-f]+)/.exec(f)?.[1]
    if (cookie) flowsBefore.set(cookie, [...(flowsBefore.get(cookie) ?? []), f])
  }
  const files: string[] = []

  // Isolated: every change, ours and DPF's, starts on a quiet appliance (loops idle for >= 240 ms).
  let before = await sums(api)
  const ours: number[] = []
  const dpf: number[] = []
  for (let j = 0; j < CHANGES; j += 2) {
    const k = Math.floor(j / 2) % N
    const back = flowsBefore.get(formatCookie(chainCookie('default', shape.chainName(k)))) ?? []
    await waitIdle(api)
    await timeOurs(j, shape.changed(k, true), ours)
    const spare = await chainFlows(api, shape.chainName(k))
    if (spare.length !== 2 || back.length !== 2) throw new Error(`chain ${shape.chainName(k)}: expected 2 flows before and after, found ${back.length} / ${spare.length}`)
    writeFileSync(flowFile(`c${k}-spare`), spare.join('\n') + '\n')
    writeFileSync(flowFile(`c${k}-back`), back.join('\n') + '\n')
    files.push(flowFile(`c${k}-spare`), flowFile(`c${k}-back`))
    await waitIdle(api)
    await timeDpf(flowFile(`c${k}-spare`), dpf)
    if (j + 1 < CHANGES) {
      await waitIdle(api)
      await timeOurs(j + 1, shape.changed(k, false), ours)
    }
    await waitIdle(api)
    await timeDpf(flowFile(`c${k}-back`), dpf)
  }
  report('isolated (each on a quiet system)', ours, dpf, before, await sums(api))

  // Sequential: the same changes back to back, each sent when the previous one is confirmed; then DPF's the same way.
  await waitIdle(api)
  before = await sums(api)
  const oursSeq: number[] = []
  for (let j = 0; j < CHANGES; j++) {
    const k = Math.floor(j / 2) % N
    await timeOurs(j, shape.changed(k, j % 2 === 0), oursSeq)
  }
  const after = await sums(api)
  await waitIdle(api)
  const dpfSeq: number[] = []
  for (const file of files.slice(0, CHANGES)) await timeDpf(file, dpfSeq)
  report('sequential (back to back)', oursSeq, dpfSeq, before, after)
}

async function restore(ovs: OvsSandbox, app: ApplianceProcess, shape: Shape): Promise<void> {
  const logsBefore = app.logs.length
  await ovs.killVswitchd()
  const tStart = performance.now()
  let tRestored = 0
  const restoredLine = new Promise<Record<string, unknown>>((resolve) => {
    const onData = () => {
      for (const line of app.logs.slice(logsBefore)) {
        if (line.includes('"flows restored after OpenFlow reconnect"') && line.includes('"br-sfc"')) {
          tRestored = performance.now()
          app.child.stderr!.off('data', onData)
          return resolve(JSON.parse(line) as Record<string, unknown>)
        }
      }
    }
    app.child.stderr!.on('data', () => setImmediate(onData))
  })
  await ovs.startVswitchd()
  const tStarted = performance.now()
  const restored = await Promise.race([restoredLine, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no restore within 60 s')), 60_000).unref())])
  const flowsAfter = (await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-sfc')).split('\n').filter((l) => l.includes('cookie=')).length
  log(
    `[${shape.name}] restore: ${restored.flows} flows back ${ms(Number(restored.ms))} after the OpenFlow connection (appliance's figure, target <= 1 s); ` +
      `${ms(tRestored - tStart)} after starting ovs-vswitchd (of which ${ms(tStarted - tStart)} until ovs-vswitchd --detach returned); ${flowsAfter} flows on br-sfc afterwards`,
  )
}

/** What br-sfc holds besides the chains: flow and port counts to come back to after a shape is removed. */
async function sfcCounts(ovs: OvsSandbox, api: Api): Promise<{ flows: number; ports: number }> {
  const [flows, ports] = await Promise.all([api.flows('br-sfc'), ovs.vsctl('list-ports', 'br-sfc')])
  return { flows: flows.length, ports: ports.split('\n').filter(Boolean).length }
}

/** Deletes a shape's chains and interfaces and waits until br-sfc is back to `base`. */
async function removeChains(ovs: OvsSandbox, api: Api, shape: Shape, base: { flows: number; ports: number }): Promise<void> {
  await api.delete(shape.chains)
  for (let i = 0; i < shape.interfaces.length; i += 1000) await api.delete(shape.interfaces.slice(i, i + 1000))
  let now = base
  await until(
    `${shape.name} chains gone from br-sfc`,
    async () => {
      now = await sfcCounts(ovs, api)
      return now.flows === base.flows && now.ports === base.ports
    },
    60_000,
    100,
  ).catch((err: Error) => {
    throw new Error(`${err.message}: br-sfc holds ${now.flows} flows and ${now.ports} ports, ${base.flows} and ${base.ports} before`)
  })
}

async function main(): Promise<void> {
  const cleanup = new Cleanup()
  // Stopped early (Ctrl-C, kill): still stop vswitchd and the appliance and remove the namespaces.
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)
    process.once(signal, () => void cleanup.run().finally(() => process.exit(code)))
  const shapes = flags.shapes.split(',').map((s) => {
    if (s === 'vlan') return vlanShape()
    if (s === 'veth') return vethShape()
    throw new Error(`--shapes: unknown shape ${s} (vlan, veth)`)
  })
  try {
    const ovs = await startOvsSandbox()
    cleanup.defer('ovs sandbox', () => ovs.stop())
    // Chained veth ends are peers of each other, so any packet the kernel sent would loop; IPv6 (router
    // solicitations, DAD) is the only sender on address-less links.
    await exec(ovs.netns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
    const app = await startApplianceProcess({
      ovs: { dbRemote: ovs.dbRemote, rundir: ovs.rundir, netns: ovs.netns },
      startTimeoutMs: 60_000,
      nodeArgs: [...flags['node-args'].split(' ').filter(Boolean), ...(flags['heap-snapshot'] ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${flags['heap-snapshot']}`] : [])],
    })
    cleanup.defer('appliance', () => app.dispose())
    const api = new Api(app)
    cleanup.defer('client', async () => api.close())
    log(`machine: ${(await run('nproc')).stdout.trim()} cpus, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)

    await until('the appliance to create br-sfc', async () => (await ovs.vsctl('list-br')).split('\n').includes('br-sfc'), 60_000, 100)
    log(`memory at idle (bridges up, no chains): ${await memory(app, api)}`)

    // 1. Throughput.
    if (ROUNDS > 0) {
      const tput = await throughput(cleanup, ovs, app, api, ROUNDS)
      const [normal, chained] = [percentile(tput.normal, 50), percentile(tput.chain, 50)]
      const g = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ')
      log(
        `throughput (${ROUNDS} alternating rounds of ${IPERF_S} s): chain median ${chained.toFixed(2)} Gbit/s [${g(tput.chain)}], NORMAL median ${normal.toFixed(2)} Gbit/s [${g(tput.normal)}] -> ratio ${(chained / normal).toFixed(2)}x (target >= 0.9x)`,
      )
    }

    // 2-4. Per shape: create, change, restore; then remove it so the next shape has br-sfc to itself.
    const base = await sfcCounts(ovs, api)
    for (const [i, shape] of shapes.entries()) {
      await createChains(ovs, app, api, shape)
      if (CHANGES > 0) await changeChains(ovs, api, shape)
      await restore(ovs, app, shape)
      log(`[${shape.name}] memory after changes and restore: ${await memory(app, api)}`)
      if (i < shapes.length - 1) await removeChains(ovs, api, shape, base)
    }
  } finally {
    await cleanup.run()
  }
}

await main()
