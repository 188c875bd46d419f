/**
 * Services (issue #15; DESIGN.md §8 "50 services Ready within 1.2x of starting them with podman by hand"). One
 * run, everything real: a private OVS sandbox per backend (the appliance needs one; two appliances must not share
 * a switch), one appliance per backend (`--service-runtime process|podman`, as its own process), podman 4.3 with
 * the shipped containers.conf (runc, explicit ulimits), the busybox test image (no registry here).
 *
 *   1. start   N (default 50) plain v1 Pod manifests, each one busybox container running `sleep`, no interfaces,
 *              in one `dpuctl apply -f FILE`; timed from spawning dpuctl until the appliance's REST list of
 *              Services (what `dpuctl get services -o json` reads) shows all N Ready=True, polled every
 *              --poll-ms (default 50). Appliance RSS (/proc/PID/status VmRSS) once all are Ready.
 *      delete  `dpuctl delete -f FILE`, timed until the list is empty and the backend holds nothing: no service
 *              netns left, and (podman) `podman pod ps` shows none of the appliance's pods.
 *   2. baseline, in the same run, alternating with ours each round: the same N pods (same image, command, grace)
 *              with `podman kube play --network none`, once as one multi-document file and once as N invocations
 *              one after the other (the two ways of doing it "by hand"), timed from spawning the first podman
 *              until `podman pod ps` shows all N Running; removed with `podman kube down` (one call, or N).
 *              The pods' infra container is the same busybox `/pause` the appliance uses (kube play takes the
 *              infra image from containers.conf and its CMD, so the baseline gets a derived image with
 *              CMD ["/pause"] and a copy of the shipped containers.conf naming it).
 *   3. restart-to-traffic: a forwarding service (a Linux bridge between net1 and net2, as in
 *              test/e2e/service-pods.ovs.test.ts), chained p0 <-> net1 and net2 <-> p1; `ping -D -i 0.01` from a
 *              namespace behind p0 to one behind p1; the container's main pid killed with SIGKILL; printed: time
 *              from the kill to the first answered ping (ping's own timestamps), beside the restart backoff.
 *
 *   DPUCTL_BUILT=1 npx tsx bench/services/run.ts [--services 50] [--rounds 3] [--poll-ms 50]
 *        [--backends process,podman] [--by-hand both|file|each] [--restart process,podman]
 *
 * Needs root (netns, OVS), podman and busybox-static for the podman backend. Prints results; asserts nothing.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { stringify } from 'yaml'
import { z } from 'zod'
import { runDpuctl, startApplianceProcess, type ApplianceProcess } from '../../test/support/appliance-process.js'
import { ensureBusyboxImage } from '../../test/support/busybox-image.js'
import { until } from '../../test/support/until.js'
import { Cleanup, createNetns, createVethPair, exec, ping } from '../../bin/demo/netns.js'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { PODMAN_CONTAINERS_CONF } from '../../appliance/runtime/services/podman-runtime.js'
import { fmt, load, spread } from '../support/stats.js'

const { values: flags } = parseArgs({
  options: {
    services: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    'poll-ms': { type: 'string', default: '50' },
    backends: { type: 'string', default: 'process,podman' },
    'by-hand': { type: 'string', default: 'both' },
    restart: { type: 'string', default: 'process,podman' },
  },
})
const N = Number(flags.services)
const ROUNDS = Number(flags.rounds)
const POLL_MS = Number(flags['poll-ms'])
const BACKENDS = z.array(z.enum(['process', 'podman'])).parse(flags.backends.split(','))
const BY_HAND = z.enum(['both', 'file', 'each']).parse(flags['by-hand'])
/** Backends that get the restart-to-traffic measurement ('' for none). */
const RESTART = flags.restart.split(',').filter((r) => r !== '')
/** The grace both sides give the container (kube play and the appliance both honour it). */
const GRACE_S = 1
/**
 * `sleep` behind a shell that exits on SIGTERM: `sleep` alone is PID 1 in a podman container and ignores SIGTERM,
 * so every stop would wait out a grace period; the appliance removes a deleted Service's pod with a fixed 10 s
 * grace (its spec is gone), one pod after another, which would time that rather than the work (see BENCHMARKS.md).
 */
const SLEEP = ['/bin/sh', '-c', 'trap "exit 0" TERM; sleep 1000000 & wait']

const BUSYBOX_IMAGE = 'localhost/dpu-test-busybox:1'
const TAG = `svcb${process.pid}`
const INFRA_IMAGE = `localhost/${TAG}-infra:1`
const SVC = 'svc.dpu.nvidia.com/v1alpha1'
/** Matches the reconciler's default (appliance/services/services-reconciler.ts DEFAULT_BACKOFF); not a flag. */
const BACKOFF = 'initial 1000 ms, equal jitter (first restart 500-1000 ms after the exit), doubling to 60 s'

const log = (...a: unknown[]) => console.log(...a)
const ms = (x: number) => `${x.toFixed(0)} ms`
const work = mkdtempSync(join(tmpdir(), `${TAG}-`))
const cleanup = new Cleanup()
cleanup.defer('work dir', async () => rmSync(work, { recursive: true, force: true }))

// ---------------------------------------------------------------------------------------------- manifests

/** N Pods, `sleep` in busybox, no interfaces: the same work for the appliance and for `podman kube play`. */
const sleepPod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { 'svc.dpu.nvidia.com/service': name } },
  spec: { containers: [{ name: 'main', image: BUSYBOX_IMAGE, command: SLEEP }], terminationGracePeriodSeconds: GRACE_S },
})
const podNames = (prefix: string) => Array.from({ length: N }, (_, i) => `${prefix}${i}`)
const yamlOf = (docs: readonly object[]) => docs.map((d) => stringify(d)).join('---\n')

// ---------------------------------------------------------------------------------------------- podman CLI

const baselineConf = join(work, 'containers.conf')
const podmanEnv = { ...process.env, CONTAINERS_CONF: baselineConf }

function podman(args: string[], env: NodeJS.ProcessEnv = podmanEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('podman', args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')))
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')))
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`podman ${args.join(' ')}: exit ${code}: ${err.trim()}`))))
  })
}

/** Names of running pods whose name starts with `prefix`, from `podman pod ps`. */
async function podsRunning(prefix: string): Promise<{ running: number; any: number }> {
  const lines = (await podman(['pod', 'ps', '--filter', `name=^${prefix}`, '--format', '{{.Name}} {{.Status}}'])).split('\n').filter((l) => l.trim() !== '')
  return { running: lines.filter((l) => l.endsWith(' Running')).length, any: lines.length }
}

/** The baseline's infra: the test image with CMD ["/pause"], named in a copy of the shipped containers.conf. */
async function prepareBaseline(): Promise<void> {
  const shipped = { ...process.env, CONTAINERS_CONF: PODMAN_CONTAINERS_CONF }
  const src = `${TAG}-infra-src`
  await podman(['create', '--name', src, BUSYBOX_IMAGE], shipped)
  try {
    await podman(['commit', '-q', '--change', 'CMD ["/pause"]', src, INFRA_IMAGE], shipped)
  } finally {
    await podman(['rm', src], shipped)
  }
  cleanup.defer('baseline infra image', () => podman(['rmi', '-f', INFRA_IMAGE], shipped))
  // infra_image sits in [engine], the shipped file's last table.
  writeFileSync(baselineConf, `${readFileSync(PODMAN_CONTAINERS_CONF, 'utf8')}infra_image = "${INFRA_IMAGE}"\n`)
}

// ---------------------------------------------------------------------------------------------- the appliance

type Obj = { metadata: { name: string }; status?: { conditions?: Array<{ type: string; status: string }>; containers?: Array<{ pid?: number; restartCount?: number }> } }
const ready = (o: Obj | undefined) => o?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false
const podmanSocket = join(tmpdir(), `${TAG}-podman.sock`)

interface Backend {
  runtime: 'process' | 'podman'
  prefix: string
  ovs: OvsSandbox
  app: ApplianceProcess
}

/** `podman system service` the appliance started on our socket: stopped by pid (found by its socket path). */
function stopPodmanService(): void {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(`unix://${podmanSocket}`)) process.kill(Number(pid), 'SIGTERM')
    } catch {
      // gone meanwhile
    }
  }
}

async function startBackend(runtime: 'process' | 'podman'): Promise<Backend> {
  const prefix = `${TAG}${runtime[1]}-`
  const ovs = await startOvsSandbox()
  cleanup.defer(`ovs sandbox (${runtime})`, () => ovs.stop())
  const app = await startApplianceProcess({
    nodeName: `svcbench-${runtime}`,
    ovs: { dbRemote: ovs.dbRemote, rundir: ovs.rundir, netns: ovs.netns },
    extraArgs: [
      '--service-runtime',
      runtime,
      '--service-netns-prefix',
      prefix,
      ...(runtime === 'podman' ? ['--podman-socket', podmanSocket, '--podman-infra-image', BUSYBOX_IMAGE, '--podman-infra-command', '/pause'] : []),
    ],
    startTimeoutMs: 60_000,
  })
  cleanup.defer(`appliance (${runtime})`, () => app.dispose())
  if (runtime === 'podman') cleanup.defer('podman service', async () => stopPodmanService())
  return { runtime, prefix, ovs, app }
}

async function listServices(b: Backend): Promise<Obj[]> {
  const res = await fetch(`${b.app.url}/apis/${SVC}/namespaces/default/services`, { headers: { authorization: `Bearer ${b.app.token}` } })
  if (!res.ok) throw new Error(`list services: HTTP ${res.status}`)
  return ((await res.json()) as { items: Obj[] }).items
}

const dpuctl = async (b: Backend, args: string[]) => {
  const r = await runDpuctl(args, { env: b.app.clientEnv })
  if (r.code !== 0) throw new Error(`dpuctl ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`)
  return r.stdout
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024
const serviceNetnsLeft = async (prefix: string) => (await exec(undefined, 'ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${prefix}svc-`)).length

/** Nothing of ours left in the backend: no Service, no service netns, no podman pod. */
async function backendEmpty(b: Backend): Promise<boolean> {
  if ((await listServices(b)).length > 0) return false
  if ((await serviceNetnsLeft(b.prefix)) > 0) return false
  return b.runtime === 'process' || (await podsRunning(`${b.prefix}dpu-`).catch(() => ({ any: 1 }))).any === 0
}

interface OursRound {
  readyMs: number
  rssMiB: number
  deleteMs: number
}

async function oursRound(b: Backend, round: number): Promise<OursRound> {
  const file = join(work, `ours-${b.runtime}-${round}.yaml`)
  writeFileSync(file, yamlOf(podNames(`s${round}-`).map(sleepPod)))
  const t0 = performance.now()
  await dpuctl(b, ['apply', '-f', file])
  await until(`${N} services Ready (${b.runtime})`, async () => (await listServices(b)).filter(ready).length === N, 600_000, POLL_MS)
  const readyMs = performance.now() - t0
  const rss = rssMiB(b.app.pid)
  const t1 = performance.now()
  await dpuctl(b, ['delete', '-f', file])
  await until(`${N} services gone (${b.runtime})`, () => backendEmpty(b), 600_000, POLL_MS)
  return { readyMs, rssMiB: rss, deleteMs: performance.now() - t1 }
}

// ---------------------------------------------------------------------------------------------- by hand

interface HandRound {
  readyMs: number
  deleteMs: number
}

async function byHandRound(mode: 'file' | 'each', round: number): Promise<HandRound> {
  const prefix = `${TAG}-${mode}${round}-`
  const names = podNames(prefix)
  const files = mode === 'file' ? [join(work, `${prefix}all.yaml`)] : names.map((n) => join(work, `${n}.yaml`))
  if (mode === 'file') writeFileSync(files[0]!, yamlOf(names.map(sleepPod)))
  else names.forEach((n, i) => writeFileSync(files[i]!, yamlOf([sleepPod(n)])))
  cleanup.defer(`pods ${prefix}*`, () => podman(['pod', 'rm', '-f', '--ignore', ...names]))
  const t0 = performance.now()
  for (const f of files) await podman(['kube', 'play', '--network', 'none', f])
  await until(`${N} pods running (${mode})`, async () => (await podsRunning(prefix)).running === N, 600_000, POLL_MS)
  const readyMs = performance.now() - t0
  const t1 = performance.now()
  for (const f of files) await podman(['kube', 'down', f])
  await until(`${N} pods gone (${mode})`, async () => (await podsRunning(prefix)).any === 0, 600_000, POLL_MS)
  return { readyMs, deleteMs: performance.now() - t1 }
}

// ---------------------------------------------------------------------------------------------- restart

/** The forwarding service of the e2e test: a Linux bridge between its two interfaces, rebuilt at every start. */
function forwarderDocs(): object[] {
  const script = 'ip link del br0 2>/dev/null; ip link add br0 type bridge && ip link set net1 master br0 && ip link set net2 master br0 && ip link set br0 up && exec sleep 1000000'
  const iface = (name: string, spec: object) => ({ apiVersion: SVC, kind: 'ServiceInterface', metadata: { name, labels: { port: name } }, spec })
  const chain = (name: string, a: string, c: string) => ({
    apiVersion: SVC,
    kind: 'ServiceChain',
    metadata: { name },
    spec: { switches: [{ ports: [{ serviceInterface: { matchLabels: { port: a } } }, { serviceInterface: { matchLabels: { port: c } } }] }] },
  })
  return [
    iface('p0', { interfaceType: 'physical', physical: { interfaceName: 'p0' } }),
    iface('p1', { interfaceType: 'physical', physical: { interfaceName: 'p1' } }),
    iface('fwd-in', { interfaceType: 'service', service: { serviceID: 'fwd', network: 'mybrsfc', interfaceName: 'net1' } }),
    iface('fwd-out', { interfaceType: 'service', service: { serviceID: 'fwd', network: 'mybrsfc', interfaceName: 'net2' } }),
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'fwd', labels: { 'svc.dpu.nvidia.com/service': 'fwd' }, annotations: { 'k8s.v1.cni.cncf.io/networks': 'mybrsfc@net1, mybrsfc@net2' } },
      spec: {
        containers: [
          {
            name: 'bridge',
            image: BUSYBOX_IMAGE,
            command: ['/bin/sh', '-c', script],
            securityContext: { capabilities: { add: ['NET_ADMIN'] } },
            // LOWER_UP, not "state UP": busybox's ip (in the podman image) prints no operstate; iproute2 (the
            // process backend runs the host's ip) prints both.
            readinessProbe: { exec: { command: ['/bin/sh', '-c', 'ip link show br0 | grep -q LOWER_UP'] }, periodSeconds: 1 },
          },
        ],
        terminationGracePeriodSeconds: 2,
      },
    },
    chain('c-in', 'p0', 'fwd-in'),
    chain('c-out', 'fwd-out', 'p1'),
  ]
}

interface RestartResult {
  /** Kill -> first answered ping (ping -D timestamps vs the kill's wall clock). */
  trafficMs: number
  /** Last answer before the kill -> first after it. */
  gapMs: number
  /** Kill -> the service reported Ready again with a new pid (polled). */
  readyMs: number
}

async function restartToTraffic(b: Backend): Promise<RestartResult> {
  const ext0 = await createNetns(cleanup, 'sb')
  const ext1 = await createNetns(cleanup, 'sb')
  await createVethPair(cleanup, { name: 'p0', netns: b.ovs.netns, peer: 'ext0', peerNetns: ext0, addr: '10.88.0.1/24', disableOffloads: true })
  await createVethPair(cleanup, { name: 'p1', netns: b.ovs.netns, peer: 'ext1', peerNetns: ext1, addr: '10.88.0.2/24', disableOffloads: true })
  const file = join(work, `fwd-${b.runtime}.yaml`)
  writeFileSync(file, yamlOf(forwarderDocs()))
  await dpuctl(b, ['apply', '-f', file])
  cleanup.defer(`forwarder (${b.runtime})`, async () => {
    if (b.app.child.exitCode !== null) return
    await runDpuctl(['delete', '-f', file, '--ignore-not-found'], { env: b.app.clientEnv })
    await until('forwarder removed', () => backendEmpty(b), 120_000, 200).catch(() => undefined)
  })
  const fwd = async () => (await listServices(b)).find((o) => o.metadata.name === 'fwd')
  await until('forwarder Ready', async () => ready(await fwd()), 180_000, 200).catch(async (err: unknown) => {
    throw new Error(`${(err as Error).message}; status: ${JSON.stringify((await fwd())?.status)}`)
  })
  // The chains become Ready after their flows' barrier; a ping that passes says the same.
  await until('ping through the forwarder', async () => (await ping(ext0, '10.88.0.2', { count: 1, timeoutS: 2 })).received === 1, 60_000, 200)

  const pinger = spawn('ip', ['netns', 'exec', ext0, 'ping', '-D', '-n', '-i', '0.01', '10.88.0.2'], { stdio: ['ignore', 'pipe', 'ignore'] })
  cleanup.process(pinger, 'ping -D')
  let out = ''
  pinger.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  await new Promise((r) => setTimeout(r, 1000))
  const before = (await fwd())!.status!.containers![0]!
  const pid = before.pid!
  const killedAt = Date.now() / 1000
  const killedPerf = performance.now()
  process.kill(pid, 'SIGKILL')
  await until(
    'restarted and Ready',
    async () => {
      const s = await fwd()
      const c = s?.status?.containers?.[0]
      return ready(s) && c?.pid !== undefined && c.pid !== pid
    },
    120_000,
    POLL_MS,
  )
  const readyMs = performance.now() - killedPerf
  const answeredAfter = () => [...out.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)].map((m) => Number(m[1]))
  await until('a ping answered after the kill', async () => answeredAfter().some((t) => t > killedAt), 120_000, POLL_MS)
  await new Promise((r) => setTimeout(r, 500))
  pinger.kill('SIGINT')
  const times = answeredAfter()
  const first = times.find((t) => t > killedAt)!
  const last = times.filter((t) => t <= killedAt).at(-1) ?? killedAt
  return { trafficMs: (first - killedAt) * 1000, gapMs: (first - last) * 1000, readyMs }
}

// ---------------------------------------------------------------------------------------------- main

const started: Backend[] = []

async function main(): Promise<void> {
  const podmanHere = spawnSync('podman', ['--version']).status === 0
  const backends = BACKENDS.filter((r) => r === 'process' || podmanHere)
  log(
    `bench/services: N=${N} services, ${ROUNDS} rounds, poll ${POLL_MS} ms, backends ${backends.join(',')}, by hand ${BY_HAND}, grace ${GRACE_S} s, DPUCTL_BUILT=${process.env.DPUCTL_BUILT ?? '0'}; ${load()}`,
  )
  if (podmanHere) {
    await ensureBusyboxImage(BUSYBOX_IMAGE)
    await prepareBaseline()
  }
  for (const r of backends) started.push(await startBackend(r))
  for (const b of started) log(`appliance (${b.runtime}) pid ${b.app.pid}, idle RSS ${rssMiB(b.app.pid).toFixed(1)} MiB`)

  const modes = !podmanHere ? [] : BY_HAND === 'both' ? (['file', 'each'] as const) : [BY_HAND]
  const ours = new Map<string, OursRound[]>(started.map((b) => [b.runtime, []]))
  const hand = new Map<string, HandRound[]>(modes.map((m) => [m, []]))
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate: each side runs in every round, so load swings hit both.
    for (const b of started) {
      const r = await oursRound(b, round)
      ours.get(b.runtime)!.push(r)
      log(`round ${round} ours ${b.runtime}: Ready ${ms(r.readyMs)}, RSS ${r.rssMiB.toFixed(1)} MiB, delete ${ms(r.deleteMs)}; ${load()}`)
    }
    for (const m of modes) {
      const r = await byHandRound(m, round)
      hand.get(m)!.push(r)
      log(`round ${round} podman kube play (${m === 'file' ? 'one file' : `${N} invocations`}): running ${ms(r.readyMs)}, kube down ${ms(r.deleteMs)}; ${load()}`)
    }
  }

  if (ROUNDS > 0) {
    log(`\nsummary (${N} services, median (min-max) of ${ROUNDS} rounds, first round in brackets); ${load()}`)
    for (const [rt, rs] of ours) {
      log(
        `  ours ${rt}: Ready ${fmt(spread(rs.map((r) => r.readyMs)))} [${ms(rs[0]!.readyMs)}], RSS ${fmt(spread(rs.map((r) => r.rssMiB)), 'MiB', 1)}, delete ${fmt(spread(rs.map((r) => r.deleteMs)))} [${ms(rs[0]!.deleteMs)}]`,
      )
    }
    for (const [m, rs] of hand) {
      log(
        `  podman kube play ${m === 'file' ? 'one file' : `x${N}`}: running ${fmt(spread(rs.map((r) => r.readyMs)))} [${ms(rs[0]!.readyMs)}], down ${fmt(spread(rs.map((r) => r.deleteMs)))} [${ms(rs[0]!.deleteMs)}]`,
      )
    }
    const pod = ours.get('podman')
    for (const [m, rs] of pod ? hand : []) {
      const ratios = rs.map((r, i) => pod![i]!.readyMs / r.readyMs)
      const ratio = spread(pod!.map((r) => r.readyMs)).median / spread(rs.map((r) => r.readyMs)).median
      log(
        `  ratio ours(podman)/kube play ${m === 'file' ? 'one file' : `x${N}`}: ${ratio.toFixed(2)}x of medians, per round ${ratios.map((x) => x.toFixed(2)).join(' ')} (budget <= 1.2x: ${ratio <= 1.2 ? 'met' : 'MISSED'})`,
      )
      const del = spread(pod!.map((r) => r.deleteMs)).median / spread(rs.map((r) => r.deleteMs)).median
      log(`  delete ratio ours(podman)/kube down ${m === 'file' ? 'one file' : `x${N}`}: ${del.toFixed(2)}x of medians`)
    }
  }

  if (RESTART.length > 0) {
    log(`\nrestart-to-traffic (ping -D -i 0.01; restart backoff ${BACKOFF})`)
    for (const b of started.filter((x) => RESTART.includes(x.runtime))) {
      const r = await restartToTraffic(b)
      log(`  ${b.runtime}: kill -9 -> first ping answered ${ms(r.trafficMs)} (gap between answers ${ms(r.gapMs)}), kill -> Ready again ${ms(r.readyMs)} (polled every ${POLL_MS} ms); ${load()}`)
    }
  }
}

try {
  await main()
} catch (err) {
  for (const b of started) console.error(`appliance (${b.runtime}) last log lines:\n${b.app.logs.slice(-40).join('\n')}`)
  throw err
} finally {
  await cleanup.run().catch((err: unknown) => console.error('cleanup:', err))
}
