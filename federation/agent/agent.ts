/**
 * The federation agent inside an appliance: dials the hub, says hello with what it holds, stores each
 * revision through the AgentPort in one transaction and only then acks, nacks invalid revisions (the last
 * good one stays), reports status on change, and reconnects with full-jitter backoff. It never blocks local
 * work: when the hub is gone the appliance keeps serving what it stored.
 *
 *   connecting --first hub message--> connected --stream error/end--> disconnected --backoff--> connecting
 *
 * Per stream it holds the push chunks received since the last bookmark (one revision at most, since the hub
 * sends one un-acked revision at a time) and the bytes of the last status sent (to send only changes).
 */
import * as grpc from '@grpc/grpc-js'
import type { AgentConnectionState, AgentPort } from '../../api/federation/agent-port.js'
import { isApplianceError } from '../../api/errors.js'
import { OutageLog } from '../../api/support/outage-log.js'
import { PROTOCOL_VERSION, type AgentMessage, type Bookmark, type HubMessage, type WireError, type WireObject } from '../../api/federation/messages.js'
import { encodeAgentMessage, type DecodeResult } from '../wire/codec.js'
import type { Logger } from '../wire/logger.js'
import { silentLogger } from '../wire/logger.js'
import { CHANNEL_OPTIONS, FederationClient, type SyncClientStream } from '../wire/service.js'
import { backoffDelay, type BackoffOptions } from '../../api/support/backoff.js'
import { hubChannel, type HubTls } from './hub-channel.js'
import { StaleRevisionError } from './errors.js'

export const AGENT_VERSION = '0.1.0'

export interface AgentOptions {
  /** Hub gRPC address `host:port`. */
  hub: string
  /** This DPU's name; must match the identity in the client certificate. */
  dpuName: string
  tls: HubTls | 'insecure'
  port: AgentPort
  /** Labels the DPU reports about itself (used only if the hub's DPU registry has no entry for it). */
  labels?: Record<string, string>
  logger?: Logger
  backoff?: BackoffOptions
  heartbeatMs?: number
  statusDebounceMs?: number
  /** Fault injection for tests: called after a revision is committed and before its ack is sent. */
  afterCommit?: (revision: number) => void
}

export interface AgentStats {
  /** Encoded bytes of hub messages received (gRPC payloads, before framing and TLS). */
  bytesReceived: number
  messagesReceived: number
  revisionsApplied: number
}

export interface RunningAgent {
  stop(): Promise<void>
  state(): AgentConnectionState
  stats(): AgentStats
  /** Resolves once the agent has acked (or been told it is at) a revision >= `revision`. */
  waitForRevision(revision: number, timeoutMs?: number): Promise<void>
}

function toWireError(err: unknown): WireError {
  if (isApplianceError(err)) {
    return { code: err.code, message: err.message.slice(0, 4000), ...(err.issues.length ? { issues: err.issues.slice(0, 100).map((i) => ({ path: i.path, message: i.message })) } : {}) }
  }
  return { code: 'reconcile.failed', message: (err instanceof Error ? err.message : String(err)).slice(0, 4000) }
}

/** grpc-js details for `dpuctl status`: without the empty "Resolution note:" it appends to connection errors. */
function readableDetails(err: grpc.ServiceError): string {
  return (err.details || err.message).replace(/\s*Resolution note:\s*$/, '')
}

/** Full jitter up to a minute: a fleet that lost its hub together does not reconnect together. */
const DEFAULT_AGENT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 60_000 }

export function startAgent(o: AgentOptions): RunningAgent {
  const logger = o.logger ?? silentLogger
  const backoff = o.backoff ?? DEFAULT_AGENT_BACKOFF
  const heartbeatMs = o.heartbeatMs ?? 20_000
  const channel = hubChannel(o.hub, o.tls)
  if (o.tls === 'insecure') logger.warn({ hub: o.hub }, 'agent dialing the hub WITHOUT TLS (--insecure)')
  // A hub away for hours is normal (fail-static): its first failure, a reminder a minute, and the reconnect.
  const outage = new OutageLog({ logger, what: 'federation hub', fields: { hub: o.hub } })

  const st: AgentConnectionState = {
    connection: 'connecting',
    hub: o.hub,
    dpu: o.dpuName,
    syncedRevision: o.port.readSyncState().appliedRevision,
    lastHubContact: null,
    lastError: null,
  }
  let stopped = false
  let attempt = 0
  let client: grpc.Client | null = null
  let call: SyncClientStream | null = null
  let reconnectTimer: NodeJS.Timeout | undefined
  let heartbeatTimer: NodeJS.Timeout | undefined
  let statusTimer: NodeJS.Timeout | undefined
  let lastStatusSent: Buffer | null = null
  let chunks: Array<{ upserts: WireObject[]; removals: string[] }> = []
  const waiters = new Set<{ revision: number; resolve: () => void }>()
  const stats: AgentStats = { bytesReceived: 0, messagesReceived: 0, revisionsApplied: 0 }

  const send = (m: AgentMessage): void => {
    if (call) call.write(encodeAgentMessage(m))
  }

  const sendStatus = (): void => {
    statusTimer = undefined
    if (!call || st.connection !== 'connected') return
    const s = o.port.readStatus()
    const bytes = encodeAgentMessage({ v: PROTOCOL_VERSION, type: 'status', revision: s.revision, phase: s.phase, objects: s.objects })
    if (lastStatusSent && lastStatusSent.equals(bytes)) return
    lastStatusSent = bytes
    call.write(bytes)
  }
  const scheduleStatus = (): void => {
    if (statusTimer || st.connection !== 'connected') return
    statusTimer = setTimeout(sendStatus, o.statusDebounceMs ?? 200)
  }
  const unsubscribe = o.port.onStatusChange(scheduleStatus)

  const settle = (revision: number): void => {
    st.syncedRevision = revision
    for (const w of waiters) {
      if (revision < w.revision) continue
      waiters.delete(w)
      w.resolve()
    }
  }

  const onBookmark = (b: Bookmark): void => {
    const received = chunks
    chunks = []
    const sync = o.port.readSyncState()
    if (received.length !== b.chunks) {
      send({
        v: PROTOCOL_VERSION,
        type: 'nack',
        nonce: b.nonce,
        lastGoodRevision: sync.lastGoodRevision,
        error: { code: 'federation.protocol', message: `bookmark announces ${b.chunks} chunks, ${received.length} received` },
      })
      return
    }
    if (b.chunks === 0) {
      send({ v: PROTOCOL_VERSION, type: 'ack', nonce: b.nonce, revision: sync.appliedRevision })
      settle(sync.appliedRevision)
      return
    }
    try {
      if (b.revision <= sync.appliedRevision) throw new StaleRevisionError(b.revision, sync.appliedRevision)
      // Node-relative objects left spec.node out on the wire: it is this DPU's own name.
      const upserts = received.flatMap((c) => c.upserts).map(({ nodeRelative, ...u }) => (nodeRelative ? { ...u, object: { ...u.object, spec: { ...u.object.spec, node: o.dpuName } } } : u))
      o.port.commitRevision({ revision: b.revision, upserts, removals: received.flatMap((c) => c.removals) })
    } catch (err) {
      const error = toWireError(err)
      logger.warn({ revision: b.revision, error }, 'rejecting revision from hub; keeping the last good one')
      st.lastError = error
      send({ v: PROTOCOL_VERSION, type: 'nack', nonce: b.nonce, lastGoodRevision: sync.lastGoodRevision, error })
      return
    }
    stats.revisionsApplied++
    o.afterCommit?.(b.revision)
    send({ v: PROTOCOL_VERSION, type: 'ack', nonce: b.nonce, revision: b.revision })
    logger.info({ revision: b.revision, committedAt: b.committedAt }, 'revision stored and acknowledged')
    settle(b.revision)
    scheduleStatus()
  }

  const onMessage = (m: HubMessage): void => {
    st.lastHubContact = new Date().toISOString()
    if (st.connection !== 'connected') {
      st.connection = 'connected'
      attempt = 0
      st.lastError = null
      outage.connected()
      scheduleStatus()
    }
    if (m.type === 'heartbeat') return
    if (m.type === 'push') {
      if (m.seq !== chunks.length) {
        drop(`push chunk ${m.seq} out of order (expected ${chunks.length})`)
        return
      }
      chunks.push({ upserts: m.upserts, removals: m.removals })
    } else onBookmark(m)
  }

  const drop = (reason: string): void => {
    st.lastError = { code: 'federation.protocol', message: reason }
    logger.warn({ reason }, 'dropping hub stream')
    call?.cancel()
  }

  const disconnected = (why: WireError): void => {
    if (!call) return
    call.removeAllListeners()
    call.on('error', () => {})
    call = null
    chunks = []
    clearInterval(heartbeatTimer)
    clearTimeout(statusTimer)
    statusTimer = undefined
    if (stopped) return
    const wasConnected = st.connection === 'connected'
    st.connection = 'disconnected'
    st.lastError = st.lastError?.code === 'federation.protocol' ? st.lastError : why
    const delay = backoffDelay(wasConnected ? 0 : attempt++, backoff)
    if (wasConnected) outage.lost(`${why.code}: ${why.message}`)
    else outage.failed(`${why.code}: ${why.message}`)
    logger.debug({ hub: o.hub, error: why, retryInMs: delay }, 'hub stream closed')
    reconnectTimer = setTimeout(connect, delay)
  }

  function connect(): void {
    if (stopped) return
    st.connection = st.connection === 'connected' ? 'connected' : 'connecting'
    // One channel for the agent's life: grpc-js reconnects it by itself. A channel per attempt leaked a
    // connection each: a closed channel's connect attempt still in flight completes once the hub is back and is
    // never used, and the hub's per-identity connection cap then refused the agent's real one.
    client ??= new FederationClient(o.hub, channel.credentials, { ...CHANNEL_OPTIONS, ...channel.options, 'grpc.use_local_subchannel_pool': 1 })
    const c = (client as unknown as { sync(): SyncClientStream }).sync()
    call = c
    lastStatusSent = null
    c.on('data', (r: DecodeResult<HubMessage>) => {
      if (call !== c) return
      stats.messagesReceived++
      stats.bytesReceived += r.size
      if (!r.ok) return drop(`invalid message from hub: ${r.error.message}`)
      onMessage(r.message)
    })
    c.on('error', (err: grpc.ServiceError) => {
      if (call === c)
        disconnected({ code: err.code === grpc.status.PERMISSION_DENIED || err.code === grpc.status.UNAUTHENTICATED ? 'federation.identity' : 'federation.unavailable', message: readableDetails(err) })
    })
    c.on('end', () => {
      if (call === c) disconnected({ code: 'federation.unavailable', message: 'hub ended the stream' })
    })
    const sync = o.port.readSyncState()
    send({
      v: PROTOCOL_VERSION,
      type: 'hello',
      dpu: o.dpuName,
      appliedRevision: sync.appliedRevision,
      objectHashes: sync.objectHashes,
      versions: { protocol: PROTOCOL_VERSION, agent: AGENT_VERSION },
      ...(o.labels ? { labels: o.labels } : {}),
    })
    heartbeatTimer = setInterval(() => send({ v: PROTOCOL_VERSION, type: 'heartbeat' }), heartbeatMs)
  }

  connect()

  return {
    state: () => ({ ...st }),
    stats: () => ({ ...stats }),
    waitForRevision(revision, timeoutMs = 10_000) {
      if (st.syncedRevision >= revision) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const w = { revision, resolve: () => (clearTimeout(t), resolve()) }
        const t = setTimeout(() => (waiters.delete(w), reject(new Error(`revision ${revision} not reached within ${timeoutMs} ms`))), timeoutMs)
        waiters.add(w)
      })
    },
    async stop() {
      stopped = true
      unsubscribe()
      clearTimeout(reconnectTimer)
      clearInterval(heartbeatTimer)
      clearTimeout(statusTimer)
      if (call) {
        const c = call
        call = null
        c.removeAllListeners()
        c.on('error', () => {})
        c.cancel()
      }
      client?.close()
      st.connection = 'disconnected'
    },
  }
}
