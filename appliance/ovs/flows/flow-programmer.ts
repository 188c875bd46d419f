/**
 * Keeps one bridge's flows equal to a desired table (ovn-controller `ofctrl` in miniature).
 *
 * Holds two tables:
 *   desired    set by the owner: whole (`setDesired`) or by changes (`patchDesired`, which marks only the touched
 *              keys, so a 1% change of 100k flows diffs 1k keys, like ofctrl's tracked flows). Each call is a
 *              generation (`desiredGen`).
 *   installed  what we know the switch holds. Changed only after the barrier that follows a committed bundle,
 *              so "sent" and "installed" never mix. Unknown after a (re)connect until the next full sync.
 *
 * One batch is in flight at a time; `setDesired` while busy just replaces desired and the loop runs again
 * (coalescing). A batch is the diff (DELETE_STRICT, MODIFY_STRICT, ADD) in one ORDERED|ATOMIC bundle, or, the
 * first time and after every reconnect, a full sync: delete-by-cookie-mask of everything we own (delete-all for a
 * bridge we own whole) plus every desired flow *in the same bundle*, so the table is never empty in between.
 * After a reconnect we wait for the owner to hand us the desired set (`onReconnect` or `setDesired`/`resync`)
 * before touching the switch: "so that we won't end up with an empty flow table" (ofctrl.c).
 */
import { EventEmitter } from 'node:events'
import { isRetryable } from '../../../api/errors.js'
import { OpenFlowUnavailableError, commitFlowMods, readFlowStats, type CommitOptions, type ConnectedEvent, type FlowModSpans, type OpenFlowConnection } from '../openflow/index.js'
import { buildFlowMods, buildFullSync, diffFlows, isEmptyDiff, type FlowDiff } from './flow-diff.js'
import { KEY_VERSION, buildFlowTable, deleteByCookie, flowEntryFromWire, flowFromStats, flowKey, toFlowEntry, type Flow, type FlowEntry, type FlowKey, type FlowTable } from './flow.js'
import { renderFlow } from './render.js'
import { OpenFlowEncodeError } from '../openflow/errors.js'
import { FlowsInvalidError } from './errors.js'

/** The caller's flows cannot be encoded or break the model: their own call fails, nothing else. */
const isInputError = (e: unknown): boolean => e instanceof OpenFlowEncodeError || e instanceof FlowsInvalidError

/** Which flows on the bridge are ours: a cookie space, or all of them. */
export type FlowOwnership = { cookie: bigint; cookieMask: bigint } | 'bridge'

export interface FlowProgrammerOptions {
  conn: OpenFlowConnection
  ownership: FlowOwnership
  /**
   * Called on every (re)connect for the full desired set; the programmer installs it with a full sync. Without
   * it the programmer emits `needs-desired` and waits for `setDesired` or `resync()`.
   */
  onReconnect?: (ev: ConnectedEvent) => Iterable<Flow> | Promise<Iterable<Flow>>
  bundleTimeoutMs?: number
  /**
   * On (re)connect, read what the switch holds in our cookie space and send only the difference, instead of the
   * delete-all + re-add full sync. An appliance restarted over an unchanged switch then sends zero flow mods; a
   * restarted vswitchd (empty table) still gets everything, in one bundle. The diff is as atomic as the full sync.
   */
  adoptInstalled?: boolean
}

export interface ApplyReport {
  generation: number
  full: boolean
  added: number
  modified: number
  removed: number
  ms: number
}

export interface DriftReport {
  /** Installed by us but absent from the switch. */
  missing: FlowEntry[]
  /** On the switch in our cookie space but not installed by us. */
  extra: FlowEntry[]
  /** Same key, other cookie or actions: [ours, observed]. */
  changed: [FlowEntry, FlowEntry][]
}

export interface FlowProgrammerEvents {
  applied: [ApplyReport]
  failed: [{ generation: number; error: unknown }]
  /** A (re)connect happened and no `onReconnect` was given: call `setDesired` or `resync`. */
  'needs-desired': [ConnectedEvent]
  /** Flows were restored after a reconnect: `ms` from the connection to the barrier reply. */
  restored: [{ connection: number; flows: number; ms: number }]
}

interface Waiter {
  gen: number
  resolve: (r: ApplyReport) => void
  reject: (e: unknown) => void
}

const ALL_COOKIES = { cookie: 0n, cookieMask: 0n }
/** Flows keyed per turn of the event loop while a bulk install is in flight (~1-3 ms of work each). */
const KEYING_SLICE = 2000

/**
 * Where each flow of a full sync sits in the bytes sent (`matchStart, instructionsStart, end` per flow), so the
 * key index is read from them instead of encoding every match and action list a second time. Kept only while
 * the connection speaks `KEY_VERSION` (other versions spell registers otherwise).
 */
interface SentBytes {
  bufs: Buffer[]
  spans: Int32Array
  usable: boolean
}

export class FlowProgrammer extends EventEmitter<FlowProgrammerEvents> {
  private readonly conn: OpenFlowConnection
  private readonly owned: { cookie: bigint; cookieMask: bigint }
  private readonly onReconnect: FlowProgrammerOptions['onReconnect']
  private readonly bundleTimeoutMs: number | undefined
  private _desired: Map<FlowKey, FlowEntry> | undefined
  /** A whole desired set given to `setDesired`, not keyed yet (a full sync sends it as is). */
  private pendingFlows: Flow[] | undefined
  private _installed = new Map<FlowKey, FlowEntry>()
  /** After a full sync from `pendingFlows`: installed is exactly these flows, keyed on first use. */
  private installedFlows: Flow[] | undefined
  private readonly adoptInstalled: boolean
  /**
   * One keying shared by the desired and installed tables when both come from the same flows; `spare` is a
   * second map of the same entries, cloned in the background once keying is done, for the table that would copy it.
   */
  private keyed: { flows: Flow[]; table: Map<FlowKey, FlowEntry>; spare?: Map<FlowKey, FlowEntry> } | undefined
  /** Keys changed since the last batch started, or 'all' after `setDesired`. */
  private touched: Set<FlowKey> | 'all' = 'all'
  private desiredGen = 0
  private appliedGen = 0
  private dirty = false
  private running = false
  private needFullSync = true
  private awaitingDesired = false
  /**
   * The owner handed us a desired set after the connection dropped: it is the owner's latest compute, so the
   * reconnect installs it at once instead of waiting for another (whose caller may be blocked on this one).
   */
  private desiredSinceDisconnect = false
  private connectedAt = 0
  private restoring: number | undefined
  private waiters: Waiter[] = []
  private readonly onConnected = (ev: ConnectedEvent): void => this.handleConnected(ev)
  // The switch may have lost everything (vswitchd restart): trust nothing until the next full sync.
  private readonly onDisconnected = (): void => {
    this.needFullSync = true
    this.desiredSinceDisconnect = false
  }

  constructor(options: FlowProgrammerOptions) {
    super()
    this.conn = options.conn
    this.owned = options.ownership === 'bridge' ? ALL_COOKIES : options.ownership
    this.onReconnect = options.onReconnect
    this.bundleTimeoutMs = options.bundleTimeoutMs
    this.adoptInstalled = options.adoptInstalled ?? false
    this.conn.on('connected', this.onConnected)
    this.conn.on('disconnected', this.onDisconnected)
    if (this.conn.connected) this.connectedAt = performance.now()
  }

  /** What we know the switch holds (updated only after a barrier reply). */
  get installed(): FlowTable {
    return this.installedTable()
  }
  get desired(): FlowTable | undefined {
    return this._desired || this.pendingFlows ? this.desiredTable() : undefined
  }

  /**
   * Keying 100k flows costs ~150 ms, so a full sync sends the owner's flows as given and keys them when a diff or
   * `verify` needs the tables (once for both, when they come from the same set), or in the background while the
   * switch works through the bundle (`keyWhileInstalling`). The last table to take the keying gets it uncopied.
   */
  private keyedCopy(flows: Flow[]): Map<FlowKey, FlowEntry> {
    if (this.keyed?.flows !== flows) this.keyed = { flows, table: buildFlowTable(flows) }
    const keyed = this.keyed
    if (this.pendingFlows === flows || this.installedFlows === flows) {
      const spare = keyed.spare
      keyed.spare = undefined
      return spare ?? new Map(keyed.table)
    }
    this.keyed = undefined
    return keyed.table
  }

  /**
   * Keys a full sync's flows in slices between I/O callbacks once the bundle is written, while the switch parses
   * and commits it (a separate process: this one would otherwise wait idle), so the first diff after a bulk
   * install finds the keying done, for both tables (desired and installed each get a map). With `sent`, the keys
   * are read from the bytes already encoded for the wire (`flowEntryFromWire`), not encoded again. Stops when
   * the set is superseded or was keyed on demand meanwhile; a flow that cannot be keyed leaves the work to the
   * on-demand path, which reports it.
   */
  private keyWhileInstalling(flows: Flow[], sent: SentBytes | undefined): void {
    const table = new Map<FlowKey, FlowEntry>()
    let i = 0
    const slice = (): void => {
      if ((this.pendingFlows !== flows && this.installedFlows !== flows) || this.keyed?.flows === flows) return
      try {
        for (const end = Math.min(flows.length, i + KEYING_SLICE); i < end; i++) {
          const e = sent ? flowEntryFromWire(flows[i]!, sent.bufs[i]!, sent.spans[3 * i]!, sent.spans[3 * i + 1]!, sent.spans[3 * i + 2]!) : toFlowEntry(flows[i]!)
          table.set(e.key, e)
        }
      } catch {
        return
      }
      if (i < flows.length) setImmediate(slice)
      // One clone of the finished map costs ~1/3 of filling a second one entry by entry (V8 copies its table).
      else this.keyed = { flows, table, spare: new Map(table) }
    }
    setImmediate(slice)
  }

  /** Records where each flow of a full sync (`mods` = delete + `flows`) sits in the bytes sent. */
  private recordSent(flows: Flow[]): { sent: SentBytes; onEncoded: NonNullable<CommitOptions['onEncoded']> } {
    const sent: SentBytes = { bufs: new Array<Buffer>(flows.length), spans: new Int32Array(flows.length * 3), usable: true }
    const onEncoded = (index: number, buf: Buffer, spans: FlowModSpans, version: number): void => {
      if (index === 0) {
        // The delete that opens the full sync; the flows follow, one per flow mod.
        sent.usable = version === KEY_VERSION
        return
      }
      if (!sent.usable) return
      const i = index - 1
      sent.bufs[i] = buf
      sent.spans[3 * i] = spans.matchStart
      sent.spans[3 * i + 1] = spans.instructionsStart
      sent.spans[3 * i + 2] = spans.end
    }
    return { sent, onEncoded }
  }

  private desiredTable(): Map<FlowKey, FlowEntry> {
    const flows = this.pendingFlows
    if (flows) {
      this.pendingFlows = undefined
      this._desired = this.keyedCopy(flows)
    }
    return (this._desired ??= new Map())
  }

  private installedTable(): Map<FlowKey, FlowEntry> {
    const flows = this.installedFlows
    if (flows) {
      this.installedFlows = undefined
      this._installed = this.keyedCopy(flows)
    }
    return this._installed
  }

  /** Generation of the last desired set that is installed. */
  get installedGeneration(): number {
    return this.appliedGen
  }

  /**
   * Replace the desired flows; resolves when this set (or a newer one) is installed, rejects if the bundle
   * carrying it failed (nothing of it installed) or the connection was lost.
   */
  setDesired(flows: Iterable<Flow>): Promise<ApplyReport> {
    this.pendingFlows = Array.from(flows)
    this._desired = undefined
    this.touched = 'all'
    return this.schedule()
  }

  /**
   * Change part of the desired flows: `upsert` adds or replaces flows (by table, priority, match), `remove`
   * drops them (only their identity is used). Only these keys are diffed. Same promise as `setDesired`.
   */
  patchDesired(changes: { upsert?: Iterable<Flow>; remove?: Iterable<Pick<Flow, 'table' | 'priority' | 'match'>> }): Promise<ApplyReport> {
    // Key everything before touching desired: a flow that cannot be encoded rejects this call and changes nothing.
    let removed: FlowKey[]
    let upserted: FlowEntry[]
    let desired: Map<FlowKey, FlowEntry>
    try {
      removed = Array.from(changes.remove ?? [], (f) => flowKey(f))
      upserted = Array.from(changes.upsert ?? [], (f) => toFlowEntry(f))
      desired = this.desiredTable()
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new FlowsInvalidError(String(error)))
    }
    const touched = this.touched
    for (const key of removed) {
      desired.delete(key)
      if (touched !== 'all') touched.add(key)
    }
    for (const e of upserted) {
      desired.set(e.key, e)
      if (touched !== 'all') touched.add(e.key)
    }
    return this.schedule()
  }

  private schedule(): Promise<ApplyReport> {
    const gen = ++this.desiredGen
    this.awaitingDesired = false
    this.desiredSinceDisconnect = true
    this.dirty = true
    const p = new Promise<ApplyReport>((resolve, reject) => this.waiters.push({ gen, resolve, reject }))
    void this.pump()
    return p
  }

  /** The owner confirms the last desired set is still right (after `needs-desired`). */
  resync(): Promise<ApplyReport> {
    if (this.pendingFlows) return this.setDesired(this.pendingFlows)
    return this.setDesired([...(this._desired?.values() ?? [])].map((e) => e.flow))
  }

  /**
   * Forget what we believe is installed and read it back from the switch, then send only the difference to
   * desired (the adopt path; without `adoptInstalled`, a full sync). For drift found by `verify`: flows someone
   * else deleted, added or changed are repaired and every other flow stays untouched.
   */
  reread(): Promise<ApplyReport> {
    if (!this._desired && !this.pendingFlows) return Promise.reject(new OpenFlowUnavailableError('nothing to re-read against: no desired flows yet'))
    this.needFullSync = true
    this.touched = 'all'
    return this.schedule()
  }

  /**
   * A batch is in flight or queued, or a reconnect waits for the owner's desired set: `installed` is about to
   * change, so a `verify` now would report a transient as drift.
   */
  get busy(): boolean {
    return this.running || this.dirty || this.awaitingDesired || !this.conn.connected
  }

  /** Read the switch's flows in our cookie space and compare with `installed`; changes nothing. */
  async verify(): Promise<DriftReport> {
    const observed = new Map<FlowKey, FlowEntry>()
    for (const s of await readFlowStats(this.conn, { cookie: this.owned.cookie, cookieMask: this.owned.cookieMask })) {
      const e = toFlowEntry(flowFromStats(s))
      observed.set(e.key, e)
    }
    const installed = this.installedTable()
    const report: DriftReport = { missing: [], extra: [], changed: [] }
    for (const [key, mine] of installed) {
      const seen = observed.get(key)
      if (!seen) report.missing.push(mine)
      else if (seen.actionsKey !== mine.actionsKey || seen.flow.cookie !== mine.flow.cookie) report.changed.push([mine, seen])
    }
    for (const [key, seen] of observed) if (!installed.has(key)) report.extra.push(seen)
    return report
  }

  close(): void {
    this.conn.off('connected', this.onConnected)
    this.conn.off('disconnected', this.onDisconnected)
    const err = new OpenFlowUnavailableError('flow programmer closed before the flows were installed')
    for (const w of this.waiters.splice(0)) w.reject(err)
  }

  private handleConnected(ev: ConnectedEvent): void {
    this.needFullSync = true
    this.connectedAt = performance.now()
    if (this.onReconnect) {
      this.awaitingDesired = true
      this.restoring = ev.generation
      Promise.resolve()
        .then(() => this.onReconnect!(ev))
        .then((flows) => this.setDesired(flows))
        .catch((error: unknown) => this.emit('failed', { generation: this.desiredGen, error }))
      return
    }
    const haveDesired = this._desired !== undefined || this.pendingFlows !== undefined
    if (ev.generation > 1 && haveDesired && this.desiredSinceDisconnect && this.dirty) {
      this.restoring = ev.generation
      void this.pump()
      return
    }
    if (ev.generation > 1 || !haveDesired) {
      this.awaitingDesired = true
      this.restoring = ev.generation
      this.emit('needs-desired', ev)
      return
    }
    void this.pump()
  }

  /** The diff over the keys changed since the last batch (all keys after `setDesired`). */
  private computeDiff(desired: FlowTable, touched: Set<FlowKey> | 'all'): FlowDiff {
    const installed = this.installedTable()
    if (touched === 'all') return diffFlows(desired, installed)
    const out: FlowDiff = { add: [], modify: [], remove: [] }
    for (const key of touched) {
      const want = desired.get(key)
      const have = installed.get(key)
      if (!want) {
        if (have) out.remove.push(have)
      } else if (!have || want.flow.cookie !== have.flow.cookie) out.add.push(want)
      else if (want.actionsKey !== have.actionsKey) out.modify.push(want)
    }
    return out
  }

  private async pump(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      while (this.dirty && this.conn.connected && !this.awaitingDesired && (this._desired || this.pendingFlows)) {
        this.dirty = false
        const gen = this.desiredGen
        const adopted = this.needFullSync && this.adoptInstalled
        if (adopted) {
          try {
            await this.readInstalledFromSwitch()
          } catch (error) {
            this.fail(gen, error)
            this.emit('failed', { generation: gen, error })
            continue
          }
        }
        const full = this.needFullSync
        const touched = this.touched
        this.touched = new Set()
        const started = performance.now()
        // Full sync of a whole set given to setDesired: sent as given, keyed later (see keyedCopy).
        const flows = full ? this.pendingFlows : undefined
        let snapshot: Map<FlowKey, FlowEntry> | undefined
        let diff: FlowDiff | undefined
        let mods: Parameters<typeof commitFlowMods>[1]
        try {
          // Otherwise a full sync installs a snapshot: `desired` may change (patchDesired) while in flight.
          snapshot = full && !flows ? new Map(this.desiredTable()) : undefined
          diff = full ? undefined : this.computeDiff(this.desiredTable(), touched)
          mods = diff
            ? buildFlowMods(diff)
            : flows
              ? [deleteByCookie(this.owned.cookie, this.owned.cookieMask), ...flows] // a Flow is an ADD flow mod
              : buildFullSync(snapshot!, this.owned)
        } catch (error) {
          // Keying the desired set failed (a flow that cannot be encoded): nothing was sent.
          this.rejectInput(gen, error)
          continue
        }
        const report: ApplyReport = {
          generation: gen,
          full,
          added: diff ? diff.add.length : (flows?.length ?? snapshot!.size),
          modified: diff ? diff.modify.length : 0,
          removed: diff ? diff.remove.length : 0,
          ms: 0,
        }
        try {
          if (!diff || !isEmptyDiff(diff)) {
            const bulk = flows && flows.length >= KEYING_SLICE ? this.recordSent(flows) : undefined
            await commitFlowMods(this.conn, mods, {
              onEncoded: bulk?.onEncoded,
              // Keying from here, not earlier, leaves the encoding (the bottleneck while writing) the CPU.
              onSent: bulk ? () => this.keyWhileInstalling(flows!, bulk.sent.usable ? bulk.sent : undefined) : undefined,
              describe: (fm) => renderFlow({ table: fm.table, priority: fm.priority, match: fm.match, cookie: fm.cookie, instructions: fm.instructions }),
              timeoutMs: this.bundleTimeoutMs,
            })
          }
          if (flows) {
            this.installedFlows = flows
            this._installed = new Map()
          } else if (snapshot) {
            this.installedFlows = undefined
            this._installed = snapshot
          } else {
            const installed = this.installedTable()
            for (const e of diff!.remove) installed.delete(e.key)
            for (const e of diff!.modify) installed.set(e.key, e)
            for (const e of diff!.add) installed.set(e.key, e)
          }
          this.needFullSync = false
          this.appliedGen = gen
          report.ms = performance.now() - started
          this.settle(gen, report)
          this.emit('applied', report)
          // After a reconnect the first batch restores the table, whether sent whole or as the adopted diff.
          if (this.restoring !== undefined && (full || adopted)) {
            const restored = flows?.length ?? snapshot?.size ?? this.installedTable().size
            this.emit('restored', { connection: this.restoring, flows: restored, ms: performance.now() - this.connectedAt })
            this.restoring = undefined
          }
        } catch (error) {
          // Atomic bundle: on a rejection nothing changed and `installed` stays right; the keys stay marked so
          // the next change retries them. On a lost connection the reconnect path forces a full sync.
          const pending = this.touched as Set<FlowKey> | 'all'
          if (touched === 'all') this.touched = 'all'
          else if (pending !== 'all') for (const k of touched) pending.add(k)
          if (isRetryable(error)) this.needFullSync = true
          if (isInputError(error)) {
            this.rejectInput(gen, error)
            continue
          }
          this.fail(gen, error)
          this.emit('failed', { generation: gen, error })
        }
      }
    } finally {
      this.running = false
    }
  }

  /** `installed` := the switch's flows in our cookie space; the next diff then covers every key. */
  private async readInstalledFromSwitch(): Promise<void> {
    const observed = new Map<FlowKey, FlowEntry>()
    for (const s of await readFlowStats(this.conn, { cookie: this.owned.cookie, cookieMask: this.owned.cookieMask })) {
      const e = toFlowEntry(flowFromStats(s))
      observed.set(e.key, e)
    }
    this.installedFlows = undefined
    this._installed = observed
    this.touched = 'all'
    this.needFullSync = false
  }

  /**
   * Generation `gen` holds flows that cannot be sent: its callers get the error and desired goes back to what
   * the switch holds, so the next call diffs against the truth and resolves only for itself. A newer desired set
   * given meanwhile is kept (it replaced the bad one).
   */
  private rejectInput(gen: number, error: unknown): void {
    this.fail(gen, error)
    this.emit('failed', { generation: gen, error })
    if (this.desiredGen !== gen) return
    this.pendingFlows = undefined
    this.dirty = false
    if (this.needFullSync) {
      // Nothing known installed (first sync): wait for the next desired set.
      this._desired = undefined
      this.touched = 'all'
    } else {
      this._desired = new Map(this.installedTable())
      this.touched = new Set()
    }
  }

  private settle(gen: number, report: ApplyReport): void {
    const keep: Waiter[] = []
    for (const w of this.waiters) {
      if (w.gen <= gen) w.resolve(report)
      else keep.push(w)
    }
    this.waiters = keep
  }

  private fail(gen: number, error: unknown): void {
    const keep: Waiter[] = []
    for (const w of this.waiters) {
      if (w.gen <= gen) w.reject(error)
      else keep.push(w)
    }
    this.waiters = keep
  }
}
