/**
 * The OVSDB client: one connection to one database with one monitor feeding `cache`, transactions, and
 * reconnection.
 *
 *   connecting --socket+get_schema+monitor--> connected --socket lost / protocol error--> disconnected
 *        ^                                                                                     |
 *        +---------------------------- full-jitter backoff ------------------------------------+
 *   close() from any state --> closed
 *
 * On every (re)connect the monitor is `monitor_cond_since` with the last transaction id seen (falling back to
 * `monitor_cond`, then `monitor`, on "unknown method"). found=true: the reply is a delta applied to the cache.
 * Otherwise a full resync: a fresh cache is built from the reply and diffed against the held one, so rows deleted
 * while disconnected produce delete events. Changes are emitted per update message, after it is fully applied.
 *
 * Logging: the client reports through events (`error` per failed session, `connected`, `disconnected`) and its
 * owner tells the operator about reachability (the appliance: appliance/node/ovs-node.ts). Its own lines are
 * debug for the expected ones (socket missing or refused, timeouts, a lost connection) and warn for the others
 * (protocol, schema), each kind at most once a minute, never with a stack for our own typed errors.
 */
import { createConnection, type Socket } from 'node:net'
import { isApplianceError } from '../../../api/errors.js'
import { backoffDelay, type BackoffOptions } from '../../../api/support/backoff.js'
import { LogLimiter } from '../../../api/support/log-limit.js'
import { TableCache, CacheInconsistentError, type RowChange } from './cache.js'
import {
  OvsdbClosedError,
  OvsdbDisconnectedError,
  OvsdbNotConnectedError,
  OvsdbProtocolError,
  OvsdbRpcError,
  OvsdbTimeoutError,
  OvsdbTransactTimeoutError,
  OvsdbMessageTooLargeError,
  OvsdbSchemaError,
} from './errors.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from './framing.js'
import { ZERO_UUID, type Json } from './notation.js'
import { RpcSession } from './rpc.js'
import { checkTypedColumns, DEFAULT_TABLES } from './rows.js'
import { parseDatabaseSchema, type DatabaseSchema } from './schema.js'
import { TransactionBuilder, TransactionResult, checkOperationResults, isRetrySafe, type Operation, type OperationResult } from './txn.js'

const TIMED_OUT = Symbol('timed out')

/** `promise`, or TIMED_OUT after `ms`; the promise keeps running either way. */
async function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

/** pino-compatible subset. */
export interface OvsdbLogger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export type MonitorMethod = 'monitor_cond_since' | 'monitor_cond' | 'monitor'
export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed'

export interface TableSelection {
  table: string
  /** Columns to monitor (default: all). Typed tables need at least their typed columns. */
  columns?: string[]
}

export interface OvsdbClientOptions {
  /** `unix:PATH` or `tcp:HOST:PORT` (`tcp:[::1]:6640` for IPv6). */
  remote: string
  database?: string
  /** Tables to monitor into the cache (default Open_vSwitch, Bridge, Port, Interface). */
  tables?: readonly (string | TableSelection)[]
  logger?: OvsdbLogger
  /** Largest incoming message; a bigger one is a protocol error and a reconnect (default 64 MiB). */
  maxMessageBytes?: number
  /** Inactivity probe (our echo) after this much silence; disconnect after twice as much (default 5000, 0 = off). */
  probeIntervalMs?: number
  /** Default timeout of a transact (default 30 s). */
  requestTimeoutMs?: number
  /** How long `OvsdbClient.connect` waits for the first sync (default 10 s). */
  connectTimeoutMs?: number
  /** Full-jitter reconnect backoff: a random delay in [0, min(maxMs, initialMs * 2^attempt)). */
  backoff?: Partial<BackoffOptions>
  /**
   * After a message larger than `maxMessageBytes` (the database outgrew it: every resync would download it again
   * and fail the same way), wait this long before the next attempt instead of the backoff (default 5 min);
   * `reconnectNow()` cuts the wait short, e.g. after the limit was raised.
   */
  oversizeRetryMs?: number
  /** Start the fallback chain here (e.g. `monitor_cond` for `_Server`, which has no cond_since). */
  monitorMethod?: MonitorMethod
}

/** What the last (re)sync did: which method, whether the server resumed from our txn id, and how much it sent. */
export interface SyncInfo {
  method: MonitorMethod
  /** monitor_cond_since found our last txn id: the reply was a delta. */
  resumed: boolean
  /** Rows carried by the monitor reply. */
  replyRows: number
  /** Changes emitted for this sync. */
  changes: number
}

export interface ClientEvents {
  connected: (info: SyncInfo) => void
  /** The cache was brought up to date after a (re)connect; `changes` were emitted just before. */
  resynced: (info: SyncInfo) => void
  disconnected: (reason: Error | undefined) => void
  /** A session ended with this error (protocol violation, timeout...); a reconnect follows unless closed. */
  error: (err: Error) => void
}

type Listener = (...args: never[]) => void

const MONITOR_CHAIN: readonly MonitorMethod[] = ['monitor_cond_since', 'monitor_cond', 'monitor']

function isUnknownMethod(err: unknown): boolean {
  if (!(err instanceof OvsdbRpcError)) return false
  const e = err.rpcError
  return e === 'unknown method' || (typeof e === 'object' && e !== null && (e as { error?: unknown }).error === 'unknown method')
}

function countRows(updates: unknown): number {
  if (typeof updates !== 'object' || updates === null) return 0
  let n = 0
  for (const rows of Object.values(updates)) if (rows && typeof rows === 'object') n += Object.keys(rows).length
  return n
}

/** Open a socket to `unix:PATH` or `tcp:HOST:PORT`. */
export function openRemote(remote: string, timeoutMs: number): Promise<Socket> {
  let options: { path: string } | { host: string; port: number }
  if (remote.startsWith('unix:')) options = { path: remote.slice(5) }
  else {
    const m = /^tcp:(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(remote)
    if (!m) return Promise.reject(new OvsdbNotConnectedError(`unsupported OVSDB remote ${remote} (use unix:PATH or tcp:HOST:PORT)`, { remote }))
    options = { host: (m[1] ?? m[2])!, port: Number(m[3]) }
  }
  return new Promise((resolve, reject) => {
    const socket = createConnection(options)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new OvsdbTimeoutError(`connect to ${remote}`, timeoutMs, { remote }))
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.setNoDelay?.(true)
      resolve(socket)
    })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      socket.destroy()
      // The code, not node's message: that one repeats the socket path (`connect ENOENT /var/run/...`).
      const errno = err.code ?? err.message
      reject(new OvsdbNotConnectedError(`cannot connect to ${remote}: ${errno}`, { remote, errno }, err))
    })
  })
}

export class OvsdbClient {
  readonly database: string
  private readonly selections: TableSelection[]
  private readonly log: OvsdbLogger | undefined
  private readonly logLimit = new LogLimiter()
  private readonly listeners = new Map<keyof ClientEvents, Set<Listener>>()
  private readonly changeListeners = new Set<(changes: RowChange[]) => void>()
  private _cache: TableCache | undefined
  private _state: ConnectionState = 'connecting'
  private rpc: RpcSession | undefined
  private lastTxnId: string | undefined
  private monitorIndex = 0
  private attempt = 0
  private wake: (() => void) | undefined
  private _lastSync: SyncInfo | undefined
  private preferredMonitor: number
  private currentMonitorId: string | undefined
  private _failure: Error | undefined

  private constructor(private readonly options: OvsdbClientOptions) {
    this.database = options.database ?? 'Open_vSwitch'
    this.selections = (options.tables ?? DEFAULT_TABLES).map((t) => (typeof t === 'string' ? { table: t } : t))
    this.log = options.logger
    this.preferredMonitor = Math.max(0, MONITOR_CHAIN.indexOf(options.monitorMethod ?? 'monitor_cond_since'))
  }

  /**
   * Start connecting and return at once: the client retries with backoff until `close()`, emitting `error` for
   * each failed attempt and `connected` on each sync. `cache` throws until the first `connected`.
   * @example const ovs = OvsdbClient.open({ remote }); ovs.on('connected', () => use(ovs.cache))
   */
  static open(options: OvsdbClientOptions): OvsdbClient {
    const client = new OvsdbClient(options)
    void client.run()
    return client
  }

  /**
   * Connect, read the schema, monitor the tables and resolve once the cache holds the database. Afterwards the
   * client reconnects by itself until `close()`.
   * @example const ovs = await OvsdbClient.connect({ remote: 'unix:/var/run/openvswitch/db.sock' })
   */
  static async connect(options: OvsdbClientOptions): Promise<OvsdbClient> {
    // run() reaches its first event only after awaiting the socket, so the listeners below see every one.
    const client = OvsdbClient.open(options)
    const timeoutMs = options.connectTimeoutMs ?? 10_000
    let lastError: Error | undefined
    const ready = new Promise<void>((resolve, reject) => {
      const offConnected = client.on('connected', () => {
        offConnected()
        offError()
        resolve()
      })
      const offError = client.on('error', (err) => {
        lastError = err
        // Bad configuration (no such table, schema too old, a limit below the database's size) will not fix
        // itself: fail now.
        if (err instanceof OvsdbSchemaError || err instanceof OvsdbMessageTooLargeError || (err instanceof OvsdbRpcError && !isUnknownMethod(err))) {
          offConnected()
          offError()
          reject(err)
        }
      })
    })
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        ready,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new OvsdbTimeoutError(`first sync with ${options.remote}`, timeoutMs, { remote: options.remote, lastError: lastError?.message })), timeoutMs)
        }),
      ])
    } catch (err) {
      client.close()
      throw err
    } finally {
      clearTimeout(timer)
    }
    return client
  }

  /** The monitor cache (rows by table and uuid, name indexes). */
  get cache(): TableCache {
    if (!this._cache) throw new OvsdbNotConnectedError('the cache is not built before the first sync')
    return this._cache
  }

  get schema(): DatabaseSchema {
    return this.cache.schema
  }

  get state(): ConnectionState {
    return this._state
  }

  private get isClosed(): boolean {
    return this._state === 'closed'
  }

  /** Why the last session ended or failed; cleared by the next sync. */
  get failure(): Error | undefined {
    return this._failure
  }

  /** Cut a reconnect wait short (after an oversize failure, the wait is minutes). No effect while connected. */
  reconnectNow(): void {
    this.attempt = 0
    this.wake?.()
  }

  get lastSync(): SyncInfo | undefined {
    return this._lastSync
  }

  /** The id of the current session's monitor (for logs and debugging). */
  get monitorId(): string | undefined {
    return this.currentMonitorId
  }

  /** The last transaction id seen (clustered databases; the zero uuid on standalone ones). */
  get lastTransactionId(): string | undefined {
    return this.lastTxnId
  }

  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener as Listener)
    return () => set.delete(listener as Listener)
  }

  /**
   * Called with all changes of one update message (or of one resync) after they are applied, so `cache` is a
   * consistent snapshot inside the callback. Returns an unsubscribe function.
   */
  onChange(listener: (changes: RowChange[]) => void): () => void {
    this.changeListeners.add(listener)
    return () => this.changeListeners.delete(listener)
  }

  /** A transaction builder that encodes values through the server's schema. */
  txn(): TransactionBuilder {
    return new TransactionBuilder(this.cache.schema)
  }

  /**
   * Run one transaction. Resolves when every op succeeded (the monitor has already applied the resulting update:
   * ovsdb-server sends it before the reply); otherwise rejects with the typed error of the first failed op.
   *
   * On timeout the transact is cancelled (RFC 7047 §4.1.4) and its reply still awaited for `cancelGraceMs`: a
   * "canceled" answer means nothing was committed (a retryable `OvsdbTransactTimeoutError`); a late result is
   * the outcome (returned or thrown as usual); no answer leaves the outcome unknown, and then the error, like a
   * connection lost mid-transact, is retryable only when `isRetrySafe(ops)`.
   */
  async transact(ops: TransactionBuilder | readonly Operation[], options: { timeoutMs?: number; cancelGraceMs?: number } = {}): Promise<TransactionResult> {
    const list = ops instanceof TransactionBuilder ? ops.ops : ops
    const nextCfgIndex = ops instanceof TransactionBuilder ? ops.nextCfgIndex : undefined
    const rpc = this.rpc
    if (this._state === 'closed') throw new OvsdbClosedError()
    if (!rpc || !rpc.isOpen || this._state !== 'connected') throw new OvsdbNotConnectedError(`not connected to ${this.options.remote} (state ${this._state})`)
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs ?? 30_000
    const retrySafe = isRetrySafe(list)
    const call = rpc.start('transact', [this.database, ...(list as unknown as Json[])])
    let reply: unknown
    try {
      reply = await raceTimeout(call.reply, timeoutMs)
      if (reply === TIMED_OUT) {
        rpc.cancel(call.id)
        reply = await raceTimeout(call.reply, options.cancelGraceMs ?? Math.min(timeoutMs, 5000))
        if (reply === TIMED_OUT) {
          const err = new OvsdbTransactTimeoutError(timeoutMs, undefined, { retryable: retrySafe, ops: list.length })
          rpc.forget(call.id, err)
          throw err
        }
      }
    } catch (err) {
      if (err instanceof OvsdbRpcError && err.rpcError === 'canceled') {
        // "canceled" proves nothing was applied on a standalone database (the transaction was still waiting); a
        // clustered one may have a commit in flight that "still might complete asynchronously" (ovsdb/trigger.c).
        const standalone = this.lastTxnId === ZERO_UUID
        throw new OvsdbTransactTimeoutError(timeoutMs, standalone ? false : undefined, { retryable: standalone || retrySafe, ops: list.length })
      }
      if (err instanceof OvsdbDisconnectedError && !retrySafe) throw new OvsdbDisconnectedError('transact', err.cause, { retryable: false })
      throw err
    }
    if (!Array.isArray(reply)) throw new OvsdbProtocolError('transact result is not an array', { reply: JSON.stringify(reply)?.slice(0, 200) })
    const results = reply as OperationResult[]
    const errors = checkOperationResults(results, list, (uuid) => this.findRow(uuid))
    if (errors.length > 0) throw errors[0]!
    return new TransactionResult(results, list, nextCfgIndex)
  }

  /** The cached row with this uuid in any monitored table. */
  private findRow(uuid: string): { table: string; row: Readonly<Record<string, unknown>> } | undefined {
    const cache = this._cache
    if (!cache) return undefined
    for (const table of cache.tableNames) {
      const row = cache.get(table, uuid)
      if (row) return { table, row }
    }
    return undefined
  }

  /** Send a raw RPC (list_dbs, get_schema, echo...) on the current session. */
  async request(method: string, params: Json[], options: { timeoutMs?: number } = {}): Promise<unknown> {
    const rpc = this.rpc
    if (this._state === 'closed') throw new OvsdbClosedError()
    if (!rpc || !rpc.isOpen) throw new OvsdbNotConnectedError()
    return rpc.request(method, params, { timeoutMs: options.timeoutMs ?? this.options.requestTimeoutMs ?? 30_000 })
  }

  /** `list_dbs` (RFC 7047 §4.1.1). */
  async listDatabases(): Promise<string[]> {
    const reply = await this.request('list_dbs', [])
    if (!Array.isArray(reply) || !reply.every((d) => typeof d === 'string')) throw new OvsdbProtocolError('list_dbs result is not an array of names')
    return reply
  }

  /** `echo` (RFC 7047 §4.1.11): resolves with the same params, proving the server answers. */
  async echo(...params: Json[]): Promise<unknown> {
    return this.request('echo', params)
  }

  /**
   * `monitor_cancel` (RFC 7047 §4.1.7) for the current monitor: the cache stops following the database until
   * the next reconnect monitors again. For shutdown paths and tests; the appliance keeps its monitor.
   */
  async cancelMonitor(): Promise<void> {
    const id = this.currentMonitorId
    if (id === undefined) return
    await this.request('monitor_cancel', [id])
    if (this.currentMonitorId === id) this.currentMonitorId = undefined
  }

  /** Resolve once ovs-vswitchd reports `cur_cfg >= nextCfg` (it applied the configuration of that transaction). */
  waitForCurCfg(nextCfg: number, options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000
    const reached = (): boolean => (this._cache?.openVSwitch()?.cur_cfg ?? -1) >= nextCfg
    if (reached()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        off()
        offResync()
        clearTimeout(timer)
        if (err) reject(err)
        else resolve()
      }
      const off = this.onChange(() => reached() && done())
      const offResync = this.on('resynced', () => reached() && done())
      const timer = setTimeout(() => {
        const cur = this._cache?.openVSwitch()?.cur_cfg
        done(new OvsdbTimeoutError(`ovs-vswitchd applying next_cfg ${nextCfg} (cur_cfg is ${cur})`, timeoutMs, { nextCfg, curCfg: cur }))
      }, timeoutMs)
    })
  }

  /** Stop for good: no reconnect; pending requests fail. */
  close(): void {
    if (this._state === 'closed') return
    this._state = 'closed'
    this.rpc?.close(new OvsdbClosedError())
    this.wake?.()
  }

  private emit<E extends keyof ClientEvents>(event: E, ...args: Parameters<ClientEvents[E]>): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        ;(listener as unknown as (...a: Parameters<ClientEvents[E]>) => void)(...args)
      } catch (err) {
        if (this.log) this.logLimit.log(this.log, 'error', `listener:${event}`, { err, event }, 'ovsdb client listener threw')
      }
    }
  }

  private emitChanges(changes: RowChange[]): void {
    if (changes.length === 0) return
    for (const listener of this.changeListeners) {
      try {
        listener(changes)
      } catch (err) {
        if (this.log) this.logLimit.log(this.log, 'error', 'listener:change', { err }, 'ovsdb change listener threw')
      }
    }
  }

  private async run(): Promise<void> {
    while (this._state !== 'closed') {
      const wasConnected = this._state === 'connected'
      let reason: Error | undefined
      try {
        reason = await this.session()
      } catch (err) {
        reason = err as Error
      }
      this.rpc = undefined
      if (this.isClosed) break
      if (reason) {
        this.logSessionEnd(reason)
        this.emit('error', reason)
      }
      if (this._state === 'connected' || wasConnected) this.emit('disconnected', reason)
      this._state = 'disconnected'
      if (reason instanceof CacheInconsistentError) this.lastTxnId = undefined
      this._failure = reason
      // Retrying at once would download the same too-large database again (and again): wait long.
      await this.sleep(reason instanceof OvsdbMessageTooLargeError ? (this.options.oversizeRetryMs ?? 300_000) : this.backoffDelay())
    }
    this.emit('disconnected', undefined)
  }

  private logSessionEnd(reason: Error): void {
    if (!this.log) return
    const expected = reason instanceof OvsdbNotConnectedError || reason instanceof OvsdbDisconnectedError || reason instanceof OvsdbTimeoutError
    const remote = this.options.remote
    // Our typed errors say what happened in message and code; a stack is for what nobody anticipated (a bug).
    // The address goes on the line once: connect errors already name it.
    const fields = {
      ...(isApplianceError(reason) ? { error: reason.message, code: reason.code } : { err: reason }),
      ...(reason.message.includes(remote) ? {} : { remote }),
    }
    this.logLimit.log(this.log, expected ? 'debug' : 'warn', `session-end:${reason.constructor.name}`, fields, 'ovsdb session ended')
  }

  private backoffDelay(): number {
    return backoffDelay(this.attempt++, { initialMs: this.options.backoff?.initialMs ?? 100, maxMs: this.options.backoff?.maxMs ?? 5000 })
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined
        resolve()
      }, ms)
      this.wake = () => {
        clearTimeout(timer)
        this.wake = undefined
        resolve()
      }
    })
  }

  /** One connection from socket open to close; resolves with the reason it ended. */
  private async session(): Promise<Error | undefined> {
    if (this._state !== 'connected') this._state = 'connecting'
    const socket = await openRemote(this.options.remote, this.options.connectTimeoutMs ?? 10_000)
    const rpc = new RpcSession(socket, {
      maxMessageBytes: this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      probeIntervalMs: this.options.probeIntervalMs ?? 5000,
    })
    if (this.isClosed) {
      rpc.close()
      return undefined
    }
    this.rpc = rpc
    // Updates that arrive before the monitor reply are held and applied after it (libovsdb's deferUpdates).
    const deferred: [string, unknown[]][] = []
    let monitorId: string | undefined
    let live = false
    rpc.onNotification = (method, params) => {
      if (!live) {
        deferred.push([method, params])
        return
      }
      if (this.currentMonitorId === monitorId) this.handleNotification(rpc, monitorId!, method, params)
    }
    try {
      const schema = parseDatabaseSchema(await rpc.request('get_schema', [this.database], { timeoutMs: 30_000 }))
      for (const { table } of this.selections) {
        if (!schema.tables.has(table)) throw new OvsdbSchemaError(`database ${this.database} has no table ${table}`, { context: { table } })
      }
      const columnsOf = (table: string): readonly string[] | undefined => this.selections.find((s) => s.table === table)?.columns
      checkTypedColumns(
        schema,
        this.selections.map((s) => s.table),
        columnsOf,
      )
      // Without it, OVS 3.x drops a cancelled transact without any reply (RFC 7047 §4.1.4 says it answers
      // "canceled"), so a timed-out transaction's outcome could never be known. Servers before 2.9 do not know
      // the method: then cancels go unanswered and the outcome stays unknown.
      await rpc.request('set_db_change_aware', [true], { timeoutMs: 30_000 }).catch((err: unknown) => {
        if (!(err instanceof OvsdbRpcError)) throw err
      })
      const cache =
        this._cache ??
        new TableCache(
          schema,
          this.selections.map((s) => s.table),
          columnsOf,
        )
      const info = await this.monitor(rpc, schema, cache, (id) => (monitorId = this.currentMonitorId = id))
      this._cache = cache
      live = true
      this.attempt = 0
      this._failure = undefined
      this._state = 'connected'
      this._lastSync = info
      // debug: the owner says "connected" once (with this info from the event); this line is for tracing.
      this.log?.debug({ remote: this.options.remote, ...info }, 'ovsdb monitor synced')
      this.logLimit.reset('session-end:')
      this.emit('resynced', info)
      this.emit('connected', info)
      for (const [method, params] of deferred.splice(0)) this.handleNotification(rpc, monitorId!, method, params)
    } catch (err) {
      rpc.close(err as Error)
      const closedBy = await rpc.closed
      // The monitor request fails as "connection lost"; the reason worth reporting is what closed it.
      throw closedBy instanceof OvsdbMessageTooLargeError ? closedBy : err
    }
    return rpc.closed
  }

  private async monitor(rpc: RpcSession, schema: DatabaseSchema, cache: TableCache, setId: (id: string) => void): Promise<SyncInfo> {
    for (let i = this.preferredMonitor; i < MONITOR_CHAIN.length; i++) {
      const method = MONITOR_CHAIN[i]!
      const id = `${this.database}:${++this.monitorIndex}`
      setId(id)
      const requests: Record<string, Json> = {}
      for (const { table, columns } of this.selections) {
        const request: Record<string, Json> = columns ? { columns } : {}
        requests[table] = method === 'monitor' ? request : [request]
      }
      const params: Json[] = [this.database, id, requests]
      const since = this.lastTxnId && this.lastTxnId !== ZERO_UUID ? this.lastTxnId : ZERO_UUID
      if (method === 'monitor_cond_since') params.push(since)
      let reply: unknown
      try {
        reply = await rpc.request(method, params, { timeoutMs: 60_000 })
      } catch (err) {
        if (isUnknownMethod(err)) {
          this.log?.info({ method }, 'ovsdb-server does not know this monitor method; falling back')
          this.preferredMonitor = i + 1
          continue
        }
        throw err
      }
      let updates: unknown
      let resumed = false
      if (method === 'monitor_cond_since') {
        if (!Array.isArray(reply) || reply.length !== 3 || typeof reply[0] !== 'boolean' || typeof reply[1] !== 'string') {
          throw new OvsdbProtocolError('malformed monitor_cond_since reply', { reply: JSON.stringify(reply)?.slice(0, 200) })
        }
        resumed = reply[0] && since !== ZERO_UUID && this._cache !== undefined
        this.lastTxnId = reply[1]
        updates = reply[2]
      } else {
        updates = reply
        this.lastTxnId = undefined
      }
      const replyRows = countRows(updates)
      let changes: RowChange[]
      if (resumed) {
        changes = method === 'monitor' ? cache.applyTableUpdates(updates) : cache.applyTableUpdates2(updates)
      } else {
        const fresh = new TableCache(schema, cache.tableNames, (t) => this.selections.find((s) => s.table === t)?.columns)
        if (method === 'monitor') fresh.applyTableUpdates(updates)
        else fresh.applyTableUpdates2(updates)
        changes = cache.replaceWith(fresh)
      }
      this._cache = cache
      this.emitChanges(changes)
      return { method, resumed, replyRows, changes: changes.length }
    }
    throw new OvsdbProtocolError('ovsdb-server supports none of monitor_cond_since, monitor_cond, monitor')
  }

  private handleNotification(rpc: RpcSession, monitorId: string, method: string, params: unknown[]): void {
    const cache = this._cache
    if (!cache) return
    try {
      let changes: RowChange[] = []
      if (method === 'update3') {
        if (params[0] !== monitorId) return
        if (typeof params[1] === 'string') this.lastTxnId = params[1]
        changes = cache.applyTableUpdates2(params[2])
      } else if (method === 'update2') {
        if (params[0] !== monitorId) return
        changes = cache.applyTableUpdates2(params[1])
      } else if (method === 'update') {
        if (params[0] !== monitorId) return
        changes = cache.applyTableUpdates(params[1])
      } else if (method === 'monitor_canceled') {
        // Being db-change-aware, the server keeps the session when the database is removed or converted and
        // cancels the monitor instead: start over to follow the new database.
        if (params[0] !== monitorId) return
        this.lastTxnId = undefined
        rpc.close(new OvsdbProtocolError('ovsdb-server cancelled the monitor (database removed or converted); resyncing'))
        return
      } else {
        this.log?.debug({ method }, 'ignoring ovsdb notification')
        return
      }
      this.emitChanges(changes)
    } catch (err) {
      // The cache cannot follow: drop the session and resync from scratch.
      this.lastTxnId = undefined
      rpc.close(err instanceof OvsdbProtocolError ? err : new OvsdbProtocolError(`cannot apply ${method}: ${(err as Error).message}`, {}, err))
    }
  }
}
