/**
 * The federation hub: fleet sources -> planner -> one stream per connected DPU.
 *
 * Holds the union of the sources' latest snapshots, the connected sessions by DPU name (a newer stream for
 * the same DPU replaces the older), and the durable per-DPU records (hub-db.ts). On every fleet change each
 * connected session recomputes its delta; sessions are walked in slices so acks and heartbeats keep flowing
 * while 10,000 agents are being updated.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Http2SecureServer } from 'node:http2'
import type { AddressInfo } from 'node:net'
import * as grpc from '@grpc/grpc-js'
import { serve, type ServerType } from '@hono/node-server'
import type { ParsedObject } from '../../api/resources/kind.js'
import { LogLimiter } from '../../api/support/log-limit.js'
import { identifyDpu } from '../certs/identity.js'
import type { Logger } from '../wire/logger.js'
import { silentLogger } from '../wire/logger.js'
import { FEDERATION_SERVICE, SERVER_OPTIONS, type SyncServerStream } from '../wire/service.js'
import { DEFAULT_DELTA_CACHE_BYTES, DeltaCache } from './delta-cache.js'
import { ConnectionLimit } from './connection-limit.js'
import { DpuRegistry } from './dpu-registry.js'
import { http2ServersOf } from './grpc-http2.js'
import { logRefusedHandshakes } from './handshake-log.js'
import { HubDb } from './hub-db.js'
import { HubMetrics } from './metrics.js'
import type { HelmRenderer } from './helm-render.js'
import { DEPLOYMENT_STORE, HELM_STORE } from './helm-render.js'
import { Planner, type RenderFn } from './planner.js'
import { createHubApi } from './rest.js'
import { AgentSession, type SessionLimits } from './session.js'
import type { FleetSource, SnapshotChange } from './source.js'
import { accidentalRemovals, type HeldChange } from './removal-guard.js'
import { degradedReasons, watchSourceHealth } from './source-health.js'

export interface TlsFiles {
  cert: Buffer
  key: Buffer
  ca: Buffer
}

export interface HubOptions {
  dataDir: string
  /** gRPC listen address `host:port` (port 0: any). */
  listen: string
  /** REST listen address `host:port`; omitted: no REST server. */
  apiListen?: string
  /** mTLS material, or 'insecure' (plaintext, identity from the hello: development only). */
  tls: TlsFiles | 'insecure'
  sources: FleetSource[]
  render: RenderFn
  registry?: DpuRegistry
  logger?: Logger
  /** A stream with no message for this long is closed (3 missed agent heartbeats). */
  idleTimeoutMs?: number
  /** A source change removing more than this share of a connected DPU's objects is held until confirmed (0.5). */
  maxRemovalShare?: number
  /** Sessions updated per event-loop turn after a fleet change. */
  fanoutSlice?: number
  /** What one DPU certificate may cost the hub (issue #14); each field has a stated default. */
  limits?: Partial<HubLimits>
  /**
   * Renders DPUServices' charts (and the DPUServices DPUDeployments generate) off the ack path; `render` must be
   * `helm.wrap(...)` for its Services to reach DPUs. The hub feeds it every fleet, replans when a render lands,
   * and keeps its last good renders and generated DPUServices in hub.db.
   */
  helm?: HelmRenderer
}

export interface HubLimits extends SessionLimits {
  /** Open HTTP/2 connections per identity (with a stream or not); more get GOAWAY before any stream. */
  maxConnectionsPerIdentity: number
  /** Open streams per identity (awaiting hello or not); more are refused with RESOURCE_EXHAUSTED. */
  maxStreamsPerIdentity: number
  /** Hellos per identity: a burst of this many ... */
  helloBurst: number
  /** ... refilled at one per this many ms. */
  helloRefillMs: number
  /** Encoded bytes the delta cache keeps. */
  deltaCacheBytes: number
}

export const DEFAULT_HUB_LIMITS: HubLimits = {
  helloTimeoutMs: 5_000,
  maxHelloObjects: 10_000,
  maxHelloBytes: 1024 * 1024,
  maxConnectionsPerIdentity: 2,
  maxStreamsPerIdentity: 4,
  helloBurst: 10,
  helloRefillMs: 6_000,
  deltaCacheBytes: DEFAULT_DELTA_CACHE_BYTES,
}

export interface RunningHub {
  grpcPort: number
  apiPort: number | null
  sessions: ReadonlyMap<string, AgentSession>
  metrics: HubMetrics
  planner: Planner
  db: HubDb
  /** The source change held for removing too much, if any. */
  heldChange(): HeldChange | null
  /** Applies the held change; false when none is held. */
  confirm(): boolean
  /** Open agent streams, hello or not. */
  openStreams(): number
  /** Open HTTP/2 connections from agents (with a stream or not). */
  openConnections(): number
  stop(): Promise<void>
}

function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':')
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0'
  return { host, port: Number(addr.slice(i + 1)) }
}

export async function startHub(o: HubOptions): Promise<RunningHub> {
  const logger = o.logger ?? silentLogger
  mkdirSync(o.dataDir, { recursive: true })
  const db = new HubDb(join(o.dataDir, 'hub.db'))
  const planner = new Planner(o.render)
  const limits: HubLimits = { ...DEFAULT_HUB_LIMITS, ...o.limits }
  const deltas = new DeltaCache({ maxBytes: limits.deltaCacheBytes })
  const registry = o.registry ?? new DpuRegistry(undefined)
  const sessions = new Map<string, AgentSession>()
  /** Every open stream, by identity (the certificate's DPU, or '' in --insecure mode), whatever its state. */
  const open = new Map<string, Set<AgentSession>>()
  let openCount = 0
  let connections: ConnectionLimit | null = null
  const metrics = new HubMetrics(
    () => [...sessions.values()].filter((s) => s.behind()).length,
    () => ({ awaitingHello: openCount - sessions.size, ready: sessions.size }),
    () => deltas.bytes,
    () => connections?.open ?? 0,
  )
  /** Token bucket per identity; entries whose bucket is full again are forgotten (see admitHello). */
  const helloBuckets = new Map<string, { tokens: number; at: number }>()
  const warned = new Set<string>()
  const snapshots = new Map<FleetSource, readonly ParsedObject[]>()
  let fanout: { pending: AgentSession[] } | null = null

  const fanOut = (): void => {
    const restart = fanout === null
    fanout = { pending: [...sessions.values()] }
    if (!restart) return
    const step = (): void => {
      if (!fanout) return
      const slice = fanout.pending.splice(0, o.fanoutSlice ?? 250)
      for (const s of slice) s.sendNext()
      if (fanout.pending.length > 0) setImmediate(step)
      else fanout = null
    }
    setImmediate(step)
  }

  let held: (HeldChange & { apply(): void }) | null = null
  const onSnapshot = (source: FleetSource, objects: readonly ParsedObject[], change?: SnapshotChange, confirmed = false): void => {
    if (held?.source === source.name) held = null // a newer snapshot of that source replaces the held one
    if (!confirmed && snapshots.size === o.sources.length) {
      const next = [...o.sources].flatMap((s) => (s === source ? objects : (snapshots.get(s) ?? [])))
      const nodes = [...sessions.values()].filter((s) => s.dpu).map((s) => ({ name: s.dpu!, labels: s.labels }))
      const over = accidentalRemovals(o.render, planner, next, change?.deliberate ?? new Set(), nodes, o.maxRemovalShare ?? 0.5)
      if (over) {
        held = { source: source.name, since: new Date().toISOString(), removals: over, apply: () => onSnapshot(source, objects, change, true) }
        metrics.heldChanges.set(1)
        logger.warn({ source: source.name, removals: over }, "source change would remove most of some DPUs' objects; held until confirmed (dpuctl hub confirm)")
        return
      }
    }
    if (!held) metrics.heldChanges.set(0)
    snapshots.set(source, objects)
    // Until every source has delivered a full snapshot the planner holds nothing: sessions wait rather than
    // push an empty set that would remove every object from every DPU (fail-static on hub restart).
    if (snapshots.size < o.sources.length) return
    const fleet = [...snapshots.values()].flat()
    void o.helm?.prepare(fleet)
    planner.setFleet(fleet)
    logger.info({ source: source.name, objects: objects.length }, 'fleet changed')
    fanOut()
  }

  const logLimit = new LogLimiter()
  const host = {
    planner,
    db,
    deltas,
    registry,
    metrics,
    logger,
    logLimit,
    limits,
    admitHello(dpu: string): boolean {
      const now = Date.now()
      const b = helloBuckets.get(dpu) ?? { tokens: limits.helloBurst, at: now }
      b.tokens = Math.min(limits.helloBurst, b.tokens + (now - b.at) / limits.helloRefillMs)
      b.at = now
      if (b.tokens < 1) return (helloBuckets.set(dpu, b), false)
      b.tokens -= 1
      helloBuckets.set(dpu, b)
      if (helloBuckets.size > 10_000) {
        for (const [k, v] of helloBuckets) if (v.tokens + (now - v.at) / limits.helloRefillMs >= limits.helloBurst) helloBuckets.delete(k)
      }
      return true
    },
    warnOnce(key: string, fields: object, msg: string): void {
      if (warned.has(key) || warned.size > 10_000) return
      warned.add(key)
      logger.warn(fields, msg)
    },
    streamClosed(s: AgentSession): void {
      const set = open.get(s.identity ?? '')
      if (set?.delete(s)) openCount--
      if (set?.size === 0) open.delete(s.identity ?? '')
    },
    attach(s: AgentSession) {
      const prev = sessions.get(s.dpu!)
      if (prev && prev !== s) prev.close(grpc.status.ALREADY_EXISTS, 'replaced by a newer stream from the same DPU')
      sessions.set(s.dpu!, s)
      metrics.connected.set(sessions.size)
    },
    detach(s: AgentSession) {
      if (sessions.get(s.dpu!) === s) sessions.delete(s.dpu!)
      metrics.connected.set(sessions.size)
      logger.info({ dpu: s.dpu }, 'agent disconnected')
    },
  }

  const insecure = o.tls === 'insecure'
  const refuse = (call: SyncServerStream, code: grpc.status, reason: string, details: string, fields: object): void => {
    metrics.streamErrors.inc({ reason })
    logLimit.log(logger, 'warn', `${call.getPeer()}\0${reason}`, { peer: call.getPeer(), reason, details, ...fields }, 'refusing agent stream')
    call.emit('error', Object.assign(new Error(details), { code, details }))
  }
  const onStream = (call: SyncServerStream): void => {
    let identity: string | null = null
    if (!insecure) {
      const id = identifyDpu(call.getAuthContext()?.sslPeerCertificate)
      if (!id.ok) return refuse(call, grpc.status.UNAUTHENTICATED, 'federation.identity', id.reason, {})
      identity = id.name
    }
    const key = identity ?? ''
    const set = open.get(key) ?? new Set<AgentSession>()
    // Only with a certificate: in --insecure mode every agent shares the '' identity.
    if (identity !== null && set.size >= limits.maxStreamsPerIdentity) {
      return refuse(call, grpc.status.RESOURCE_EXHAUSTED, 'federation.stream-limit', `"${identity}" already has ${set.size} open streams; at most ${limits.maxStreamsPerIdentity} allowed`, {
        identity,
      })
    }
    const session = new AgentSession(call, identity, host, call.getPeer())
    if (session.state === 'closed') return
    set.add(session)
    open.set(key, set)
    openCount++
  }

  if (o.helm) {
    o.helm.useStore(db.sourceStore(HELM_STORE), db.sourceStore(DEPLOYMENT_STORE))
    o.helm.onChange((objs) => {
      planner.invalidate(objs)
      fanOut()
    })
  }

  const sourceErrors = (): Record<string, string> => Object.assign({}, ...o.sources.map((s) => s.errors?.() ?? {})) as Record<string, string>
  watchSourceHealth(metrics.registry, o.sources)
  for (const source of o.sources) {
    source.useStore?.(db.sourceStore(source.name))
    await source.start((objects, change) => onSnapshot(source, objects, change))
  }

  const server = new grpc.Server(SERVER_OPTIONS)
  server.addService(FEDERATION_SERVICE, { sync: onStream })
  const creds = insecure
    ? grpc.ServerCredentials.createInsecure()
    : grpc.ServerCredentials.createSsl((o.tls as TlsFiles).ca, [{ cert_chain: (o.tls as TlsFiles).cert, private_key: (o.tls as TlsFiles).key }], true)
  if (insecure) logger.warn({}, 'hub running WITHOUT TLS (--insecure): any client can claim any DPU identity')
  const { host: gHost, port: gPort } = splitHostPort(o.listen)
  const grpcPort = await new Promise<number>((resolve, reject) => server.bindAsync(`${gHost.includes(':') ? `[${gHost}]` : gHost}:${gPort}`, creds, (err, port) => (err ? reject(err) : resolve(port))))
  // Per-connection bounds and TLS refusal logs need the http2 server under grpc-js (grpc-http2.ts says why).
  connections = new ConnectionLimit({ maxPerIdentity: limits.maxConnectionsPerIdentity, logger, logLimit, onRefused: (reason) => metrics.connectionsRefused.inc({ reason }) })
  for (const h2 of http2ServersOf(server)) {
    connections.watch(h2)
    if (!insecure) logRefusedHandshakes(h2 as Http2SecureServer, { logger, logLimit, onRefused: (reason) => metrics.connectionsRefused.inc({ reason }) })
  }

  registry.watch(() => {
    for (const s of sessions.values()) {
      const labels = s.dpu ? registry.labelsFor(s.dpu, s.labels) : null
      if (labels) s.labels = labels
    }
    fanOut()
  })

  const idleTimeoutMs = o.idleTimeoutMs ?? 90_000
  const sweeper = setInterval(
    () => {
      const cutoff = Date.now() - idleTimeoutMs
      for (const s of sessions.values()) if (s.lastContact < cutoff) s.fail(grpc.status.UNAVAILABLE, 'no message from agent within the idle timeout', 'idle-timeout')
    },
    Math.min(idleTimeoutMs, 10_000),
  )
  sweeper.unref()

  let api: ServerType | null = null
  let apiPort: number | null = null
  if (o.apiListen) {
    const app = createHubApi({
      dpus: () => db.all(),
      session: (name) => sessions.get(name),
      ready: () => {
        const reasons = o.sources.filter((s) => !s.synced()).map((s) => `source ${s.name} not synced`)
        return { ready: reasons.length === 0, reasons, degraded: degradedReasons(o.sources) }
      },
      metricsText: () => metrics.registry.metrics(),
      metricsContentType: metrics.registry.contentType,
      sourceErrors,
      objectConditions: () => o.helm?.conditions() ?? {},
      heldChange: () => (held ? { source: held.source, since: held.since, removals: held.removals } : null),
      confirm: () => confirm(),
    })
    const { host: aHost, port: aPort } = splitHostPort(o.apiListen)
    apiPort = await new Promise<number>((resolve) => {
      api = serve({ fetch: app.fetch, port: aPort, hostname: aHost }, (info: AddressInfo) => resolve(info.port))
    })
  }
  logger.info({ grpcPort, apiPort, tls: !insecure }, 'hub listening')

  function confirm(): boolean {
    if (!held) return false
    const h = held
    held = null
    metrics.heldChanges.set(0)
    logger.warn({ source: h.source, removals: h.removals }, 'held source change confirmed; applying it')
    h.apply()
    return true
  }

  return {
    heldChange: () => (held ? { source: held.source, since: held.since, removals: held.removals } : null),
    confirm,
    grpcPort,
    apiPort,
    sessions,
    metrics,
    planner,
    db,
    openStreams: () => openCount,
    openConnections: () => connections?.open ?? 0,
    async stop() {
      clearInterval(sweeper)
      o.helm?.stop()
      registry.stop()
      for (const source of o.sources) await source.stop()
      for (const set of [...open.values()]) for (const s of [...set]) s.close(grpc.status.UNAVAILABLE, 'hub shutting down')
      server.forceShutdown()
      if (api) await new Promise<void>((resolve) => (api as ServerType).close(() => resolve()))
      db.close()
    },
  }
}
