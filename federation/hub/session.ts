/**
 * One agent's stream at the hub.
 *
 * Holds what the hub knows the agent has (`held`: key -> hash, from its hello and then from each ack), the one
 * revision in flight (at most one un-acked push per agent: Istio's ACK gating), and the last rejected set
 * hash (never re-sent automatically; a new desired set is a new attempt). Fleet changes while a push is in
 * flight are not queued: after the ack the session recomputes the delta from the newest desired set, so any
 * number of changes merge into one revision.
 *
 *   awaiting-hello --hello--> ready --(stream end | error)--> closed
 *                                |  sendNext: desired != held and no push in flight -> chunks..., bookmark
 *                                |  ack(nonce) -> held = target; sendNext
 *                                |  nack(nonce) -> failedHash = target; sendNext
 */
import { randomBytes } from 'node:crypto'
import * as grpc from '@grpc/grpc-js'
import { PROTOCOL_VERSION, type AgentMessage, type Hello, type Status } from '../../api/federation/messages.js'
import type { LogLimiter } from '../../api/support/log-limit.js'
import type { DecodeResult } from '../wire/codec.js'
import { encodeHubMessage } from '../wire/codec.js'
import { hashSet } from '../wire/hash.js'
import type { Logger } from '../wire/logger.js'
import type { SyncServerStream } from '../wire/service.js'
import { computeDelta, type DeltaCache } from './delta-cache.js'
import type { DpuRegistry } from './dpu-registry.js'
import type { HubDb } from './hub-db.js'
import type { HubMetrics } from './metrics.js'
import type { DesiredSet, Planner } from './planner.js'

export interface SessionHost {
  planner: Planner
  db: HubDb
  deltas: DeltaCache
  registry: DpuRegistry
  metrics: HubMetrics
  logger: Logger
  /** Per DPU and reason: an agent refused on every redial (wrong identity, unregistered) warns once a minute. */
  logLimit: LogLimiter
  /** Called once the hello named the DPU; returns false if the session must not proceed. */
  attach(session: AgentSession): void
  detach(session: AgentSession): void
}

interface InFlight {
  nonce: string
  revision: number
  target: DesiredSet
  sentAt: number
}

const EMPTY = new Map<string, string>()
const HEARTBEAT = encodeHubMessage({ v: PROTOCOL_VERSION, type: 'heartbeat' })

export class AgentSession {
  state: 'awaiting-hello' | 'ready' | 'closed' = 'awaiting-hello'
  dpu: string | null
  labels: Record<string, string> = {}
  held: ReadonlyMap<string, string> = EMPTY
  heldHash = hashSet([])
  heldRevision = 0
  inflight: InFlight | null = null
  failedHash: string | null = null
  readonly connectedAt = Date.now()
  lastContact = Date.now()
  desired: DesiredSet | null = null
  private greeted = false

  constructor(
    private readonly call: SyncServerStream,
    /** From the client certificate; null only in --insecure mode, where the hello names the DPU. */
    private readonly identity: string | null,
    private readonly host: SessionHost,
  ) {
    this.dpu = identity
    call.on('data', (r: DecodeResult<AgentMessage>) => this.onData(r))
    call.on('end', () => this.close(grpc.status.OK, 'agent closed the stream'))
    call.on('cancelled', () => this.finish())
    call.on('error', () => this.finish())
  }

  private onData(r: DecodeResult<AgentMessage>): void {
    if (this.state === 'closed') return
    if (!r.ok) {
      const code = r.error.code === 'federation.too-large' ? grpc.status.RESOURCE_EXHAUSTED : grpc.status.INVALID_ARGUMENT
      this.fail(code, r.error.message, r.error.code)
      return
    }
    this.lastContact = Date.now()
    const m = r.message
    if (this.state === 'awaiting-hello') {
      if (m.type !== 'hello') return this.fail(grpc.status.FAILED_PRECONDITION, `expected hello first, got ${m.type}`, 'federation.protocol')
      return this.onHello(m)
    }
    switch (m.type) {
      case 'hello':
        return this.fail(grpc.status.FAILED_PRECONDITION, 'hello sent twice on one stream', 'federation.protocol')
      case 'ack':
        return this.onAck(m.nonce, m.revision)
      case 'nack':
        return this.onNack(m.nonce, m.lastGoodRevision, m.error)
      case 'status':
        return this.onStatus(m)
      case 'heartbeat':
        this.call.write(HEARTBEAT)
        return
    }
  }

  private onHello(h: Hello): void {
    if (this.identity !== null && h.dpu !== this.identity) {
      return this.fail(grpc.status.PERMISSION_DENIED, `certificate identifies "${this.identity}" but hello claims "${h.dpu}"`, 'federation.identity')
    }
    this.dpu = h.dpu
    const labels = this.host.registry.labelsFor(h.dpu, h.labels)
    if (labels === null) return this.fail(grpc.status.PERMISSION_DENIED, `DPU "${h.dpu}" is not in the hub's DPU registry`, 'federation.identity')
    this.labels = labels
    this.held = new Map(Object.entries(h.objectHashes))
    this.heldHash = hashSet(this.held)
    this.heldRevision = h.appliedRevision
    this.state = 'ready'
    const rec = this.host.db.get(h.dpu)
    // A restored hub whose record is older than the agent adopts the agent's revision (never goes backwards).
    this.host.db.update(h.dpu, {
      labels,
      lastContact: this.lastContact,
      hubRevision: Math.max(rec.hubRevision, h.appliedRevision),
      ackedRevision: h.appliedRevision,
    })
    this.host.attach(this)
    this.host.logLimit.reset(`${h.dpu}\0`) // accepted: its next refusal is news
    this.host.logger.info({ dpu: h.dpu, appliedRevision: h.appliedRevision, objects: this.held.size, agent: h.versions.agent }, 'agent connected')
    this.sendNext(true)
  }

  /** Sends the next revision if the agent is behind and nothing is in flight; `always` sends at least a bookmark. */
  sendNext(always = false): void {
    if (this.state !== 'ready' || this.inflight || !this.dpu || !this.host.planner.ready) return
    // The first answer to a hello is always sent, even if only a bookmark: it tells the agent it is in sync.
    always ||= !this.greeted
    const desired = this.host.planner.desiredFor({ name: this.dpu, labels: this.labels })
    this.desired = desired
    if (desired.hash === this.heldHash) {
      // Share the planner's map so thousands of in-sync agents hold one copy of their key -> hash map.
      this.held = desired.hashes
      if (always) this.send(desired, [], this.heldRevision)
      return
    }
    if (desired.hash === this.failedHash) {
      if (always) this.send({ ...desired, hash: this.heldHash, hashes: this.held }, [], this.heldRevision)
      return
    }
    const held = this.held
    const chunks = this.host.deltas.chunksFor(this.heldHash, desired.hash, () => {
      this.host.metrics.encodes.inc()
      return computeDelta(held, desired)
    })
    this.send(desired, chunks, this.host.db.mintRevision(this.dpu, this.heldRevision))
  }

  private send(target: Pick<DesiredSet, 'hash' | 'hashes'> & Partial<DesiredSet>, chunks: Buffer[], revision: number): void {
    const nonce = randomBytes(6).toString('base64url')
    const bookmark = encodeHubMessage({
      v: PROTOCOL_VERSION, type: 'bookmark', revision, nonce, chunks: chunks.length, committedAt: this.host.planner.changedAt,
    })
    this.inflight = { nonce, revision, target: target as DesiredSet, sentAt: Date.now() }
    this.greeted = true
    let bytes = bookmark.length
    for (const c of chunks) {
      this.call.write(c)
      bytes += c.length
    }
    this.call.write(bookmark)
    this.host.metrics.pushes.inc()
    this.host.metrics.pushBytes.inc(bytes)
  }

  private onAck(nonce: string, revision: number): void {
    const f = this.inflight
    // Stale nonces (from a push this session no longer waits for) are ignored, as xDS does.
    if (!f || f.nonce !== nonce || !this.dpu) return
    this.inflight = null
    this.held = f.target.hashes
    this.heldHash = f.target.hash
    this.heldRevision = Math.max(revision, f.revision)
    this.host.metrics.acks.inc()
    this.host.metrics.ackLatency.observe((Date.now() - f.sentAt) / 1000)
    this.host.db.update(this.dpu, { ackedRevision: this.heldRevision, ackedAt: Date.now(), lastContact: this.lastContact })
    this.sendNext()
  }

  private onNack(nonce: string, lastGoodRevision: number, error: { code: string; message: string }): void {
    const f = this.inflight
    if (!f || f.nonce !== nonce || !this.dpu) return
    this.inflight = null
    this.failedHash = f.target.hash
    this.heldRevision = Math.max(this.heldRevision, lastGoodRevision)
    this.host.metrics.nacks.inc()
    this.host.logger.warn({ dpu: this.dpu, revision: f.revision, error }, 'agent rejected revision')
    this.host.db.update(this.dpu, { lastNack: { revision: f.revision, error, at: Date.now() }, lastContact: this.lastContact })
    this.sendNext()
  }

  private onStatus(s: Status): void {
    if (!this.dpu) return
    this.host.db.update(this.dpu, {
      agentPhase: s.phase,
      agentRevision: s.revision,
      statusJson: JSON.stringify(s.objects),
      lastContact: this.lastContact,
    })
  }

  /** Closes this stream only, with a status the agent logs; the hub keeps serving every other stream. */
  fail(code: grpc.status, details: string, reason: string): void {
    if (this.state === 'closed') return
    this.host.metrics.streamErrors.inc({ reason })
    const key = `${this.dpu ?? this.identity ?? '-'}\0${reason}`
    this.host.logLimit.log(this.host.logger, 'warn', key, { dpu: this.dpu, identity: this.identity, reason, details }, 'closing agent stream')
    this.close(code, details)
  }

  close(code: grpc.status, details: string): void {
    if (this.state === 'closed') return
    this.finish()
    if (code === grpc.status.OK) this.call.end()
    else this.call.emit('error', Object.assign(new Error(details), { code, details }))
  }

  private finish(): void {
    if (this.state === 'closed') return
    const wasReady = this.state === 'ready'
    this.state = 'closed'
    this.inflight = null
    if (wasReady && this.dpu) {
      this.host.db.update(this.dpu, { lastContact: this.lastContact })
      this.host.detach(this)
    }
  }

  /** True when the agent's acknowledged state differs from what it should hold. */
  behind(): boolean {
    return this.state === 'ready' && (this.desired === null || this.desired.hash !== this.heldHash)
  }
}
