/**
 * bench/abuse: the hub's RSS and fds under the two floods of issue #14, with the bounds it enforces beside them.
 *
 *   npx tsx bench/abuse/run.ts [--identities 16] [--hellos 300] [--oversize-every 5] [--connections 500] [--streams 2000]
 *
 * A real hub in its own process (bench/abuse/hub-worker.ts) with mTLS, development certificates and the shipped
 * limits (DEFAULT_HUB_LIMITS); this process speaks the protocol over real gRPC as DPU certificates would, and
 * samples the hub's VmRSS (/proc/<pid>/status) and open fds (/proc/<pid>/fd) every 250 ms. In one run:
 *   1. idle: one legitimate agent connected (hello, ack, heartbeats), before any flood;
 *   2. hello-list flood: --hellos hellos from --identities DPU certificates, as fast as the hub answers, each
 *      with a distinct list of objects the DPU claims to hold: just under `maxHelloBytes`, or every
 *      --oversize-every-th one the issue's 3.3 MiB (over the bound, must be refused). An accepted stream is kept
 *      open (the hub holds its list) until the next hello of that identity replaces it;
 *   3. no-hello flood: --streams streams on --connections TLS connections (grpc-js: 4 streams per connection),
 *      spread over the same certificates, none ever saying hello; then after the hub's hello timeout with the
 *      connections still held, and after the client closed them.
 * The legitimate agent must still be connected at the end. Prints a table, the ratios to idle and os.loadavg();
 * --json prints the figures as one JSON line instead (for the smoke test).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { readdir, readFile, mkdtemp, mkdir, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import * as grpc from '@grpc/grpc-js'
import { PROTOCOL_VERSION, type HubMessage } from '../../api/federation/messages.js'
import type { HubLimits } from '../../federation/hub/hub.js'
import { issueDpuCertificate, initDevPki } from '../../federation/certs/openssl.js'
import { encodeAgentMessage, type DecodeResult } from '../../federation/wire/codec.js'
import { CHANNEL_OPTIONS, FederationClient, type SyncClientStream } from '../../federation/wire/service.js'
import { chainYaml, INTERFACES_YAML, writeAtomic } from '../../test/support/federation-fixtures.js'

const { values } = parseArgs({
  options: {
    identities: { type: 'string', default: '16' },
    hellos: { type: 'string', default: '300' },
    'oversize-every': { type: 'string', default: '5' },
    'oversize-bytes': { type: 'string', default: String(Math.round(3.3 * 2 ** 20)) },
    connections: { type: 'string', default: '500' },
    streams: { type: 'string', default: '2000' },
    /** JSON overrides of the hub's limits (the smoke test shortens the hello timeout); default: as shipped. */
    limits: { type: 'string', default: '{}' },
    json: { type: 'boolean', default: false },
  },
})
const K = Number(values.identities)
const HELLOS = Number(values.hellos)
const OVERSIZE_EVERY = Number(values['oversize-every'])
const OVERSIZE_BYTES = Number(values['oversize-bytes'])
const CONNECTIONS = Number(values.connections)
const STREAMS = Number(values.streams)
const log = (s: string): void => void (values.json ? process.stderr : process.stdout).write(`${s}\n`)

const here = fileURLToPath(new URL('.', import.meta.url))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const MiB = (b: number) => +(b / 2 ** 20).toFixed(1)

interface HubStats {
  heapUsed: number
  /** V8's committed heap: what the heap holds in RSS, used or not. */
  heapTotal: number
  /** Buffers and other memory outside the JS heap that V8 knows of. */
  external: number
  sessions: string[]
  openStreams: number
  deltaCacheBytes: number
  streamErrors: Record<string, number>
}

function request<T>(c: ChildProcess, msg: object | null, ev: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: { ev: string }): void => {
      if (m.ev !== ev) return
      c.off('message', on)
      c.off('exit', gone)
      resolve(m as T)
    }
    const gone = (code: number | null): void => reject(new Error(`hub worker exited (${code}) while waiting for ${ev}`))
    c.on('message', on)
    c.once('exit', gone)
    if (msg) c.send(msg)
  })
}

/** The hub's VmRSS and open fds, sampled every 250 ms into the current phase; stats from the hub itself too. */
class Sampler {
  phase = 'idle'
  readonly peak = new Map<string, { rss: number; fds: number; deltaCacheBytes: number; openStreams: number }>()
  private running = true
  private loop: Promise<void>
  constructor(
    private readonly hub: ChildProcess,
    readonly pid: number,
  ) {
    this.loop = this.run()
  }
  async now(): Promise<{ rss: number; fds: number; cpuSeconds: number; stats: HubStats }> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8')
    const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024
    const fds = (await readdir(`/proc/${this.pid}/fd`)).length
    // utime + stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux).
    const stat = (await readFile(`/proc/${this.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
    const cpuSeconds = (Number(stat[11]) + Number(stat[12])) / 100
    const stats = await request<HubStats>(this.hub, { cmd: 'stats' }, 'stats')
    return { rss, fds, cpuSeconds, stats }
  }
  private async run(): Promise<void> {
    while (this.running) {
      const s = await this.now().catch(() => null)
      if (s) {
        const p = this.peak.get(this.phase) ?? { rss: 0, fds: 0, deltaCacheBytes: 0, openStreams: 0 }
        this.peak.set(this.phase, {
          rss: Math.max(p.rss, s.rss),
          fds: Math.max(p.fds, s.fds),
          deltaCacheBytes: Math.max(p.deltaCacheBytes, s.stats.deltaCacheBytes),
          openStreams: Math.max(p.openStreams, s.stats.openStreams),
        })
      }
      await sleep(250)
    }
  }
  async stop(): Promise<void> {
    this.running = false
    await this.loop
  }
}

/** How a refused stream was refused, from the hub's status details. */
function reason(s: grpc.StatusObject): string {
  if (/too many hellos/.test(s.details)) return 'hello rate'
  if (/hello claims \d+ (objects|bytes)/.test(s.details)) return 'hello size'
  if (/open streams/.test(s.details)) return 'streams per identity'
  if (/no hello within/.test(s.details)) return 'hello timeout'
  if (/replaced by a newer stream/.test(s.details)) return 'replaced'
  // The stream was reset with HTTP/2 ENHANCE_YOUR_CALM (grpc-js's words for it), not refused by the hub's code.
  if (/Bandwidth exhausted or memory limit exceeded/.test(s.details)) return 'http2 ENHANCE_YOUR_CALM'
  return `${grpc.status[s.code]}: ${s.details.slice(0, 60)}`
}
const tally = (xs: string[]): Record<string, number> => xs.reduce<Record<string, number>>((o, x) => ((o[x] = (o[x] ?? 0) + 1), o), {})

/** `n` distinct claimed objects (salt) whose keys and hashes take `bytes` in all (the hub's count), at most. */
function claims(n: number, bytes: number, salt: string): Record<string, string> {
  const keyLen = Math.floor(bytes / n) - 32
  const out: Record<string, string> = {}
  for (let i = 0; i < n; i++) out[`ServiceChain/ns/${salt}-${i}-`.padEnd(keyLen, 'x')] = i.toString(16).padStart(32, '0')
  return out
}
const claimedBytes = (c: Record<string, string>): number => Object.entries(c).reduce((n, [k, v]) => n + k.length + v.length, 0)
const hello = (dpu: string, objectHashes: Record<string, string>): Buffer =>
  encodeAgentMessage({ v: PROTOCOL_VERSION, type: 'hello', dpu, appliedRevision: 0, objectHashes, versions: { protocol: PROTOCOL_VERSION, agent: 'bench-abuse' }, labels: { zone: 'a' } })

const children: ChildProcess[] = []
const channels: grpc.Client[] = []
const calls: SyncClientStream[] = []
const work = await mkdtemp(join(tmpdir(), 'bench-abuse-'))
try {
  const pki = join(work, 'pki')
  await mkdir(pki)
  await initDevPki(pki)
  const names = Array.from({ length: K }, (_, i) => `dpu-flood-${i}`)
  for (const dpu of [...names, 'dpu-legit', 'dpu-redial']) await issueDpuCertificate({ caDir: pki, outDir: pki, dpu })
  const creds = new Map<string, grpc.ChannelCredentials>()
  for (const dpu of [...names, 'dpu-legit', 'dpu-redial']) {
    const [ca, key, cert] = await Promise.all(['ca.crt', `${dpu}.key`, `${dpu}.crt`].map((f) => readFile(join(pki, f))))
    creds.set(dpu, grpc.credentials.createSsl(ca, key, cert))
  }
  const manifests = join(work, 'manifests')
  await mkdir(manifests)
  await writeAtomic(join(manifests, 'interfaces.yaml'), INTERFACES_YAML)
  await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a'))

  const hub = fork(join(here, 'hub-worker.ts'), [join(work, 'hub'), manifests, pki, values.limits], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  children.push(hub)
  const { grpcPort, limits } = await request<{ grpcPort: number; limits: HubLimits }>(hub, null, 'ready')
  const target = `127.0.0.1:${grpcPort}`
  /**
   * A channel on its own TCP connection (grpc-js shares connections between channels unless told not to); TLS
   * names the hub by its certificate's DNS:localhost, not the IP address (RFC 6066 forbids IPs in SNI).
   */
  const channel = (dpu: string): grpc.Client => {
    const c = new FederationClient(target, creds.get(dpu)!, { ...CHANNEL_OPTIONS, 'grpc.use_local_subchannel_pool': 1, 'grpc.ssl_target_name_override': 'localhost' })
    channels.push(c)
    return c
  }
  /** One stream: resolves on the hub's first bookmark (accepted) or the stream's status (refused). */
  const open = (c: grpc.Client, onBookmark?: (b: Extract<HubMessage, { type: 'bookmark' }>, call: SyncClientStream) => void) => {
    const call = (c as unknown as { sync(): SyncClientStream }).sync()
    calls.push(call)
    let answered: (v: { bookmark: boolean; status?: grpc.StatusObject }) => void = () => {}
    const first = new Promise<{ bookmark: boolean; status?: grpc.StatusObject }>((r) => (answered = r))
    const ended = new Promise<grpc.StatusObject>((resolve) =>
      call.on('status', (s: grpc.StatusObject) => {
        answered({ bookmark: false, status: s })
        resolve(s)
      }),
    )
    call.on('data', (r: DecodeResult<HubMessage>) => {
      if (!r.ok || r.message.type !== 'bookmark') return
      answered({ bookmark: true })
      onBookmark?.(r.message, call)
    })
    call.on('error', () => {})
    return { call, first, ended }
  }

  // 1. Idle, one legitimate agent connected: hello, ack every revision, heartbeat every 20 s.
  const legit = open(channel('dpu-legit'), (b, call) => call.write(encodeAgentMessage({ v: PROTOCOL_VERSION, type: 'ack', nonce: b.nonce, revision: b.revision })))
  legit.call.write(hello('dpu-legit', {}))
  if (!(await legit.first).bookmark) throw new Error('the legitimate agent was refused')
  const heartbeat = setInterval(() => legit.call.write(encodeAgentMessage({ v: PROTOCOL_VERSION, type: 'heartbeat' })), 20_000)
  let legitEnded: grpc.StatusObject | null = null
  void legit.ended.then((s) => (legitEnded = s))
  const sampler = new Sampler(hub, hub.pid!)
  await sleep(3000)
  const idle = await sampler.now()

  // 2. No-hello flood first, on the idle hub, so its figures are its own (the hello flood leaves memory behind
  // that the allocator keeps). STREAMS streams on CONNECTIONS connections, spread over the identities.
  sampler.phase = 'nohello'
  const conns = Array.from({ length: CONNECTIONS }, (_, j) => channel(names[j % K]!))
  const t1 = Date.now()
  const silent = Array.from({ length: STREAMS }, (_, j) => open(conns[j % CONNECTIONS]!).ended.then((s) => ({ why: reason(s), at: Date.now() - t1 })))
  const ends = await Promise.all(silent)
  const allEndedSeconds = (Date.now() - t1) / 1000
  const duringNoHello = sampler.peak.get('nohello')!
  sampler.phase = 'nohello-held'
  await sleep(2000)
  const connsHeld = await sampler.now()
  for (const c of conns) c.close()
  sampler.phase = 'nohello-closed'
  await sleep(3000)
  const connsClosed = await sampler.now()

  // 3. Hello-list flood.
  sampler.phase = 'hello'
  const maxList = (salt: string) => claims(limits.maxHelloObjects, limits.maxHelloBytes, salt)
  const maxListBytes = claimedBytes(maxList('s0'))
  const oversize = new Map(names.map((dpu) => [dpu, hello(dpu, claims(limits.maxHelloObjects, OVERSIZE_BYTES, 'big'))]))
  const oversizeBytes = claimedBytes(claims(limits.maxHelloObjects, OVERSIZE_BYTES, 'big'))
  const helloChannels = new Map(names.map((dpu) => [dpu, channel(dpu)]))
  const kept = new Map<string, SyncClientStream>()
  const outcomes: Array<{ big: boolean; accepted: boolean; why: string }> = []
  let next = 0
  const t0 = Date.now()
  // Meanwhile another legitimate DPU redials every 7 s (within its rate limit): is the flooded hub still serving?
  const redials: Array<{ accepted: boolean; ms: number; why: string }> = []
  const redialChannel = channel('dpu-redial')
  let flooding = true
  const redialer = (async () => {
    while (flooding) {
      const s = open(redialChannel)
      const at = Date.now()
      s.call.write(hello('dpu-redial', {}))
      const r = await s.first
      redials.push({ accepted: r.bookmark, ms: Date.now() - at, why: r.bookmark ? 'accepted' : reason(r.status!) })
      s.call.cancel()
      for (let t = 0; t < 28 && flooding; t++) await sleep(250)
    }
  })()
  const cpu0 = (await sampler.now()).cpuSeconds
  // Two streams in flight per identity plus the one kept open: within the hub's 4 per identity, so what refuses
  // them is the hello bounds and the rate limit, not the stream cap.
  await Promise.all(
    Array.from({ length: 2 * K }, async (_, w) => {
      const dpu = names[w % K]!
      while (next < HELLOS) {
        const i = next++
        if (i === Math.floor(HELLOS / 2)) sampler.phase = 'hello-2nd'
        const big = (i + 1) % OVERSIZE_EVERY === 0
        // Built before the stream opens: the hub's hello timeout runs from the stream's start.
        const msg = big ? oversize.get(dpu)! : hello(dpu, maxList(`h${i}`))
        const s = open(helloChannels.get(dpu)!)
        s.call.write(msg)
        const r = await s.first
        outcomes.push({ big, accepted: r.bookmark, why: r.bookmark ? 'accepted' : reason(r.status!) })
        if (r.bookmark) {
          kept.get(dpu)?.cancel()
          kept.set(dpu, s.call)
        }
      }
    }),
  )
  const helloSeconds = (Date.now() - t0) / 1000
  const helloCpuSeconds = (await sampler.now()).cpuSeconds - cpu0
  flooding = false
  await redialer
  const firstHalf = sampler.peak.get('hello')!
  const secondHalf = sampler.peak.get('hello-2nd') ?? firstHalf
  const duringHello = {
    rss: Math.max(firstHalf.rss, secondHalf.rss),
    fds: Math.max(firstHalf.fds, secondHalf.fds),
    deltaCacheBytes: Math.max(firstHalf.deltaCacheBytes, secondHalf.deltaCacheBytes),
    openStreams: Math.max(firstHalf.openStreams, secondHalf.openStreams),
  }
  for (const c of kept.values()) c.cancel()
  for (const c of helloChannels.values()) c.close()
  sampler.phase = 'hello-after'
  await sleep(3000)
  const afterHello = await sampler.now()
  await request(hub, { cmd: 'gc' }, 'gc')
  const afterHelloGc = await sampler.now()
  await sampler.stop()
  clearInterval(heartbeat)
  const legitConnected = legitEnded === null && afterHelloGc.stats.sessions.includes('dpu-legit')

  const byWhy = tally(outcomes.map((o) => `${o.big ? 'oversize' : 'max-size'}: ${o.why}`))
  const mem = (x: { rss: number; stats: HubStats }) => ({
    rssMiB: MiB(x.rss),
    heapMiB: MiB(x.stats.heapUsed),
    heapCommittedMiB: MiB(x.stats.heapTotal),
    externalMiB: MiB(x.stats.external),
  })
  const result = {
    date: new Date().toISOString(),
    loadAverage: loadavg().map((x) => +x.toFixed(2)),
    limits,
    idle: { ...mem(idle), fds: idle.fds, openStreams: idle.stats.openStreams },
    noHelloFlood: {
      streams: STREAMS,
      connections: CONNECTIONS,
      identities: K,
      outcomes: tally(ends.map((e) => e.why)),
      lastTimedOutAfterSeconds: Math.max(0, ...ends.filter((e) => e.why === 'hello timeout').map((e) => e.at / 1000)),
      allEndedSeconds,
      peakRssMiB: MiB(duringNoHello.rss),
      peakFds: duringNoHello.fds,
      peakOpenStreams: duringNoHello.openStreams,
      connectionsHeld: { ...mem(connsHeld), fds: connsHeld.fds, openStreams: connsHeld.stats.openStreams },
      connectionsClosed: { ...mem(connsClosed), fds: connsClosed.fds, openStreams: connsClosed.stats.openStreams },
    },
    helloFlood: {
      hellos: outcomes.length,
      identities: K,
      seconds: helloSeconds,
      hubCpuSeconds: helloCpuSeconds,
      maxListBytes,
      oversizeListBytes: oversizeBytes,
      accepted: outcomes.filter((o) => o.accepted).length,
      refused: outcomes.filter((o) => !o.accepted).length,
      oversizeAccepted: outcomes.filter((o) => o.big && o.accepted).length,
      outcomes: byWhy,
      peakRssMiB: MiB(duringHello.rss),
      peakRssFirstHalfMiB: MiB(firstHalf.rss),
      peakRssSecondHalfMiB: MiB(secondHalf.rss),
      peakFds: duringHello.fds,
      peakOpenStreams: duringHello.openStreams,
      peakDeltaCacheMiB: MiB(duringHello.deltaCacheBytes),
      after: { ...mem(afterHello), fds: afterHello.fds, deltaCacheMiB: MiB(afterHello.stats.deltaCacheBytes), openStreams: afterHello.stats.openStreams },
      afterGc: mem(afterHelloGc),
      redials: { n: redials.length, accepted: redials.filter((r) => r.accepted).length, ms: redials.map((r) => r.ms), refused: tally(redials.filter((r) => !r.accepted).map((r) => r.why)) },
    },
    hubStreamErrors: afterHelloGc.stats.streamErrors,
    legitAgentConnectedThroughout: legitConnected,
    ratios: {
      noHelloPeakVsIdleRss: +(duringNoHello.rss / idle.rss).toFixed(2),
      helloPeakVsIdleRss: +(duringHello.rss / idle.rss).toFixed(2),
      deltaCachePeakVsBound: +(duringHello.deltaCacheBytes / limits.deltaCacheBytes).toFixed(2),
    },
  }
  if (values.json) console.log(JSON.stringify(result))
  else {
    const h = result.helloFlood
    const n = result.noHelloFlood
    const row = (...cells: Array<string | number>) => log(`| ${cells.join(' | ')} |`)
    const memCell = (m: ReturnType<typeof mem>) => `${m.rssMiB} MiB (heap ${m.heapMiB} of ${m.heapCommittedMiB}, external ${m.externalMiB})`
    log(`\nhub under abuse, ${result.date}, loadavg ${result.loadAverage.join(' ')}`)
    row('phase', 'hub RSS', 'hub fds', 'hub-side', 'bound')
    row('---', '---', '---', '---', '---')
    row('idle, 1 agent connected', memCell(result.idle), idle.fds, `${result.idle.openStreams} stream`, '-')
    row(
      `no-hello flood: ${STREAMS} streams on ${CONNECTIONS} connections, ${K} certs`,
      `peak ${n.peakRssMiB} MiB (${result.ratios.noHelloPeakVsIdleRss}x idle)`,
      `peak ${n.peakFds}`,
      `peak ${n.peakOpenStreams} open streams; ${n.outcomes['streams per identity'] ?? 0} refused at once, ${n.outcomes['hello timeout'] ?? 0} closed by the hello timeout; all ended ${n.allEndedSeconds.toFixed(1)} s after the first`,
      `${limits.maxConnectionsPerIdentity} connections and ${limits.maxStreamsPerIdentity} streams per cert (${limits.maxConnectionsPerIdentity * K} and ${limits.maxStreamsPerIdentity * K} for ${K} certs); helloTimeoutMs ${limits.helloTimeoutMs}`,
    )
    row(
      'after it, client still holding the connections',
      memCell(n.connectionsHeld),
      n.connectionsHeld.fds,
      `${n.connectionsHeld.openStreams} stream`,
      `${limits.maxConnectionsPerIdentity} connections per cert`,
    )
    row('after the client closed them', memCell(n.connectionsClosed), n.connectionsClosed.fds, `${n.connectionsClosed.openStreams} stream`, '-')
    row(
      `hello-list flood: ${h.hellos} hellos (1 in ${OVERSIZE_EVERY} oversize), ${K} certs, ${h.seconds.toFixed(1)} s, hub CPU ${h.hubCpuSeconds.toFixed(1)} s`,
      `peak ${h.peakRssMiB} MiB (${result.ratios.helloPeakVsIdleRss}x idle); first half ${h.peakRssFirstHalfMiB}, second ${h.peakRssSecondHalfMiB}`,
      `peak ${h.peakFds}`,
      `delta cache peak ${h.peakDeltaCacheMiB} MiB; ${h.accepted} accepted, ${h.refused} refused (${h.oversizeAccepted} oversize accepted); peak ${h.peakOpenStreams} open streams`,
      `deltaCacheBytes ${MiB(limits.deltaCacheBytes)} MiB; a hello <= ${limits.maxHelloObjects} objects and ${limits.maxHelloBytes} bytes; ${limits.helloBurst} hellos + 1 per ${limits.helloRefillMs / 1000} s per cert`,
    )
    row('after it (3 s)', memCell(h.after), h.after.fds, `delta cache ${h.after.deltaCacheMiB} MiB, ${h.after.openStreams} stream`, '-')
    row('after it, forced gc', memCell(h.afterGc), '-', '-', '-')
    log(`\nhello list just under the bound: ${h.maxListBytes} bytes; oversize: ${h.oversizeListBytes} bytes`)
    log(`hello outcomes: ${JSON.stringify(h.outcomes)}`)
    log(`legitimate redials during the hello flood: ${h.redials.accepted}/${h.redials.n} accepted, ms to bookmark ${JSON.stringify(h.redials.ms)}, refused ${JSON.stringify(h.redials.refused)}`)
    log(`no-hello outcomes: ${JSON.stringify(n.outcomes)}; last timed out ${n.lastTimedOutAfterSeconds.toFixed(1)} s after the first stream`)
    log(`hub stream errors by reason: ${JSON.stringify(result.hubStreamErrors)}`)
    log(`legitimate agent connected throughout: ${legitConnected}`)
    log(
      `ratios: ${JSON.stringify(result.ratios)}; loadavg ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    )
  }
  await new Promise((r) => (hub.once('exit', r), hub.send({ cmd: 'stop' })))
} finally {
  for (const c of calls) c.cancel()
  for (const c of channels) c.close()
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  await rm(work, { recursive: true, force: true })
}
