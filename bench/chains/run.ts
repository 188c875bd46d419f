/**
 * Service chaining at scale (issue #4), one run, everything real: a private OVS sandbox (userspace netdev
 * datapath, vswitchd in its own netns), the appliance as its own process (`dpuctl appliance run`), REST only.
 *
 *   1. throughput  iperf3 TCP through a two-port chain vs. the same veths on a bridge with the NORMAL action
 *                  (veth offloads off on every end). Target >= 0.9x.
 *   2. create      N two-port chains over 2N `physical` ServiceInterfaces backed by N veth pairs in vswitchd's
 *                  netns, posted in batches to /apis/appliance/v1/apply; the clock stops when a watch on the
 *                  chains has seen every chain Ready (Ready=True is written only after the barrier reply).
 *   3. change      one chain change per request (second port swapped to a spare interface and back), timed from
 *                  the REST request to the answer of `apply?wait=installed`, which comes after the barrier for the
 *                  chains pass that read this write. Baseline in the same run: DPF's mechanism, `ovs-ofctl --bundle
 *                  add-flows` of that chain's new flows from a file, on a bridge preloaded with the same flows.
 *                  Targets p50 <= 5 ms, p99 <= 20 ms.
 *   4. restore     SIGKILL ovs-vswitchd and start it again: time until the appliance has every flow back
 *                  (its programmer's own figure, OpenFlow connect -> barrier, and the wall time from starting
 *                  vswitchd). Target <= 1 s.
 *
 *   npx tsx bench/chains/run.ts [--chains 1000] [--changes 1000] [--iperf-seconds 5] [--iperf-rounds 3]
 *        [--node-args='--cpu-prof --cpu-prof-dir=DIR'] (node flags for the appliance process, for profiling)
 */
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs, promisify } from 'node:util'
import { startApplianceProcess, type ApplianceProcess } from '../../test/support/appliance-process.js'
import { Cleanup, createNetns, createVethPair, exec, iperf3Client, ping, startIperf3Server } from '../../test/support/netns.js'
import { startOvsSandbox, type OvsSandbox } from '../../test/support/ovs-sandbox.js'
import { chainCookie, formatCookie } from '../../appliance/sfc/cookie.js'
import { percentile } from '../support/percentile.js'

const run = promisify(execFile)
const { values: flags } = parseArgs({
  options: { 'node-args': { type: 'string', default: '' }, chains: { type: 'string', default: '1000' }, changes: { type: 'string', default: '1000' }, 'iperf-seconds': { type: 'string', default: '5' }, 'iperf-rounds': { type: 'string', default: '3' } },
})
const N = Number(flags.chains)
const CHANGES = Number(flags.changes)
const IPERF_S = Number(flags['iperf-seconds'])
const ROUNDS = Number(flags['iperf-rounds'])
const SVC = 'svc.dpu.nvidia.com/v1alpha1'

const ms = (x: number) => `${x.toFixed(1)} ms`
const log = (...a: unknown[]) => console.log(...a)

const si = (name: string, netdev: string, labels: Record<string, string>) => ({
  apiVersion: SVC,
  kind: 'ServiceInterface',
  metadata: { name, labels },
  spec: { interfaceType: 'physical', physical: { interfaceName: netdev } },
})
const chain = (name: string, ports: Array<Record<string, string>>) => ({
  apiVersion: SVC,
  kind: 'ServiceChain',
  metadata: { name },
  spec: { switches: [{ ports: ports.map((matchLabels) => ({ serviceInterface: { matchLabels } })) }] },
})

class Api {
  constructor(private readonly app: ApplianceProcess) {}
  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.app.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.app.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 500)}`)
    return JSON.parse(text) as T
  }
  apply(docs: unknown[], wait = false) {
    return this.call<{ flows?: { installed: boolean } }>('POST', `/apis/appliance/v1/apply${wait ? '?wait=installed&timeoutMs=30000' : ''}`, docs)
  }
}

/** Follows a kind's watch stream and resolves when `want` objects are Ready at their current generation. */
function watchReady(app: ApplianceProcess, want: number, plural = 'servicechains'): { done: Promise<number>; close(): void } {
  const ctrl = new AbortController()
  const ready = new Set<string>()
  const done = (async () => {
    const res = await fetch(`${app.url}/apis/${SVC}/namespaces/default/${plural}?watch=true`, {
      headers: { authorization: `Bearer ${app.token}` },
      signal: ctrl.signal,
    })
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    let buf = ''
    for (;;) {
      const { value, done: end } = await reader.read()
      if (end) throw new Error('watch ended')
      buf += value
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        if (!line.startsWith('data: ')) continue
        const ev = JSON.parse(line.slice(6)) as {
          type: string
          object: { metadata: { name: string; generation: number }; status: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> } }
        }
        const o = ev.object
        const ok = ev.type !== 'DELETED' && o.status.observedGeneration === o.metadata.generation && o.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
        if (ok) ready.add(o.metadata.name)
        else ready.delete(o.metadata.name)
        if (ready.size >= want) {
          ctrl.abort()
          return performance.now()
        }
      }
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

    const ready = watchReady(app, 1)
    await api.apply([si('ta', 'ta', { tput: 'a' }), si('tb', 'tb', { tput: 'b' }), chain('tput', [{ tput: 'a' }, { tput: 'b' }])])
    await ready.done
    out.chain.push(await iperf(cleanup, nsA, nsB, '10.88.0.2', port++))
    await api.call('POST', '/apis/appliance/v1/delete', [
      { apiVersion: SVC, kind: 'ServiceChain', metadata: { name: 'tput' } },
      { apiVersion: SVC, kind: 'ServiceInterface', metadata: { name: 'ta' } },
      { apiVersion: SVC, kind: 'ServiceInterface', metadata: { name: 'tb' } },
    ])
    // The appliance removes the ports it owned; wait for that before giving the veths to br-base again.
    for (let i = 0; /\b(ta|tb)\b/.test(await ovs.vsctl('list-ports', 'br-sfc')) && i < 100; i++) await new Promise((res) => setTimeout(res, 100))
  }
  return out
}

async function main(): Promise<void> {
  const cleanup = new Cleanup()
  process.once('SIGINT', () => void cleanup.run().then(() => process.exit(130)))
  try {
    const ovs = await startOvsSandbox()
    cleanup.defer('ovs sandbox', () => ovs.stop())
    // Chained veth ends are peers of each other, so any packet the kernel sent would loop; IPv6 (router
    // solicitations, DAD) is the only sender on address-less links.
    await exec(ovs.netns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
    const app = await startApplianceProcess({
      ovs: { dbRemote: ovs.dbRemote, rundir: ovs.rundir, netns: ovs.netns },
      startTimeoutMs: 60_000,
      nodeArgs: flags['node-args'].split(' ').filter(Boolean),
    })
    cleanup.defer('appliance', () => app.dispose())
    const api = new Api(app)
    log(`machine: ${(await run('nproc')).stdout.trim()} cpus, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)

    // 1. Throughput.
    const tput = await throughput(cleanup, ovs, app, api, ROUNDS)
    const [normal, chained] = [percentile(tput.normal, 50), percentile(tput.chain, 50)]
    const g = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ')
    log(`throughput (${ROUNDS} alternating rounds of ${IPERF_S} s): chain median ${chained.toFixed(2)} Gbit/s [${g(tput.chain)}], NORMAL median ${normal.toFixed(2)} Gbit/s [${g(tput.normal)}] -> ratio ${(chained / normal).toFixed(2)}x (target >= 0.9x)`)

    // 2. Create N chains.
    const batch = ['link set lo up']
    for (let i = 0; i < N; i++) batch.push(`link add ca${i} type veth peer name cb${i}`, `link set ca${i} up`, `link set cb${i} up`)
    batch.push('link add sp0 type veth peer name sp1', 'link set sp0 up', 'link set sp1 up')
    writeFileSync(join(ovs.rundir, 'veths.batch'), batch.join('\n') + '\n')
    const tVeth = performance.now()
    await run('ip', ['-n', ovs.netns!, '-batch', join(ovs.rundir, 'veths.batch')])
    log(`veths: ${N + 1} pairs in vswitchd's netns in ${ms(performance.now() - tVeth)} (setup, not timed below)`)

    const ifaces = [si('spare', 'sp0', { spare: 'yes' })]
    for (let i = 0; i < N; i++) ifaces.push(si(`ca${i}`, `ca${i}`, { chain: String(i), end: 'a' }), si(`cb${i}`, `cb${i}`, { chain: String(i), end: 'b' }))
    const chains = Array.from({ length: N }, (_, i) => chain(`c${i}`, [{ chain: String(i), end: 'a' }, { chain: String(i), end: 'b' }]))
    const watch = watchReady(app, N)
    const portsWatch = watchReady(app, ifaces.length, 'serviceinterfaces')
    const t0 = performance.now()
    for (let i = 0; i < ifaces.length; i += 1000) await api.apply(ifaces.slice(i, i + 1000))
    await api.apply(chains)
    const tPosted = performance.now()
    const tReady = await watch.done
    const tPorts = await portsWatch.done
    const metrics = await fetch(`${app.url}/metrics`).then((r) => r.text())
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${app.pid}/status`, 'utf8'))![1]) / 1024
    const installedFlows = (await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-sfc')).split('\n').filter((l) => l.includes('cookie=')).length
    log(
      `create: ${N} chains + ${2 * N + 1} interfaces posted in ${ms(tPosted - t0)} (${Math.ceil(ifaces.length / 1000) + 1} batches); ` +
        `all Ready (flows confirmed by barrier) ${ms(tReady - t0)} after the first request ` +
        `(every interface's port attached by vswitchd, ServiceInterface Ready: ${ms(tPorts - t0)}); ${installedFlows} flows on br-sfc; appliance RSS ${rss.toFixed(0)} MiB`,
    )
    const batches = /dpu_appliance_flow_batches_total\{bridge="br-sfc",kind="diff"\} (\d+)/.exec(metrics)?.[1]
    log(`        chains passes: ${/dpu_appliance_reconcile_passes_total\{loop="chains",result="ok"\} (\d+)/.exec(metrics)?.[1]}, flow batches (diff): ${batches}`)

    // 3. One chain change at a time, REST request -> barrier; baseline: ovs-ofctl --bundle add-flows.
    const ofport = async (iface: string) => Number((await ovs.vsctl('get', 'Interface', iface, 'ofport')).trim())
    const spare = await ofport('sp0')
    const dump = await api.call<{ items: Array<{ bridge: string; flows: string[] }> }>('GET', '/apis/appliance/v1/flows?bridge=br-sfc')
    const sfcFlows = dump.items[0]!.flows
    await ovs.vsctl('add-br', 'br-dpf', '--', 'set', 'bridge', 'br-dpf', 'datapath_type=netdev', 'fail_mode=secure')
    writeFileSync(join(ovs.rundir, 'all.flows'), sfcFlows.join('\n') + '\n')
    await ovs.ofctl('-O', 'OpenFlow14', '--bundle', 'add-flows', 'br-dpf', join(ovs.rundir, 'all.flows'))
    const byCookie = new Map<string, string[]>()
    for (const f of sfcFlows) {
      const c = /cookie=(0x[0-9a-f]+)/.exec(f)![1]!
      byCookie.set(c, [...(byCookie.get(c) ?? []), f])
    }
    log(`        a two-port chain's flows: ${[...byCookie.values()][0]!.join(' | ')}`)
    // The appliance keeps working for a while after answering (the status write triggers another pass): wait until
    // its loops are quiet so neither side of the comparison runs while the other one's leftovers use the CPU.
    const passes = async () => {
      const text = await fetch(`${app.url}/metrics`).then((r) => r.text())
      return [...text.matchAll(/^dpu_appliance_reconcile_passes_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0)
    }
    // Quiet = no pass finished over two consecutive 120 ms windows (a change's chains pass takes ~20 ms here).
    const waitIdle = async () => {
      const sleep = () => new Promise((r) => setTimeout(r, 120))
      let last = await passes()
      for (let stable = 0; stable < 2; ) {
        await sleep()
        const now = await passes()
        stable = now === last ? stable + 1 : 0
        last = now
      }
    }
    const sums = async () => {
      const text = await fetch(`${app.url}/metrics`).then((r) => r.text())
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
    // How fast vswitchd answers at all with this many ports: OpenFlow echo round trips on br-sfc (no process start
    // in the figure). Every change costs at least one such round trip; ours take two (see openflow/bundle.ts).
    await waitIdle()
    const echo = [...(await ovs.ofctl('-O', 'OpenFlow14', 'ping', 'br-sfc', '10')).matchAll(/time=([\d.]+) ?ms/g)].map((m) => Number(m[1]))
    log(`        vswitchd OpenFlow echo round trip on br-sfc (${echo.length} pings): p50 ${ms(percentile(echo, 50))} p99 ${ms(percentile(echo, 99))}`)
    const before = await sums()
    const ours: number[] = []
    const dpf: number[] = []
    const flowFile = join(ovs.rundir, 'chain.flows')
    for (let j = 0; j < CHANGES; j++) {
      const k = Math.floor(j / 2) % N
      const toSpare = j % 2 === 0
      const doc = chain(`c${k}`, [{ chain: String(k), end: 'a' }, toSpare ? { spare: 'yes' } : { chain: String(k), end: 'b' }])
      // DPF: the same chain's flows after the change, as a file, one bundle. Built from the installed text
      // (the appliance's flows and DPF's patch flows have the same shape: in_port=X -> output:Y, both ways).
      const b = await ofport(`cb${k}`)
      const cookieFlows = byCookie.get(formatCookie(chainCookie('default', `c${k}`))) ?? []
      if (cookieFlows.length !== 2) throw new Error(`chain c${k}: expected 2 installed flows, found ${cookieFlows.length}`)
      const text = cookieFlows
        .map((f) => (toSpare ? f.replaceAll(`in_port=${b}`, `in_port=${spare}`).replaceAll(`output:${b}`, `output:${spare}`) : f))
        .join('\n')
      writeFileSync(flowFile, text + '\n')
      await waitIdle()
      const t2 = performance.now()
      await run('ovs-ofctl', ['-O', 'OpenFlow14', '--bundle', 'add-flows', 'br-dpf', flowFile], { env: ovs.env })
      dpf.push(performance.now() - t2)

      // ovs-ofctl leaves nothing running behind it, so ours starts right away.
      const t = performance.now()
      const r = await api.apply([doc], true)
      const dt = performance.now() - t
      if (!r.flows?.installed) throw new Error(`change ${j}: not installed within the wait`)
      ours.push(dt)
    }
    log(
      `change (${CHANGES} changes): REST -> barrier p50 ${ms(percentile(ours, 50))} p99 ${ms(percentile(ours, 99))} max ${ms(Math.max(...ours))} (targets 5 / 20 ms); ` +
        `ovs-ofctl --bundle add-flows p50 ${ms(percentile(dpf, 50))} p99 ${ms(percentile(dpf, 99))}; ratio p50 ${(percentile(ours, 50) / percentile(dpf, 50)).toFixed(2)}x p99 ${(percentile(ours, 99) / percentile(dpf, 99)).toFixed(2)}x`,
    )

    const after = await sums()
    const avg = (s: number, n: number) => (n > 0 ? ms((s * 1000) / n) : '-')
    log(
      `        during the changes: chains pass avg ${avg(after.passS - before.passS, after.passes - before.passes)} (${after.passes - before.passes} passes), ` +
        `of which flow batch send -> barrier avg ${avg(after.batchS - before.batchS, after.batches - before.batches)} (${after.batches - before.batches} batches); ` +
        `the appliance's own time per apply request (its HTTP histogram) avg ${avg(after.applyS - before.applyS, after.applies - before.applies)}`,
    )

    // 4. vswitchd restart.
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
      `restore: ${restored.flows} flows back ${ms(Number(restored.ms))} after the OpenFlow connection (appliance's figure, target <= 1 s); ` +
        `${ms(tRestored - tStart)} after starting ovs-vswitchd (of which ${ms(tStarted - tStart)} until ovs-vswitchd --detach returned); ${flowsAfter} flows on br-sfc afterwards`,
    )
  } finally {
    await cleanup.run()
  }
}

await main()
