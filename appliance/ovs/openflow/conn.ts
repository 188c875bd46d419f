/**
 * One OpenFlow connection to `<rundir>/<bridge>.mgmt`, kept up for the life of the object.
 *
 *   idle --start()--> connecting --socket up--> handshake --HELLO, FEATURES, SET_CONFIG--> connected
 *     ^                  |   ^                     |                                        |
 *     |                  v   |                     v                                        v
 *   close()           backoff (50 ms doubling to 250 ms, jittered) <---- socket closed / protocol error
 *
 * Holds: the negotiated version (we advertise only the versions we speak, and then speak exactly the
 * negotiated one: OVS drops a peer that does otherwise), the pending requests by xid and the in-flight batches
 * by xid range. Everything pending is rejected with `OpenFlowUnavailableError` when the socket goes, and
 * `generation` counts successful handshakes so owners know when the switch may have lost its flows.
 *
 * Receive path: bytes are framed by the header length (a message is at most 64 KiB, so the buffer is bounded);
 * garbage, a truncated body, a wrong version or a reply nobody asked for is a protocol error: reported on
 * `protocol-error`, then the socket is dropped and we reconnect. Nothing the peer sends can throw out of here.
 */
import { EventEmitter } from 'node:events'
import { connect, type Socket } from 'node:net'
import { backoffDelay, type BackoffOptions } from '../../../api/support/backoff.js'
import { decodeMessage, writeFrame } from './codec.js'
import { OpenFlowEncodeError, OpenFlowProtocolError, OpenFlowRejectedError, OpenFlowTimeoutError, OpenFlowUnavailableError, type OfpErrorInfo } from './errors.js'
import type { OfFrame, OfMessage, PortDesc } from './model.js'
import { nameOfpError } from './tables/errors.js'
import { OFP_HEADER_LEN, OFPMPF_REPLY_MORE, SUPPORTED_VERSIONS, type OfVersion, type PortReason } from './tables/messages.js'
import { Writer } from './wire.js'

export interface OpenFlowConnectionOptions {
  /** `<rundir>/<bridge>.mgmt` */
  socketPath: string
  /** Versions to advertise; the highest one the switch shares is spoken (default OF1.4 and OF1.5). */
  versions?: readonly OfVersion[]
  /** Reply timeout for requests and batch barriers (default 30 s: a 100k-flow bundle takes about 1.5 s). */
  requestTimeoutMs?: number
  /** Handshake timeout after the socket connects (default 5 s). */
  handshakeTimeoutMs?: number
  /** Reconnect backoff (default 50 ms doubling to 250 ms, equal jitter so a failing socket is never retried at once). */
  backoff?: Partial<BackoffOptions>
  /** Send an ECHO_REQUEST after this much silence (default 15 s; the switch probes `.mgmt` every 60 s). */
  echoIntervalMs?: number
  /** Ask for asynchronous messages (port status) on this service connection (default true). */
  asyncMessages?: boolean
  /** First xid handed out (default 1); tests start near 2^32 to cross the wrap. */
  firstXid?: number
}

export interface SwitchFeatures {
  datapathId: bigint
  nBuffers: number
  nTables: number
}

export interface ConnectedEvent {
  version: OfVersion
  features: SwitchFeatures
  /** 1 for the first connection, +1 on each reconnect. */
  generation: number
}

export type ConnectionState = 'idle' | 'connecting' | 'handshake' | 'connected' | 'backoff' | 'closed'

export interface OpenFlowConnectionEvents {
  connected: [ConnectedEvent]
  disconnected: [{ generation: number; reason: Error }]
  'port-status': [{ reason: PortReason; port: PortDesc }]
  /** The peer broke the protocol; a reconnect follows. */
  'protocol-error': [OpenFlowProtocolError]
  /**
   * An attempt ended before `connected` for another reason: the socket could not be opened (`socket`: no such
   * bridge yet, vswitchd down) or the switch did not complete the handshake (`handshake`: timeout, hang-up).
   * A reconnect follows.
   */
  'connect-failed': [{ phase: 'socket' | 'handshake'; error: Error }]
  /** An OFPT_ERROR for no message we are waiting on. */
  'switch-error': [OfpErrorInfo]
}

/** Errors collected for one batch sent with `transact`, indexed like the batch. */
export interface TransactResult {
  errors: OfpErrorInfo[]
  /** xid of `msgs[0]` (message i had xid firstXid + i). */
  firstXid: number
}

interface PendingRequest {
  kind: 'single' | 'multipart'
  parts: OfMessage[]
  onPart: ((m: OfMessage) => void) | undefined
  resolve: (m: OfMessage[]) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
  what: string
}

interface PendingBatch {
  first: number
  last: number
  barrierXid: number
  errors: OfpErrorInfo[]
  resolve: (r: TransactResult) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout | undefined
}

const REPLY_TYPES = new Set<OfMessage['type']>(['echo_reply', 'features_reply', 'barrier_reply', 'flow_stats_reply', 'port_desc_reply', 'bundle_control'])
const CHUNK = 256 * 1024
/** Bytes we let queue in the socket before waiting for it to drain. */
const MAX_QUEUED = 32 * 1024 * 1024

function drained(sock: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      sock.off('drain', done)
      sock.off('close', done)
      resolve()
    }
    sock.once('drain', done)
    sock.once('close', done)
  })
}

export class OpenFlowConnection extends EventEmitter<OpenFlowConnectionEvents> {
  readonly socketPath: string
  private readonly versions: readonly OfVersion[]
  private readonly requestTimeoutMs: number
  private readonly handshakeTimeoutMs: number
  private readonly backoff: BackoffOptions
  private readonly echoIntervalMs: number
  private readonly asyncMessages: boolean

  private _state: ConnectionState = 'idle'
  private socket: Socket | undefined
  private rx: Buffer = Buffer.alloc(0)
  private _version: OfVersion | undefined
  private _features: SwitchFeatures | undefined
  private _generation = 0
  private xid = 1
  private bundleId = 1
  private attempt = 0
  private reconnectTimer: NodeJS.Timeout | undefined
  private handshakeTimer: NodeJS.Timeout | undefined
  private echoTimer: NodeJS.Timeout | undefined
  private lastRx = 0
  private readonly pending = new Map<number, PendingRequest>()
  private readonly batches: PendingBatch[] = []
  private readonly waiters = new Set<{ resolve: () => void; reject: (e: Error) => void }>()
  private lastError: Error | undefined

  constructor(options: OpenFlowConnectionOptions) {
    super()
    this.socketPath = options.socketPath
    this.versions = options.versions ?? SUPPORTED_VERSIONS
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5_000
    // A local unix socket: a failed connect costs microseconds, and flows must be back within a second of a
    // vswitchd restart (DESIGN.md §8), so retry often.
    this.backoff = { initialMs: options.backoff?.initialMs ?? 50, maxMs: options.backoff?.maxMs ?? 250, jitter: 'equal' }
    this.echoIntervalMs = options.echoIntervalMs ?? 15_000
    this.asyncMessages = options.asyncMessages ?? true
    this.xid = options.firstXid ?? 1
  }

  get state(): ConnectionState {
    return this._state
  }
  get connected(): boolean {
    return this._state === 'connected'
  }
  /** The negotiated version while connected. */
  get version(): OfVersion | undefined {
    return this._version
  }
  get features(): SwitchFeatures | undefined {
    return this._features
  }
  get generation(): number {
    return this._generation
  }
  /** Why the last connection attempt or connection failed (cleared on connect): for readiness and status. */
  get failure(): Error | undefined {
    return this._state === 'connected' ? undefined : this.lastError
  }

  /** Connect now and keep reconnecting until `close()`. */
  start(): this {
    if (this._state === 'idle') this.dial()
    return this
  }

  /** Resolves once connected (immediately if already). */
  waitConnected(timeoutMs = 10_000): Promise<void> {
    if (this._state === 'connected') return Promise.resolve()
    if (this._state === 'closed') return Promise.reject(new OpenFlowUnavailableError('connection closed', { socket: this.socketPath }))
    return new Promise((resolve, reject) => {
      const w = {
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
        reject: (e: Error) => {
          clearTimeout(timer)
          reject(e)
        },
      }
      const timer = setTimeout(() => {
        this.waiters.delete(w)
        reject(
          new OpenFlowUnavailableError(
            `no OpenFlow connection to ${this.socketPath} within ${timeoutMs} ms${this.lastError ? `: ${this.lastError.message}` : ''}`,
            { socket: this.socketPath },
            this.lastError,
          ),
        )
      }, timeoutMs)
      this.waiters.add(w)
    })
  }

  async close(): Promise<void> {
    if (this._state === 'closed') return
    this._state = 'closed'
    clearTimeout(this.reconnectTimer)
    this.teardown(new OpenFlowUnavailableError('connection closed', { socket: this.socketPath }))
    for (const w of this.waiters) w.reject(new OpenFlowUnavailableError('connection closed', { socket: this.socketPath }))
    this.waiters.clear()
  }

  /** A fresh bundle id (unique per connection object). */
  nextBundleId(): number {
    const id = this.bundleId
    this.bundleId = (this.bundleId + 1) >>> 0 || 1
    return id
  }

  /** Send one request and resolve with its reply; OFPT_ERROR rejects with `OpenFlowRejectedError`. */
  async request(msg: OfMessage, timeoutMs = this.requestTimeoutMs): Promise<OfMessage> {
    const [reply] = await this.ask(msg, 'single', undefined, timeoutMs)
    return reply!
  }

  /** Send a multipart request; `onPart` sees each reply message as it arrives (REPLY_MORE until the last). */
  multipart(msg: OfMessage, onPart?: (m: OfMessage) => void, timeoutMs = this.requestTimeoutMs): Promise<OfMessage[]> {
    return this.ask(msg, 'multipart', onPart, timeoutMs)
  }

  /** Send and forget (errors for it surface on `switch-error`). */
  send(msg: OfMessage): void {
    const sock = this.requireSocket()
    const w = new Writer(64)
    writeFrame(w, msg, this._version!, this.takeXids(1))
    sock.write(w.take())
  }

  /**
   * Send `msgs` with consecutive xids, then a BARRIER; resolve when the barrier reply arrives with every
   * OFPT_ERROR the switch sent for those messages (`index` = position in `msgs`). Replies to the batch's
   * messages (bundle OPEN/COMMIT replies) are accepted and dropped. Messages are encoded and written in
   * 256 KiB chunks; an encoding error in the first chunk throws with nothing sent. `onSent` runs once the
   * last byte is handed to the socket (the switch is still working through them): a place for CPU work.
   */
  transact(msgs: readonly OfMessage[], timeoutMs = this.requestTimeoutMs, onSent?: () => void): Promise<TransactResult> {
    return this.transactWith(msgs.length, (w, i, xid, version) => writeFrame(w, msgs[i]!, version, xid), timeoutMs, onSent)
  }

  /**
   * `transact` with message `i` written by `write` (callers that encode straight from their own model). Each
   * chunk of the stream is a Writer of its own, never reused once queued on the socket: bytes `write` put in
   * `w.buf` stay there, for callers that read them back (bundle.ts `onEncoded`).
   */
  async transactWith(count: number, write: (w: Writer, index: number, xid: number, version: number) => void, timeoutMs = this.requestTimeoutMs, onSent?: () => void): Promise<TransactResult> {
    const sock = this.requireSocket()
    const version = this._version!
    const first = this.takeXids(count + 1)
    const barrierXid = (first + count) >>> 0
    const encode = (w: Writer, i: number): void => {
      try {
        write(w, i, (first + i) >>> 0, version)
      } catch (err) {
        if (err instanceof OpenFlowEncodeError) {
          throw new OpenFlowEncodeError(`message ${i} of ${count}: ${err.message}`, { ...err.context, index: i })
        }
        throw err
      }
    }
    // Encode the first chunk before registering anything: a bad message there fails with nothing sent.
    let w = new Writer(Math.min(CHUNK * 2, 64 + count * 200))
    let i = 0
    while (i < count && w.pos < CHUNK) encode(w, i++)
    const done = new Promise<TransactResult>((resolve, reject) => {
      this.batches.push({ first, last: barrierXid, barrierXid, errors: [], resolve, reject, timer: undefined })
    })
    const batch = this.batches[this.batches.length - 1]!
    // Stream: the switch parses chunk k while we encode chunk k+1 (two cores, not one after the other).
    // An encode error after the first chunk leaves earlier messages sent; the caller's bundle is then never
    // committed (bundle.ts discards it), so nothing of it is applied.
    try {
      for (;;) {
        if (i >= count) writeFrame(w, { type: 'barrier_request' }, version, barrierXid)
        if (this.socket !== sock || sock.destroyed) break
        sock.write(w.buf.subarray(0, w.pos))
        if (i >= count) break
        w = new Writer(CHUNK * 2)
        // Keep encoding ahead of the switch (it parses while we encode) but bound what waits in memory.
        if (sock.writableLength > MAX_QUEUED) await drained(sock)
        while (i < count && w.pos < CHUNK) encode(w, i++)
      }
    } catch (err) {
      const at = this.batches.indexOf(batch)
      if (at >= 0) this.batches.splice(at, 1)
      done.catch(() => {})
      throw err
    }
    // The timer starts once everything is written: a slow write of a big batch is not a dead switch.
    if (this.batches.includes(batch)) {
      onSent?.()
      batch.timer = setTimeout(() => this.fail(new OpenFlowTimeoutError(`barrier after ${count} messages`, timeoutMs, { xid: barrierXid })), timeoutMs)
    }
    return done
  }

  /** BARRIER round trip. */
  async barrier(timeoutMs = this.requestTimeoutMs): Promise<void> {
    await this.transact([], timeoutMs)
  }

  // --- internals ---

  /**
   * `n` consecutive xids. A range never wraps past 2^32 (a batch is matched by `first <= xid <= last`) and never
   * holds an xid a pending request or batch still waits on (its reply would be taken for another's).
   */
  private takeXids(n: number): number {
    for (let tries = 0; ; tries++) {
      let first = this.xid
      if (first === 0 || first + n - 1 > 0xffffffff) first = 1
      const last = first + n - 1
      const held = this.heldIn(first, last)
      if (held === undefined) {
        this.xid = last + 1 > 0xffffffff ? 1 : last + 1
        return first
      }
      // Skip past what is held; bounded because at most every pending request and batch can be in the way.
      if (tries > this.pending.size + this.batches.length + 1) {
        throw new OpenFlowProtocolError(`no free range of ${n} xids: ${this.pending.size} requests and ${this.batches.length} batches pending`)
      }
      this.xid = held + 1 > 0xffffffff ? 1 : held + 1
    }
  }

  /** The highest xid in [first, last] held by a pending request or batch, if any. */
  private heldIn(first: number, last: number): number | undefined {
    let held: number | undefined
    for (const xid of this.pending.keys()) if (xid >= first && xid <= last && (held === undefined || xid > held)) held = xid
    for (const b of this.batches) {
      if (b.first <= last && b.last >= first) held = Math.max(held ?? 0, Math.min(b.last, last))
    }
    return held
  }

  private requireSocket(): Socket {
    if (this._state !== 'connected' || !this.socket) {
      throw new OpenFlowUnavailableError(`OpenFlow connection to ${this.socketPath} is ${this._state}`, {
        socket: this.socketPath,
        state: this._state,
      })
    }
    return this.socket
  }

  private ask(msg: OfMessage, kind: 'single' | 'multipart', onPart: ((m: OfMessage) => void) | undefined, timeoutMs: number): Promise<OfMessage[]> {
    if (!this.socket || (this._state !== 'connected' && this._state !== 'handshake')) {
      return Promise.reject(new OpenFlowUnavailableError(`OpenFlow connection to ${this.socketPath} is ${this._state}`, { socket: this.socketPath }))
    }
    const xid = this.takeXids(1)
    const w = new Writer(128)
    writeFrame(w, msg, this._version!, xid)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new OpenFlowTimeoutError(msg.type, timeoutMs, { xid })), timeoutMs)
      this.pending.set(xid, { kind, parts: [], onPart, resolve, reject, timer, what: msg.type })
      this.socket!.write(w.take())
    })
  }

  private dial(): void {
    this._state = 'connecting'
    const sock = connect(this.socketPath)
    this.socket = sock
    this.rx = Buffer.alloc(0)
    sock.setNoDelay?.(true)
    sock.on('connect', () => this.onSocketConnect(sock))
    sock.on('data', (d: Buffer) => {
      if (this.socket !== sock) return
      this.lastRx = Date.now()
      try {
        this.onData(d)
      } catch (err) {
        this.fail(err instanceof OpenFlowProtocolError ? err : new OpenFlowProtocolError(String(err), {}, err))
      }
    })
    sock.on('error', (err) => {
      if (this.socket === sock) this.fail(new OpenFlowUnavailableError(`${this.socketPath}: ${err.message}`, { socket: this.socketPath }, err))
    })
    sock.on('close', () => {
      if (this.socket === sock) this.fail(new OpenFlowUnavailableError(`${this.socketPath}: connection closed by peer`, { socket: this.socketPath }))
    })
  }

  private onSocketConnect(sock: Socket): void {
    if (this.socket !== sock) return
    this._state = 'handshake'
    this.handshakeTimer = setTimeout(() => this.fail(new OpenFlowTimeoutError('OpenFlow handshake', this.handshakeTimeoutMs, { socket: this.socketPath })), this.handshakeTimeoutMs)
    const w = new Writer(16)
    writeFrame(w, { type: 'hello', versions: [...this.versions] }, Math.max(...this.versions), this.takeXids(1))
    sock.write(w.take())
  }

  private async afterHello(sock: Socket): Promise<void> {
    try {
      const features = await this.request({ type: 'features_request' }, this.handshakeTimeoutMs)
      if (features.type !== 'features_reply') throw new OpenFlowProtocolError(`expected FEATURES_REPLY, got ${features.type}`)
      // Service connections (*.mgmt) get no async messages (port status) until miss_send_len > 0
      // (`ofproto/connmgr.c`). We install no controller actions, so this brings no packet-ins.
      if (this.asyncMessages) {
        const w = new Writer(16)
        writeFrame(w, { type: 'set_config', flags: 0, missSendLen: 0xffff }, this._version!, this.takeXids(1))
        sock.write(w.take())
      }
      if (this.socket !== sock) return
      clearTimeout(this.handshakeTimer)
      this._features = { datapathId: features.datapathId, nBuffers: features.nBuffers, nTables: features.nTables }
      this._state = 'connected'
      this._generation++
      this.attempt = 0
      this.lastError = undefined
      this.armEcho()
      for (const w of this.waiters) w.resolve()
      this.waiters.clear()
      this.emit('connected', { version: this._version!, features: this._features, generation: this._generation })
    } catch (err) {
      if (this.socket === sock) this.fail(err instanceof Error ? err : new Error(String(err)))
    }
  }

  private armEcho(): void {
    clearInterval(this.echoTimer)
    this.echoTimer = setInterval(() => {
      if (this._state !== 'connected' || Date.now() - this.lastRx < this.echoIntervalMs) return
      this.request({ type: 'echo_request', data: Buffer.alloc(0) }, this.echoIntervalMs).catch(() => {
        /* a timeout already failed the connection */
      })
    }, this.echoIntervalMs)
    this.echoTimer.unref()
  }

  private onData(chunk: Buffer): void {
    const buf = this.rx.length ? Buffer.concat([this.rx, chunk]) : chunk
    let off = 0
    while (buf.length - off >= OFP_HEADER_LEN) {
      const len = buf.readUInt16BE(off + 2)
      if (len < OFP_HEADER_LEN) {
        throw new OpenFlowProtocolError(`message length ${len} is shorter than the header (garbage on the socket?)`, {
          socket: this.socketPath,
          head: buf.subarray(off, off + 8).toString('hex'),
        })
      }
      if (buf.length - off < len) break
      const frame = decodeMessage(buf.subarray(off, off + len))
      off += len
      this.onFrame(frame)
      if (this.socket === undefined) return
    }
    // What stays is less than one message, and a message is at most 64 KiB: the buffer is bounded.
    this.rx = off === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off))
  }

  private onFrame({ version, xid, msg }: OfFrame): void {
    if (msg.type === 'hello' && this._state === 'handshake' && this._version === undefined) {
      const common = this.versions.filter((v) => msg.versions.includes(v))
      if (!common.length) {
        throw new OpenFlowProtocolError(`no common OpenFlow version: we speak ${this.versions.join(',')}, switch ${msg.versions.join(',')}`)
      }
      this._version = Math.max(...common) as OfVersion
      void this.afterHello(this.socket!)
      return
    }
    if (version !== this._version) {
      throw new OpenFlowProtocolError(`received ${msg.type} in version 0x${version.toString(16)}, negotiated 0x${this._version?.toString(16)}`, {
        xid,
      })
    }
    switch (msg.type) {
      case 'echo_request': {
        const w = new Writer(16 + msg.data.length)
        writeFrame(w, { type: 'echo_reply', data: msg.data }, version, xid)
        this.socket?.write(w.take())
        return
      }
      case 'port_status':
        this.emit('port-status', { reason: msg.reason, port: msg.port })
        return
      case 'error':
        this.onError(xid, msg)
        return
      case 'other':
        return // unmodelled async messages (packet-in, role status...): nothing here asks for them
      default:
        break
    }
    if (!REPLY_TYPES.has(msg.type)) throw new OpenFlowProtocolError(`unexpected ${msg.type} from switch`, { xid })
    const req = this.pending.get(xid)
    if (req) {
      if (req.kind === 'multipart') {
        req.onPart?.(msg)
        if (!req.onPart) req.parts.push(msg)
        const more = 'flags' in msg && (msg.flags & OFPMPF_REPLY_MORE) !== 0
        if (more) return
      } else {
        req.parts.push(msg)
      }
      this.pending.delete(xid)
      clearTimeout(req.timer)
      req.resolve(req.parts)
      return
    }
    const batch = this.batchOf(xid)
    if (batch) {
      if (msg.type === 'barrier_reply' && xid === batch.barrierXid) {
        clearTimeout(batch.timer)
        this.batches.splice(this.batches.indexOf(batch), 1)
        batch.resolve({ errors: batch.errors, firstXid: batch.first })
      }
      return
    }
    throw new OpenFlowProtocolError(`${msg.type} with xid ${xid} answers no request of ours`, { xid })
  }

  private batchOf(xid: number): PendingBatch | undefined {
    for (const b of this.batches) if (xid >= b.first && xid <= b.last) return b
    return undefined
  }

  private onError(xid: number, msg: Extract<OfMessage, { type: 'error' }>): void {
    const names = nameOfpError(msg.errorType, msg.code)
    const info: OfpErrorInfo = { type: msg.errorType, code: msg.code, ...names, xid }
    const req = this.pending.get(xid)
    if (req) {
      this.pending.delete(xid)
      clearTimeout(req.timer)
      req.reject(new OpenFlowRejectedError(req.what, [info]))
      return
    }
    const batch = this.batchOf(xid)
    if (batch) {
      batch.errors.push({ ...info, index: xid - batch.first })
      return
    }
    if (this._state === 'handshake') throw new OpenFlowProtocolError(`switch refused the handshake: ${names.typeName}/${names.codeName}`)
    this.emit('switch-error', info)
  }

  /** Drop the socket, reject everything pending, and schedule a reconnect unless closed. */
  private fail(reason: Error): void {
    if (!this.socket) return
    const wasConnected = this._state === 'connected'
    const phase = this._state === 'connecting' ? 'socket' : this._state === 'handshake' ? 'handshake' : undefined
    this.lastError = reason
    if (reason instanceof OpenFlowProtocolError) this.emit('protocol-error', reason)
    else if (phase) this.emit('connect-failed', { phase, error: reason })
    this.teardown(reason)
    if (wasConnected) this.emit('disconnected', { generation: this._generation, reason })
    if (this._state === 'closed') return
    this._state = 'backoff'
    const delay = backoffDelay(this.attempt++, this.backoff)
    this.reconnectTimer = setTimeout(() => {
      if (this._state === 'backoff') this.dial()
    }, delay)
  }

  private teardown(reason: Error): void {
    const sock = this.socket
    this.socket = undefined
    this._version = undefined
    this.rx = Buffer.alloc(0)
    clearTimeout(this.handshakeTimer)
    clearInterval(this.echoTimer)
    sock?.destroy()
    const gone = reason instanceof OpenFlowUnavailableError ? reason : new OpenFlowUnavailableError(`connection lost: ${reason.message}`, { socket: this.socketPath }, reason)
    for (const [, req] of this.pending) {
      clearTimeout(req.timer)
      req.reject(reason instanceof OpenFlowTimeoutError ? reason : gone)
    }
    this.pending.clear()
    for (const b of this.batches.splice(0)) {
      clearTimeout(b.timer)
      b.reject(reason instanceof OpenFlowTimeoutError ? reason : gone)
    }
  }
}
