/**
 * bench/fleet: N protocol-level simulated agents (several processes, no OVS) on one hub process.
 *
 *   npx tsx bench/fleet/run.ts --agents 1000 [--workers 4] [--idle-seconds 60] [--changes 5]
 *
 * Measures, in one run:
 *   - change -> every agent acked: a manifest edit (written at t0) until the hub has received each agent's ack of
 *     the new revision (the session's `ackedAt`, stamped when the hub handles the ack); p50/p99/max over
 *     agents, repeated --changes times (p99 reported as the worst run; median and range of the per-change p99s
 *     too). The agents' own commit times are printed beside it. Includes the hub's 100 ms manifest debounce.
 *   - hub RSS per idle connected agent: (RSS with N agents idle - RSS of the same hub before any agent) / N.
 *   - idle bytes per agent per minute: TCP payload bytes on the hub's sockets over --idle-seconds / N.
 * Baselines in the same run: the empty hub's RSS, and the issue's targets (printed as measured/target ratios).
 * Agents are insecure (plaintext) here: issuing 10,000 certificates would dominate the run; TLS adds per
 * connection memory and ~30 bytes per record, noted in BENCHMARKS.md.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { chainYaml, INTERFACES_YAML, writeAtomic } from '../../test/support/federation-fixtures.js'
import { percentile } from '../support/percentile.js'
import { load, spread } from '../support/stats.js'

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '4' },
    'idle-seconds': { type: 'string', default: '60' },
    changes: { type: 'string', default: '5' },
    rate: { type: 'string', default: '400' },
  },
})
const N = Number(values.agents)
const W = Number(values.workers)
const IDLE_S = Number(values['idle-seconds'])
const CHANGES = Number(values.changes)
const HEARTBEAT_MS = 20_000

const here = fileURLToPath(new URL('.', import.meta.url))
const children: ChildProcess[] = []

function spawnWorker(file: string, args: string[] = [], execArgv: string[] = []): ChildProcess {
  const c = fork(join(here, file), args, { execArgv: ['--import', 'tsx', ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  children.push(c)
  return c
}

function request<T>(c: ChildProcess, msg: object, ev: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { ev: string }): void => {
      if (m.ev !== ev) return
      c.off('message', on)
      resolve(m as T)
    }
    c.on('message', on)
    if (Object.keys(msg).length) c.send(msg)
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
interface HubStats {
  rss: number
  heapUsed: number
  sessions: number
  synced: number
  socketBytes: number
}
interface WorkerStatus {
  connected: number
  synced: number
  bytes: number
  rss: number
}

const work = await mkdtemp(join(tmpdir(), 'bench-fleet-'))
try {
  const manifests = join(work, 'manifests')
  await mkdir(manifests)
  await writeAtomic(join(manifests, 'interfaces.yaml'), INTERFACES_YAML)
  await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a', 'v0'))

  const hub = spawnWorker('hub-worker.ts', [join(work, 'hub'), manifests, String(3 * HEARTBEAT_MS + 30_000)], ['--expose-gc'])
  const { grpcPort } = await request<{ grpcPort: number }>(hub, {}, 'ready')
  await sleep(1000)
  const empty = await request<HubStats>(hub, { cmd: 'stats' }, 'stats')

  const workers = Array.from({ length: W }, () => spawnWorker('sim-worker.ts'))
  await Promise.all(workers.map((w) => request(w, {}, 'ready')))
  const t0connect = Date.now()
  const per = Math.ceil(N / W)
  await Promise.all(
    workers.map((w, i) => {
      const names = Array.from({ length: Math.max(0, Math.min(per, N - i * per)) }, (_, j) => `sim-${i * per + j}`)
      return request(w, { cmd: 'start', hub: `127.0.0.1:${grpcPort}`, names, labels: { zone: 'a' }, ratePerSec: Number(values.rate) / W, heartbeatMs: HEARTBEAT_MS }, 'started')
    }),
  )
  const status = async (): Promise<WorkerStatus> => {
    const all = await Promise.all(workers.map((w) => request<WorkerStatus>(w, { cmd: 'status' }, 'status')))
    return all.reduce((a, b) => ({ connected: a.connected + b.connected, synced: a.synced + b.synced, bytes: a.bytes + b.bytes, rss: a.rss + b.rss }))
  }
  for (;;) {
    const s = await status()
    if (s.synced === N) break
    if (Date.now() - t0connect > 600_000) throw new Error(`only ${s.synced}/${N} agents synced`)
    await sleep(500)
  }
  const connectSeconds = (Date.now() - t0connect) / 1000

  // Change -> all acked, repeated.
  const runs: Array<{ p50: number; p99: number; max: number; agentCommitP99: number }> = []
  for (let i = 1; i <= CHANGES; i++) {
    await sleep(1500)
    const t0 = Date.now()
    await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a', `v${i}`))
    let acked: Array<number | null> = []
    for (;;) {
      await sleep(100)
      acked = (await request<{ acked: Array<number | null> }>(hub, { cmd: 'acks-after', since: t0 }, 'acks')).acked
      if ((acked.length === N && acked.every((x) => x !== null)) || Date.now() - t0 > 120_000) break
    }
    const ms = acked.filter((x): x is number => x !== null).map((x) => x - t0)
    if (ms.length < N) throw new Error(`change ${i}: the hub has only ${ms.length}/${N} acks`)
    const commits = (await Promise.all(workers.map((w) => request<{ latencies: Array<number | null> }>(w, { cmd: 'commits-after', since: t0 }, 'commits'))))
      .flatMap((r) => r.latencies)
      .filter((x): x is number => x !== null)
      .map((x) => x - t0)
    runs.push({ p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms), agentCommitP99: percentile(commits, 99) })
    console.log(
      `change ${i}: hub has every ack: p50 ${runs.at(-1)!.p50} ms, p99 ${runs.at(-1)!.p99} ms, max ${runs.at(-1)!.max} ms (agents committed p99 ${runs.at(-1)!.agentCommitP99} ms); ${load()}`,
    )
  }

  // Idle: RSS and bytes over a quiet window.
  await sleep(2000)
  const idle0 = await request<HubStats>(hub, { cmd: 'stats' }, 'stats')
  await sleep(IDLE_S * 1000)
  const idle1 = await request<HubStats>(hub, { cmd: 'stats' }, 'stats')
  const bytesPerAgentMin = ((idle1.socketBytes - idle0.socketBytes) / N) * (60 / IDLE_S)
  const kbitPerSec = (bytesPerAgentMin * 8) / 60 / 1000
  const rssPerAgentKiB = (idle1.rss - empty.rss) / N / 1024
  const target = N >= 10_000 ? 5000 : 1000
  const worstP99 = Math.max(...runs.map((r) => r.p99))

  const result = {
    agents: N,
    workers: W,
    connectSeconds,
    changeToAllAckedMs: runs,
    p50Ms: percentile(
      runs.map((r) => r.p50),
      50,
    ),
    worstP99Ms: worstP99,
    p99AcrossChanges: spread(runs.map((r) => r.p99)),
    hubRssEmptyMiB: +(empty.rss / 2 ** 20).toFixed(1),
    hubRssIdleMiB: +(idle1.rss / 2 ** 20).toFixed(1),
    hubRssPerIdleAgentKiB: +rssPerAgentKiB.toFixed(1),
    hubHeapPerIdleAgentKiB: +((idle1.heapUsed - empty.heapUsed) / N / 1024).toFixed(1),
    loadAverage: (await import('node:os')).loadavg().map((x) => +x.toFixed(2)),
    idleBytesPerAgentPerMin: +bytesPerAgentMin.toFixed(1),
    idleKbitPerSecPerAgent: +kbitPerSec.toFixed(4),
    ratios: {
      p99VsTarget: +(worstP99 / target).toFixed(3),
      rssVs50KiB: +(rssPerAgentKiB / 50).toFixed(3),
      idleVs0_1kbit: +(kbitPerSec / 0.1).toFixed(3),
    },
  }
  console.log(JSON.stringify(result, null, 2))
  await Promise.all(workers.map((w) => new Promise((r) => (w.once('exit', r), w.send({ cmd: 'stop' })))))
  await new Promise((r) => (hub.once('exit', r), hub.send({ cmd: 'stop' })))
} finally {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  await rm(work, { recursive: true, force: true })
}
