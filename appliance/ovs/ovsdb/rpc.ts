/**
 * One JSON-RPC 1.0 session on one socket (RFC 7047 §4): request ids and their pending promises, the server's
 * `echo` answered verbatim, our own echo sent after `probeIntervalMs` of silence, and the session closed after a
 * second silent interval (the server does the same to us: 5 s + 5 s). Notifications go to `onNotification`.
 *
 * A session never reconnects: any protocol violation or socket error ends it (`closed` resolves with the reason)
 * and every pending request is rejected. The client above starts a new session.
 */
import type { Socket } from 'node:net'
import { isRecord } from '../../../api/is-record.js'
import { OvsdbDisconnectedError, OvsdbProtocolError, OvsdbRpcError, OvsdbTimeoutError } from './errors.js'
import { JsonStreamSplitter } from './framing.js'
import type { Json } from './notation.js'

export interface RpcSessionOptions {
  maxMessageBytes?: number
  /** Send our echo after this much silence from the server, close after twice as much (0 = never). */
  probeIntervalMs?: number
  /** Default per-request timeout (0 = none). */
  requestTimeoutMs?: number
}

interface Pending {
  method: string
  resolve: (result: unknown) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout | undefined
}

/** Late replies to requests we gave up on are expected; replies to ids we never sent are a protocol error. */
const MAX_ABANDONED_IDS = 1024

export class RpcSession {
  onNotification: (method: string, params: unknown[]) => void = () => {}
  readonly closed: Promise<Error | undefined>

  private readonly splitter: JsonStreamSplitter
  private readonly pending = new Map<number, Pending>()
  private readonly abandoned = new Set<number>()
  private nextId = 1
  private lastReceived = Date.now()
  private probeSent = false
  private probeTimer: NodeJS.Timeout | undefined
  private closeReason: Error | undefined
  private isClosed = false
  private resolveClosed!: (reason: Error | undefined) => void

  constructor(
    private readonly socket: Socket,
    private readonly options: RpcSessionOptions = {},
  ) {
    this.splitter = new JsonStreamSplitter({ maxMessageBytes: options.maxMessageBytes })
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve))
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    socket.on('error', (err) => this.close(new OvsdbDisconnectedError('the session', err)))
    socket.on('close', () => {
      const reason = this.splitter.midMessage ? new OvsdbProtocolError('connection closed in the middle of a message (truncated)') : undefined
      this.close(reason)
    })
    const probe = options.probeIntervalMs ?? 5000
    if (probe > 0) {
      this.probeTimer = setInterval(() => this.checkInactivity(probe), Math.max(50, Math.floor(probe / 4)))
      this.probeTimer.unref()
    }
  }

  get isOpen(): boolean {
    return !this.isClosed
  }

  /** Send a request; resolves with `result`, rejects with an `OvsdbRpcError` when the server answers `error`. */
  request(method: string, params: Json[], options: { timeoutMs?: number } = {}): Promise<unknown> {
    if (this.isClosed) return Promise.reject(this.closeReason ?? new OvsdbDisconnectedError(method))
    const id = this.nextId++
    return new Promise<unknown>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs ?? 0
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.pending.delete(id)
              this.abandon(id)
              reject(new OvsdbTimeoutError(`OVSDB ${method}`, timeoutMs, { method, id }))
            }, timeoutMs)
          : undefined
      this.pending.set(id, { method, resolve, reject, timer })
      this.write({ method, params, id })
    })
  }

  /**
   * Send a request with no timeout of its own and return its id with the reply, for callers that must decide
   * what a timeout means (a transact is cancelled, then its late reply is still awaited). `forget(id)` gives up.
   */
  start(method: string, params: Json[]): { id: number; reply: Promise<unknown> } {
    if (this.isClosed) return { id: 0, reply: Promise.reject(this.closeReason ?? new OvsdbDisconnectedError(method)) }
    const id = this.nextId++
    const reply = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject, timer: undefined })
      this.write({ method, params, id })
    })
    return { id, reply }
  }

  /**
   * RFC 7047 §4.1.4 `cancel` notification for request `id`: ovsdb-server answers a transact that is still
   * waiting (a `wait` op with a timeout) with the error "canceled" and does not commit it; one already executed
   * is answered normally, so the reply still tells the outcome.
   */
  cancel(id: number): void {
    this.write({ method: 'cancel', params: [id], id: null })
  }

  /** Stop waiting for request `id`: its promise rejects with `reason` and a late reply is dropped quietly. */
  forget(id: number, reason: Error): void {
    const pending = this.pending.get(id)
    if (!pending) return
    this.pending.delete(id)
    this.abandon(id)
    pending.reject(reason)
  }

  /** Close the session; pending requests fail with `reason` (or a disconnected error). */
  close(reason?: Error): void {
    if (this.isClosed) return
    this.isClosed = true
    this.closeReason = reason
    if (this.probeTimer) clearInterval(this.probeTimer)
    for (const [, p] of this.pending) {
      if (p.timer) clearTimeout(p.timer)
      p.reject(new OvsdbDisconnectedError(p.method, reason))
    }
    this.pending.clear()
    this.socket.destroy()
    this.resolveClosed(reason)
  }

  private write(message: Record<string, Json>): void {
    if (this.isClosed) return
    this.socket.write(JSON.stringify(message))
  }

  private abandon(id: number): void {
    this.abandoned.add(id)
    if (this.abandoned.size > MAX_ABANDONED_IDS) this.abandoned.delete(this.abandoned.values().next().value!)
  }

  private checkInactivity(intervalMs: number): void {
    const idle = Date.now() - this.lastReceived
    if (this.probeSent && idle >= 2 * intervalMs) {
      this.close(new OvsdbTimeoutError('ovsdb-server inactivity probe', intervalMs, { idleMs: idle }))
    } else if (!this.probeSent && idle >= intervalMs) {
      this.probeSent = true
      // Our own echo; the reply (any message, in fact) proves the server alive.
      this.request('echo', ['dpu-appliance-probe']).catch(() => {})
    }
  }

  private receive(chunk: Buffer): void {
    this.lastReceived = Date.now()
    this.probeSent = false
    let messages: unknown[]
    try {
      messages = this.splitter.push(chunk)
    } catch (err) {
      this.close(err as Error)
      return
    }
    for (const message of messages) {
      if (this.isClosed) return
      try {
        this.dispatch(message)
      } catch (err) {
        this.close(err instanceof OvsdbProtocolError ? err : new OvsdbProtocolError(`failed to handle a message: ${(err as Error).message}`, {}, err))
        return
      }
    }
  }

  private dispatch(message: unknown): void {
    if (!isRecord(message)) {
      throw new OvsdbProtocolError('JSON-RPC message is not an object', { message: JSON.stringify(message)?.slice(0, 80) })
    }
    const m = message as Record<string, unknown>
    if (typeof m.method === 'string') {
      const params = m.params
      if (!Array.isArray(params)) throw new OvsdbProtocolError(`${m.method} without a params array`, { method: m.method })
      if (m.id !== undefined && m.id !== null) {
        // Requests from the server: only echo is defined for clients (RFC 7047 §4.1.11).
        if (m.method === 'echo') this.write({ result: params as Json[], error: null, id: m.id as Json })
        else this.write({ result: null, error: 'unknown method', id: m.id as Json })
        return
      }
      this.onNotification(m.method, params)
      return
    }
    if (!('id' in m) || !('result' in m || 'error' in m)) throw new OvsdbProtocolError('JSON-RPC message is neither request nor reply', { keys: Object.keys(m) })
    const id = m.id
    const pending = typeof id === 'number' ? this.pending.get(id) : undefined
    if (!pending) {
      if (typeof id === 'number' && this.abandoned.delete(id)) return
      throw new OvsdbProtocolError(`reply to unknown request id ${JSON.stringify(id)}`, { id })
    }
    this.pending.delete(id as number)
    if (pending.timer) clearTimeout(pending.timer)
    if (m.error !== null && m.error !== undefined) pending.reject(new OvsdbRpcError(pending.method, m.error))
    else pending.resolve(m.result)
  }
}
