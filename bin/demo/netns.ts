/**
 * Network namespaces, veth pairs and traffic tools for data-plane tests: ping (one-shot and long-running for
 * zero-loss checks), iperf3, tcpdump. Everything a test creates is registered with a `Cleanup` and removed by
 * name in `afterEach`/`afterAll`, also when the test failed.
 *
 * Names are `<tag>-<pid base36>-<n base36>` (e.g. `tn-2hzgw-3`, at most 15 bytes): the pid keeps parallel test
 * files apart, and lets `sweepStale` remove what a killed run left behind without touching a live run's
 * namespaces. Tags are 1..3 lower-case letters and contain no '-', so the name parses back unambiguously.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { runCommand, type CommandResult } from '../../appliance/runtime/ports/command.js'
import { deleteLink, deleteNetns, disableOffloads as disableLinkOffloads, listLinks, listNetns } from '../../appliance/runtime/ports/link.js'
import { validateIfName } from '../../appliance/runtime/ports/names.js'

const DEFAULT_TAG = 'tn'
/** Tags this module itself uses: namespaces and veth ends. */
const OWN_TAGS = ['tn', 'tv'] as const
let counter = 0

/** A test tool misbehaved (no output, did not start); carries the command line in the message. */
export class NetnsToolError extends Error {
  override name = 'NetnsToolError'
}

function checkTag(tag: string): string {
  if (!/^[a-z]{1,3}$/.test(tag)) throw new NetnsToolError(`netns tag ${JSON.stringify(tag)} must be 1..3 lower-case letters`)
  return tag
}

/** A fresh name `<tag>-<pid36>-<n36>` for a namespace or interface, unique within this machine's live processes. */
export function uniqueName(tag = DEFAULT_TAG): string {
  return validateIfName(`${checkTag(tag)}-${process.pid.toString(36)}-${(counter++).toString(36)}`)
}

/** The pid that created a name made by `uniqueName(tag)`, or undefined for other names. */
export function ownerPid(name: string, tag = DEFAULT_TAG): number | undefined {
  const m = new RegExp(`^${checkTag(tag)}-([0-9a-z]{1,6})-[0-9a-z]+$`).exec(name)
  return m ? Number.parseInt(m[1] as string, 36) : undefined
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Kills the processes that live in namespace `ns` (ours by construction: the name is unique to this run). */
async function killNetnsPids(ns: string): Promise<void> {
  let pids: number[]
  try {
    const { stdout } = await runCommand(['ip', 'netns', 'pids', ns])
    pids = stdout
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((p) => Number.isInteger(p) && p > 0)
  } catch {
    return
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 3000
  while (pids.some(alive) && Date.now() < deadline) await sleep(20)
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill(signal)
  await Promise.race([exited, sleep(3000)])
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL')
    await exited
  }
}

/**
 * What a test created, undone in reverse order by `run()`. Each step runs even when an earlier one failed;
 * the failures are thrown together at the end so a leak fails the test instead of passing silently.
 */
export class Cleanup {
  private steps: Array<{ label: string; undo: () => Promise<unknown> }> = []

  /** Register any undo step. */
  defer(label: string, undo: () => Promise<unknown>): void {
    this.steps.push({ label, undo })
  }

  /** Delete namespace `name` at cleanup, after killing what still runs in it (a process keeps it alive). */
  netns(name: string): void {
    this.defer(`netns ${name}`, async () => {
      await killNetnsPids(name)
      await deleteNetns(name)
    })
  }

  /** Delete link `name` (in `netns`, or ours) at cleanup; a veth's peer goes with it. */
  link(name: string, netns?: string): void {
    this.defer(`link ${name}`, () => deleteLink(name, netns === undefined ? {} : { netns }))
  }

  /** Kill a child process at cleanup unless it already exited. */
  process(child: ChildProcess, label = `pid ${child.pid}`): void {
    this.defer(label, () => stopChild(child, 'SIGKILL'))
  }

  async run(): Promise<void> {
    const steps = this.steps.reverse()
    this.steps = []
    const errors: unknown[] = []
    for (const step of steps) {
      try {
        await step.undo()
      } catch (err) {
        errors.push(err)
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `cleanup: ${errors.length} of ${steps.length} steps failed`)
  }
}

/** Removes namespaces and host links named by `uniqueName(tag)` (for each tag) whose creating process is gone. */
export async function sweepStale(tags: readonly string[] = OWN_TAGS): Promise<string[]> {
  const stale = (name: string): boolean =>
    tags.some((tag) => {
      const pid = ownerPid(name, tag)
      return pid !== undefined && pid !== process.pid && !alive(pid)
    })
  const removed: string[] = []
  for (const ns of (await listNetns()).filter(stale)) {
    await killNetnsPids(ns)
    if (await deleteNetns(ns)) removed.push(ns)
  }
  for (const link of (await listLinks()).filter((l) => stale(l.name))) {
    if (await deleteLink(link.name)) removed.push(link.name)
  }
  return removed
}

/** Creates a uniquely named namespace with `lo` up, registered for cleanup. */
export async function createNetns(cleanup: Cleanup, tag = DEFAULT_TAG): Promise<string> {
  const name = uniqueName(tag)
  await runCommand(['ip', 'netns', 'add', name])
  cleanup.netns(name)
  await runCommand(['ip', '-n', name, 'link', 'set', 'dev', 'lo', 'up'])
  return name
}

/** Runs `cmd args` inside namespace `ns` (ours when undefined); rejects with CommandFailedError on failure. */
export function exec(ns: string | undefined, cmd: string, args: readonly string[] = [], timeoutMs = 30_000): Promise<CommandResult> {
  return runCommand(inNetns(ns, [cmd, ...args]), { timeoutMs })
}

function inNetns(ns: string | undefined, argv: readonly string[]): string[] {
  return ns === undefined ? [...argv] : ['ip', 'netns', 'exec', ns, ...argv]
}

/** Like exec, but never rejects on a non-zero exit: ping and iperf3 report results through failing exits too. */
function execRaw(argv: readonly string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [file, ...args] = argv
  return new Promise((resolve) => {
    execFile(file as string, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0
      resolve({ code, stdout: String(stdout), stderr: String(stderr) })
    })
  })
}

export interface VethPairOptions {
  /** First end; `uniqueName('tv')` when omitted. */
  name?: string
  /** Namespace of the first end; ours when omitted. */
  netns?: string
  /** CIDR on the first end. */
  nameAddr?: string
  /** Second end; `uniqueName('tv')` when omitted. */
  peer?: string
  peerNetns?: string
  /** CIDR on the peer, e.g. `10.200.0.2/24`. */
  addr?: string
  /** MAC of the peer. */
  mac?: string
  mtu?: number
  /** Turn off offloads on both ends (for traffic through an OVS netdev datapath). Default false. */
  disableOffloads?: boolean
}

export interface VethPair {
  name: string
  netns: string | undefined
  peer: string
  peerNetns: string | undefined
}

/** Creates a veth pair with both ends up, each directly in its namespace, registered for cleanup. */
export async function createVethPair(cleanup: Cleanup, options: VethPairOptions = {}): Promise<VethPair> {
  const name = validateIfName(options.name ?? uniqueName('tv'))
  const peer = validateIfName(options.peer ?? uniqueName('tv'))
  const { netns, peerNetns } = options
  const argv = ['ip', 'link', 'add', 'name', name]
  if (netns !== undefined) argv.push('netns', netns)
  if (options.mtu !== undefined) argv.push('mtu', String(options.mtu))
  argv.push('type', 'veth', 'peer', 'name', peer)
  if (peerNetns !== undefined) argv.push('netns', peerNetns)
  if (options.mtu !== undefined) argv.push('mtu', String(options.mtu))
  if (options.mac !== undefined) argv.push('address', options.mac)
  await runCommand(argv)
  cleanup.link(name, netns)
  const ipIn = (ns: string | undefined): string[] => (ns === undefined ? ['ip'] : ['ip', '-n', ns])
  if (options.nameAddr !== undefined) await runCommand([...ipIn(netns), 'addr', 'add', options.nameAddr, 'dev', name])
  if (options.addr !== undefined) await runCommand([...ipIn(peerNetns), 'addr', 'add', options.addr, 'dev', peer])
  await runCommand([...ipIn(netns), 'link', 'set', 'dev', name, 'up'])
  await runCommand([...ipIn(peerNetns), 'link', 'set', 'dev', peer, 'up'])
  if (options.disableOffloads === true) {
    await disableOffloads(name, netns)
    await disableOffloads(peer, peerNetns)
  }
  return { name, netns, peer, peerNetns }
}

/** `ethtool -K dev tx off tso off gso off gro off`: TCP through an OVS netdev datapath stalls without it. */
export function disableOffloads(dev: string, ns?: string): Promise<void> {
  return disableLinkOffloads(dev, ns === undefined ? {} : { netns: ns })
}

export interface PingResult {
  sent: number
  received: number
  /** As ping reports it. */
  lossPct: number
}

function parsePingSummary(stdout: string): PingResult | undefined {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(stdout)
  const loss = /([\d.]+)% packet loss/.exec(stdout)
  if (!m) return undefined
  return { sent: Number(m[1]), received: Number(m[2]), lossPct: loss ? Number(loss[1]) : 100 }
}

/** Pings `ip` from namespace `ns`: `count` probes `interval` s apart, giving up after `timeoutS`. */
export async function ping(ns: string | undefined, ip: string, { count = 3, interval = 0.2, timeoutS = 5 }: { count?: number; interval?: number; timeoutS?: number } = {}): Promise<PingResult> {
  const argv = inNetns(ns, ['ping', '-n', '-q', '-c', String(count), '-i', String(interval), '-w', String(timeoutS), ip])
  const out = await execRaw(argv, (timeoutS + 5) * 1000)
  const result = parsePingSummary(out.stdout)
  if (result === undefined) throw new NetnsToolError(`${argv.join(' ')}: no summary (exit ${out.code}): ${out.stderr.trim()}`)
  return result
}

export interface LongPingResult extends PingResult {
  /**
   * Probes lost: sequence numbers below the last answered one that never got an answer. Probes after the last
   * answer were still in flight (or queued behind a busy CPU) when stop() interrupted ping, which counts them as
   * transmitted and never received; they say nothing about the path. This is what a zero-loss check asserts on.
   */
  lost: number
}

export interface RunningPing {
  pid: number
  stop(): Promise<LongPingResult>
}

/** Starts a ping that runs until stop(), `interval` s between probes (default 10 ms), for zero-loss checks. */
export async function startPing(cleanup: Cleanup, ns: string | undefined, ip: string, { interval = 0.01 }: { interval?: number } = {}): Promise<RunningPing> {
  const argv = inNetns(ns, ['ping', '-n', '-i', String(interval), ip])
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  cleanup.process(child, `ping ${ip}`)
  let stdout = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', reject)
  })
  return {
    pid: child.pid as number,
    async stop() {
      // `ip netns exec` execs ping in place, so SIGINT reaches ping itself and it prints its summary.
      await stopChild(child, 'SIGINT')
      const summary = parsePingSummary(stdout)
      if (summary === undefined) throw new NetnsToolError(`${argv.join(' ')}: no summary in output: ${stdout.slice(-500)}`)
      const answered = new Set([...stdout.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1])))
      const last = answered.size > 0 ? Math.max(...answered) : 0
      let lost = 0
      for (let seq = 1; seq < last; seq++) if (!answered.has(seq)) lost++
      return { ...summary, lost }
    },
  }
}

async function waitListening(ns: string | undefined, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const out = await execRaw(inNetns(ns, ['ss', '-H', '-t', '-l', '-n', 'sport', '=', `:${port}`]), 5000)
    if (out.stdout.trim() !== '') return
    await sleep(25)
  }
  throw new NetnsToolError(`nothing listens on tcp port ${port} in ${ns ?? 'our namespace'} after ${timeoutMs} ms`)
}

export interface Iperf3Server {
  port: number
  /** Resolves when the one-off server exits (after one test, or at its timeout). */
  done: Promise<void>
}

/** Starts a one-off (`-1`) iperf3 server in `ns`, killed after `timeoutS` at the latest; resolves once listening. */
export async function startIperf3Server(cleanup: Cleanup, ns: string | undefined, { port = 5201, timeoutS = 30 }: { port?: number; timeoutS?: number } = {}): Promise<Iperf3Server> {
  // Spawned directly (not under `timeout`) so the pid we kill is iperf3 itself and nothing is orphaned.
  const argv = inNetns(ns, ['iperf3', '-s', '-1', '-p', String(port)])
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: 'ignore' })
  cleanup.process(child, `iperf3 server :${port}`)
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000).unref()
  const done = new Promise<void>((resolve) =>
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    }),
  )
  await waitListening(ns, port, 5000)
  return { port, done }
}

export interface Iperf3Result {
  /** Receiver-side throughput (TCP) or the UDP sum. */
  bitsPerSecond: number
  bytes: number
  /** TCP only. */
  retransmits: number | undefined
  /** UDP only. */
  lostPercent: number | undefined
}

interface Iperf3Json {
  error?: string
  end?: {
    sum_received?: { bits_per_second: number; bytes: number }
    sum_sent?: { retransmits?: number }
    sum?: { bits_per_second: number; bytes: number; lost_percent?: number }
  }
}

/** Parses `iperf3 -J` client output. */
export function parseIperf3Json(stdout: string): Iperf3Result {
  const j = JSON.parse(stdout) as Iperf3Json
  if (j.error !== undefined) throw new NetnsToolError(`iperf3: ${j.error}`)
  const tcp = j.end?.sum_received
  if (tcp !== undefined) {
    return { bitsPerSecond: tcp.bits_per_second, bytes: tcp.bytes, retransmits: j.end?.sum_sent?.retransmits, lostPercent: undefined }
  }
  const udp = j.end?.sum
  if (udp !== undefined) return { bitsPerSecond: udp.bits_per_second, bytes: udp.bytes, retransmits: undefined, lostPercent: udp.lost_percent }
  throw new NetnsToolError('iperf3: JSON has neither end.sum_received nor end.sum')
}

/** Runs an iperf3 client from `ns` against `server` for `durationS` seconds and returns the parsed result. */
export async function iperf3Client(
  ns: string | undefined,
  server: string,
  { port = 5201, durationS = 3, udp = false, bitrate, reverse = false }: { port?: number; durationS?: number; udp?: boolean; bitrate?: string; reverse?: boolean } = {},
): Promise<Iperf3Result> {
  const args = ['iperf3', '-J', '-c', server, '-p', String(port), '-t', String(durationS)]
  if (udp) args.push('-u')
  if (bitrate !== undefined) args.push('-b', bitrate)
  if (reverse) args.push('-R')
  // --connect-timeout keeps a broken path from hanging the client for minutes.
  args.push('--connect-timeout', '3000')
  const out = await execRaw(inNetns(ns, args), (durationS + 15) * 1000)
  if (out.stdout.trim() === '') throw new NetnsToolError(`iperf3 client exited ${out.code} without output: ${out.stderr.trim()}`)
  return parseIperf3Json(out.stdout)
}

export interface CaptureResult {
  /** As tcpdump counts them ("N packets captured"). */
  packets: number
  /** One summary line per packet (`tcpdump -n -q -l`). */
  lines: string[]
}

export interface RunningCapture {
  stop(): Promise<CaptureResult>
}

/** Starts tcpdump on `dev` in `ns` with a BPF `filter`; resolves once tcpdump is listening. */
export async function startCapture(cleanup: Cleanup, ns: string | undefined, dev: string, filter = ''): Promise<RunningCapture> {
  const argv = inNetns(ns, ['tcpdump', '-i', dev, '-n', '-q', '-l', '-p', '--immediate-mode', ...(filter ? filter.split(/\s+/) : [])])
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  cleanup.process(child, `tcpdump ${dev}`)
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new NetnsToolError(`tcpdump on ${dev} did not start: ${stderr.trim()}`)), 5000)
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      if (stderr.includes('listening on')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new NetnsToolError(`tcpdump on ${dev} exited ${code}: ${stderr.trim()}`))
    })
  })
  return {
    async stop() {
      // --immediate-mode hands each packet over at once; without it packets wait in the ring for up to 1 s and
      // a SIGINT drops them uncounted.
      await stopChild(child, 'SIGINT')
      const m = /(\d+) packets? captured/.exec(stderr)
      const lines = stdout.split('\n').filter((l) => l.trim() !== '')
      return { packets: m ? Number(m[1]) : lines.length, lines }
    },
  }
}
