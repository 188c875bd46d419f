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
 *
 * Nothing an agent says is trusted beyond what it proves (issue #14): a stream that sends no hello within
 * `helloTimeoutMs` is closed; a hello may claim at most `maxHelloObjects` keys of at most `maxHelloBytes` in all;
 * an ack may only name the revision the hub sent with that nonce, and a hello or nack may only claim a revision
 * the hub minted (or, for a DPU the hub has no record of, one low enough that minting after it stays exact).
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

export interface SessionLimits {
  /** A stream that sends no hello within this long is closed. */
  helloTimeoutMs: number
  /** Keys a hello may claim to hold. */
  maxHelloObjects: number
  /** Bytes of keys and hashes a hello may claim, in all. */
  maxHelloBytes: number
}

/**
 * How far past the hub's recorded revision an agent may claim to be: revisions minted but not yet flushed to
 * hub.db when the hub died (flushed every 250 ms, one revision in flight per agent, so a handful at most).
 */
export const REVISION_SLACK = 1024
/**
 * The highest revision a hub with no record of a DPU (hub.db lost) adopts from its hello: half the exact
 * integer range, so the hub can mint 2^52 more revisions before a revision stops being exact.
 */
export const MAX_ADOPTED_REVISION = 2 ** 52

export interface SessionHost {
  planner: Planner
  db: HubDb
  deltas: DeltaCache
  registry: DpuRegistry
  metrics: HubMetrics
  logger: Logger
  /** Per DPU and reason: an agent refused on every redial (wrong identity, unregistered) warns once a minute. */
  logLimit: LogLimiter
  limits: SessionLimits
  /** Whether this identity may say hello now (per-identity rate limit). */
  admitHello(dpu: string): boolean
  /** Logs a line once per key for the life of the hub. */
  warnOnce(key: string, fields: object, msg: string): void
  /** Called once when the stream ends, whatever state it reached. */
  streamClosed(session: AgentSession): void
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
  private helloTimer: NodeJS.Timeout | null

  /** The DPU the certificate names (null in --insecure mode). */
  readonly identity: string | null

  constructor(
    private readonly call: SyncServerStream,
    /** From the client certificate; null only in --insecure mode, where the hello names the DPU. */
    identity: string | null,
    private readonly host: SessionHost,
    /** The peer address, for log lines about refusals. */
    readonly peer: string,
  ) {
    this.identity = identity
    this.dpu = identity
    this.helloTimer = setTimeout(() => this.fail(grpc.status.DEADLINE_EXCEEDED, `no hello within ${host.limits.helloTimeoutMs} ms`, 'federation.hello-timeout'), host.limits.helloTimeoutMs)
    this.helloTimer.unref()
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
    if (this.helloTimer) clearTimeout(this.helloTimer)
    this.helloTimer = null
    if (this.identity !== null && h.dpu !== this.identity) {
      return this.fail(grpc.status.PERMISSION_DENIED, `certificate identifies "${this.identity}" but hello claims "${h.dpu}"`, 'federation.identity')
    }
    this.dpu = h.dpu
    if (!this.host.admitHello(h.dpu)) return this.fail(grpc.status.RESOURCE_EXHAUSTED, `too many hellos from "${h.dpu}"; retry later`, 'federation.hello-rate')
    const claimed = Object.entries(h.objectHashes)
    const { maxHelloObjects, maxHelloBytes } = this.host.limits
    if (claimed.length > maxHelloObjects) {
      return this.fail(grpc.status.RESOURCE_EXHAUSTED, `hello claims ${claimed.length} objects; at most ${maxHelloObjects} allowed`, 'federation.hello-too-large')
    }
    const claimedBytes = claimed.reduce((n, [k, v]) => n + k.length + v.length, 0)
    if (claimedBytes > maxHelloBytes) {
      return this.fail(grpc.status.RESOURCE_EXHAUSTED, `hello claims ${claimedBytes} bytes of objects; at most ${maxHelloBytes} allowed`, 'federation.hello-too-large')
    }
    const rec = this.host.db.get(h.dpu)
    const refused = this.refuseRevision(h.appliedRevision, rec.hubRevision)
    if (refused) return this.fail(grpc.status.INVALID_ARGUMENT, `hello claims applied revision ${h.appliedRevision}: ${refused}`, 'federation.revision')
    const labels = this.host.registry.labelsFor(h.dpu, h.labels)
    if (labels === null) return this.fail(grpc.status.PERMISSION_DENIED, `DPU "${h.dpu}" is not in the hub's DPU registry`, 'federation.identity')
    if (!this.host.registry.has(h.dpu) && Object.keys(labels).length > 0) {
      this.host.warnOnce(`unregistered-labels\0${h.dpu}`, { dpu: h.dpu, labels }, 'DPU not in the registry reports its own labels; they select what it receives')
    }
    this.labels = labels
    this.held = new Map(claimed)
    this.heldHash = hashSet(this.held)
    this.heldRevision = h.appliedRevision
    this.state = 'ready'
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

  /** Why an agent's claimed revision is refused, or null if the hub could have minted it. */
  private refuseRevision(claimed: number, hubRevision: number): string | null {
    if (claimed <= hubRevision) return null
    if (hubRevision === 0) return claimed <= MAX_ADOPTED_REVISION ? null : `above ${MAX_ADOPTED_REVISION}, the most a hub with no record of this DPU adopts`
    return claimed <= hubRevision + REVISION_SLACK ? null : `the hub minted at most ${hubRevision}`
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
      v: PROTOCOL_VERSION,
      type: 'bookmark',
      revision,
      nonce,
      chunks: chunks.length,
      committedAt: this.host.planner.changedAt,
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
    // The hub sent f.revision with this nonce; an agent acknowledging a later one is lying or broken.
    if (revision > f.revision) return this.fail(grpc.status.INVALID_ARGUMENT, `ack names revision ${revision} but the hub sent ${f.revision}`, 'federation.revision')
    this.inflight = null
    this.held = f.target.hashes
    this.heldHash = f.target.hash
    this.heldRevision = f.revision
    this.host.metrics.acks.inc()
    this.host.metrics.ackLatency.observe((Date.now() - f.sentAt) / 1000)
    this.host.db.update(this.dpu, { ackedRevision: this.heldRevision, ackedAt: Date.now(), lastContact: this.lastContact })
    this.sendNext()
  }

  private onNack(nonce: string, lastGoodRevision: number, error: { code: string; message: string }): void {
    const f = this.inflight
    if (!f || f.nonce !== nonce || !this.dpu) return
    if (lastGoodRevision > f.revision) {
      return this.fail(grpc.status.INVALID_ARGUMENT, `nack names last good revision ${lastGoodRevision} but the hub sent ${f.revision}`, 'federation.revision')
    }
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
    const minted = this.host.db.get(this.dpu).hubRevision
    if (s.revision > minted) return this.fail(grpc.status.INVALID_ARGUMENT, `status names revision ${s.revision} but the hub minted at most ${minted}`, 'federation.revision')
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
    this.host.logLimit.log(this.host.logger, 'warn', key, { dpu: this.dpu, identity: this.identity, peer: this.peer, reason, details }, 'closing agent stream')
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
    if (this.helloTimer) clearTimeout(this.helloTimer)
    this.helloTimer = null
    this.host.streamClosed(this)
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
