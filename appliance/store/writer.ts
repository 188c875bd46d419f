/**
 * The one write path of the store. Holds the in-memory copy of the global resourceVersion counter (persisted
 * in `counters` inside the same transaction) and the watch events produced by the transaction in progress.
 * Events are handed to the watch hub only after the outermost transaction commits; a rollback discards them
 * and restores the counter, so a watcher never sees a change that did not reach the disk.
 */
import type { Database, Statement } from 'better-sqlite3'
import type { WatchEvent } from './watch.js'

export class Writer {
  #depth = 0
  #rv: number
  #pending: WatchEvent[] = []
  readonly #saveRv: Statement
  readonly #deliver: (events: WatchEvent[]) => void

  constructor(
    readonly db: Database,
    deliver: (events: WatchEvent[]) => void,
  ) {
    this.#rv = (db.prepare(`SELECT value FROM counters WHERE name = 'resourceVersion'`).get() as { value: number }).value
    this.#saveRv = db.prepare(`UPDATE counters SET value = ? WHERE name = 'resourceVersion'`)
    this.#deliver = deliver
  }

  /** The newest committed (or, inside a transaction, assigned) resourceVersion. */
  get resourceVersion(): number {
    return this.#rv
  }

  /**
   * Runs `fn` in one transaction (a savepoint when nested). Watch events are delivered after the outer commit.
   * `durable: false` (outermost only) commits without the fsync: for observed state (status) that the next
   * reconcile pass writes again. WAL keeps commits in order, so the next durable commit syncs it too, and a crash
   * can only lose such trailing status writes, never a desired-state write or anything before it.
   */
  run<T>(fn: () => T, opts: { durable?: boolean } = {}): T {
    const mark = this.#pending.length
    const rvBefore = this.#rv
    const outer = this.#depth === 0
    const relaxed = outer && opts.durable === false
    if (relaxed) this.db.pragma('synchronous = NORMAL')
    this.#depth++
    let result: T
    try {
      result = this.db.transaction(() => {
        const r = fn()
        if (outer && this.#rv !== rvBefore) this.#saveRv.run(this.#rv)
        return r
      })()
    } catch (err) {
      this.#pending.length = mark
      this.#rv = rvBefore
      throw err
    } finally {
      this.#depth--
      if (relaxed) this.db.pragma('synchronous = FULL')
    }
    if (outer && this.#pending.length > 0) this.#deliver(this.#pending.splice(0))
    return result
  }

  /** Assigns the next resourceVersion; only valid inside `run`. */
  nextResourceVersion(): number {
    if (this.#depth === 0) throw new Error('nextResourceVersion outside a store transaction')
    return ++this.#rv
  }

  emit(event: WatchEvent): void {
    this.#pending.push(event)
  }
}
