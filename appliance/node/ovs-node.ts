/**
 * This DPU's Open vSwitch, as the appliance talks to it: one OVSDB client (monitor cache of Open_vSwitch,
 * Bridge, Port, Interface) and, per owned bridge, an OpenFlow connection to `<rundir>/<bridge>.mgmt` with a
 * flow programmer that keeps the bridge's flows equal to the desired table.
 *
 * Holds: the client (undefined until the first connect succeeds; connecting is retried in the background with
 * backoff, so an appliance started before OVS comes up serves its API and catches up), one OpenFlow connection
 * per owned bridge (opened once the bridge exists: its state is ovs-vswitchd's liveness for readiness, status and
 * the chains' conditions) and the programmers by bridge name (created on first use on that connection). All of
 * them are closed with the node.
 *
 * Logging is for an operator who may have no OVS at all: one line at the first failure naming what is missing
 * and what to do (`hint`), a reminder a minute, one line on connect (OutageLog); repeated OpenFlow and flow
 * batch failures at most once a minute per bridge and kind (LogLimiter).
 */
import { join } from 'node:path'
import { isApplianceError } from '../../api/errors.js'
import { LogLimiter } from '../../api/support/log-limit.js'
import { OutageLog } from '../../api/support/outage-log.js'
import type { Logger } from '../observe/index.js'
import { DEFAULT_TABLES, OvsdbClient, OvsdbTimeoutError, typedColumns, type RowChange, type SyncInfo } from '../ovs/ovsdb/index.js'
import { OpenFlowConnection } from '../ovs/openflow/index.js'
import { FlowProgrammer, type ApplyReport } from '../ovs/flows/index.js'

export interface OvsNodeOptions {
  /** `unix:PATH` or `tcp:HOST:PORT` */
  remote: string
  /** Directory holding `<bridge>.mgmt`. */
  rundir: string
  log: Logger
  /** Largest OVSDB message accepted (default: the client's, 64 MiB); a database outgrowing it is named in readiness. */
  maxMessageBytes?: number
  /** Wait before retrying after a too-large message (default: the client's, 5 min). */
  oversizeRetryMs?: number
  /** What the operator can do when the database is unavailable (the appliance names its flags). */
  unavailableHint?: string
}

/**
 * The monitor selects the typed columns only (rows.ts): every column the appliance reads or writes is typed there.
 * The rest (`statistics`, `lacp_current`, `bond_*`, `cfm_*`, ...) cost memory for each of the thousands of rows
 * (issue #13: the cache held 6.6 MiB with 2,001 ports, all columns) and an update notification each time
 * vswitchd refreshes `statistics`. A new read of an untyped column reads undefined: type the column first.
 */
const MONITORED = DEFAULT_TABLES.map((table) => ({ table, columns: typedColumns(table) }))

/** Why an attempt failed, short and without the address (each line carries `remote` once). */
function describeFailure(err: Error): string {
  const errno = isApplianceError(err) ? err.context.errno : undefined
  if (errno === 'ENOENT') return 'no such socket (ENOENT)'
  if (errno === 'ECONNREFUSED') return 'nothing listening (ECONNREFUSED)'
  if (errno === 'EACCES') return 'permission denied (EACCES)'
  if (typeof errno === 'string') return errno
  if (err instanceof OvsdbTimeoutError) return `no answer within ${String(err.context.timeoutMs)} ms`
  return err.message
}

export interface OvsNodeEvents {
  /** OVSDB rows changed (one batch per update message, after the cache applied it). */
  change: (changes: RowChange[]) => void
  /** The OVSDB client connected or resynced: every reconciler should run. */
  resync: () => void
  /** The OpenFlow connection of `bridge` (re)connected: its flows must be (re)installed. */
  'openflow-connected': (bridge: string, generation: number) => void
  /** The OpenFlow connection of `bridge` was lost (ovs-vswitchd gone, bridge deleted, protocols changed). */
  'openflow-disconnected': (bridge: string, reason: Error) => void
  /** A flow batch on `bridge` was confirmed by its barrier (metrics). */
  'flows-applied': (bridge: string, report: ApplyReport) => void
  /** Flows on `bridge` were restored after an OpenFlow reconnect: `ms` from connection to barrier reply. */
  'flows-restored': (bridge: string, restored: { flows: number; ms: number }) => void
}

export class OvsNode {
  private client: OvsdbClient | undefined
  private readonly connections = new Map<string, OpenFlowConnection>()
  private readonly programmers = new Map<string, FlowProgrammer>()
  private readonly listeners: { [E in keyof OvsNodeEvents]: Set<OvsNodeEvents[E]> } = {
    change: new Set(),
    resync: new Set(),
    'openflow-connected': new Set(),
    'openflow-disconnected': new Set(),
    'flows-applied': new Set(),
    'flows-restored': new Set(),
  }
  private closed = false
  /** The client from `start()` on; `client` is set to it at its first sync. */
  private opened: OvsdbClient | undefined
  private lastError: string | undefined
  private readonly outage: OutageLog
  private readonly logLimit = new LogLimiter()

  constructor(private readonly options: OvsNodeOptions) {
    this.outage = new OutageLog({
      logger: options.log,
      what: 'Open vSwitch database',
      fields: { remote: options.remote },
      ...(options.unavailableHint ? { hint: options.unavailableHint } : {}),
    })
  }

  /** Start connecting; returns at once (the first connection may complete later). */
  start(): this {
    if (this.opened || this.closed) return this
    const client = OvsdbClient.open({
      remote: this.options.remote,
      tables: MONITORED,
      logger: this.options.log,
      connectTimeoutMs: 5000,
      ...(this.options.maxMessageBytes !== undefined ? { maxMessageBytes: this.options.maxMessageBytes } : {}),
      ...(this.options.oversizeRetryMs !== undefined ? { oversizeRetryMs: this.options.oversizeRetryMs } : {}),
    })
    this.opened = client
    client.on('error', (err) => {
      if (client.state === 'closed') return
      this.lastError = describeFailure(err)
      this.outage.failed(this.lastError)
    })
    client.on('disconnected', (reason) => {
      if (client.state !== 'closed') this.outage.lost(reason ? describeFailure(reason) : undefined)
    })
    // Changes and resyncs count from the first sync on (its rows are the starting point, announced by one resync).
    client.onChange((changes) => this.client && this.emit('change', changes))
    client.on('resynced', () => this.client && this.emit('resync'))
    client.on('connected', (info) => this.onConnected(client, info))
    return this
  }

  get ovsdb(): OvsdbClient | undefined {
    return this.client?.state === 'closed' ? undefined : this.client
  }

  get connected(): boolean {
    return this.client?.state === 'connected'
  }

  on<E extends keyof OvsNodeEvents>(event: E, listener: OvsNodeEvents[E]): () => void {
    this.listeners[event].add(listener)
    return () => this.listeners[event].delete(listener)
  }

  private emit<E extends keyof OvsNodeEvents>(event: E, ...args: Parameters<OvsNodeEvents[E]>): void {
    for (const l of this.listeners[event]) (l as (...a: Parameters<OvsNodeEvents[E]>) => void)(...args)
  }

  private onConnected(client: OvsdbClient, info: SyncInfo): void {
    this.lastError = undefined
    this.outage.connected({ method: info.method, resumed: info.resumed })
    this.client = client
    this.emit('resync')
  }

  /**
   * The OpenFlow connection to `bridge`, opened on first use and kept up (reconnecting) until `close()`. The
   * appliance opens one per owned bridge once it exists, so a dead ovs-vswitchd shows at once, not at the next write.
   */
  connection(bridge: string): OpenFlowConnection {
    const existing = this.connections.get(bridge)
    if (existing) return existing
    const conn = new OpenFlowConnection({ socketPath: join(this.options.rundir, `${bridge}.mgmt`) })
    conn.on('protocol-error', (err) => this.warn(bridge, 'protocol', err, 'OpenFlow protocol error; reconnecting'))
    conn.on('connect-failed', ({ phase, error }) => {
      // No socket yet is routine (vswitchd creates <bridge>.mgmt just after the bridge): debug. A switch that
      // accepts the socket and then fails the handshake is not.
      if (phase === 'handshake') this.warn(bridge, 'handshake', error, 'OpenFlow handshake failed; reconnecting')
      else this.logLimit.log(this.options.log, 'debug', `${bridge}\0socket`, { bridge, err: error.message }, 'OpenFlow socket not reachable; retrying')
    })
    conn.on('connected', () => this.logLimit.reset(`${bridge}\0`))
    conn.on('disconnected', ({ reason }) => this.emit('openflow-disconnected', bridge, reason))
    conn.start()
    this.connections.set(bridge, conn)
    return conn
  }

  /** Repeated OpenFlow and flow batch failures: at most once a minute per bridge, kind and error code. */
  private warn(bridge: string, kind: string, err: Error, msg: string): void {
    const code = isApplianceError(err) ? err.code : err.name
    this.logLimit.log(this.options.log, 'warn', `${bridge}\0${kind}\0${code}`, { bridge, err: err.message }, msg)
  }

  /** The flow programmer of `bridge` (which owns every flow on it), created on first use on its connection. */
  programmer(bridge: string): FlowProgrammer {
    const existing = this.programmers.get(bridge)
    if (existing) return existing
    const conn = this.connection(bridge)
    // adoptInstalled: an appliance restarted over an unchanged switch reads the flows and sends zero flow mods.
    const programmer = new FlowProgrammer({ conn, ownership: 'bridge', adoptInstalled: true })
    programmer.on('needs-desired', (ev) => this.emit('openflow-connected', bridge, ev.generation))
    programmer.on('failed', ({ error }) => this.warn(bridge, 'batch', error as Error, 'flow batch failed'))
    programmer.on('restored', (r) => {
      this.options.log.info({ bridge, ...r }, 'flows restored after OpenFlow reconnect')
      this.emit('flows-restored', bridge, r)
    })
    programmer.on('applied', (r) => this.emit('flows-applied', bridge, r))
    this.programmers.set(bridge, programmer)
    return programmer
  }

  /** The OpenFlow connection of `bridge`, if one is open (stats reads share it). */
  openflow(bridge: string): OpenFlowConnection | undefined {
    return this.connections.get(bridge)
  }

  hasProgrammer(bridge: string): boolean {
    return this.programmers.has(bridge)
  }

  bridgesWithProgrammers(): string[] {
    return [...this.programmers.keys()].sort()
  }

  /** Every bridge with an open OpenFlow connection, and whether it is up (and why not). */
  openflowState(): Array<{ bridge: string; connected: boolean; error?: string }> {
    return [...this.connections].sort(([a], [b]) => a.localeCompare(b)).map(([bridge, conn]) => ({ bridge, connected: conn.connected, ...(conn.failure ? { error: conn.failure.message } : {}) }))
  }

  /** For `/readyz`: the OVSDB connection. */
  readiness(): { name: string; ok: boolean; message?: string } {
    if (this.connected) return { name: 'ovsdb', ok: true }
    return { name: 'ovsdb', ok: false, message: `not connected to ${this.options.remote}${this.lastError ? `: ${this.lastError}` : ''}` }
  }

  /** For `/readyz`: the OpenFlow connection of every owned bridge (ovs-vswitchd itself). */
  openflowReadiness(): { name: string; ok: boolean; message?: string } {
    const down = this.openflowState().filter((s) => !s.connected)
    if (down.length === 0) return { name: 'openflow', ok: true }
    return { name: 'openflow', ok: false, message: `no OpenFlow connection to ${down.map((d) => `${d.bridge}${d.error ? ` (${d.error})` : ''}`).join(', ')}` }
  }

  async close(): Promise<void> {
    this.closed = true
    for (const programmer of this.programmers.values()) programmer.close()
    for (const conn of this.connections.values()) await conn.close()
    this.programmers.clear()
    this.connections.clear()
    this.opened?.close()
  }
}
