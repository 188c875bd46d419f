/**
 * The event log: a bounded ring (the newest `capacity` rows survive) of what happened to objects,
 * for `dpuctl describe` and `dpuctl events`. Rows are trimmed in the same transaction that appends them.
 */
import type { Database, Statement } from 'better-sqlite3'
import type { ObjectRef } from '../../api/meta.js'

export type EventType = 'Normal' | 'Warning'

export interface ObjectEvent {
  id: number
  time: string
  type: EventType
  reason: string
  message: string
  object: ObjectRef & { uid?: string }
}

export interface EventInput {
  type: EventType
  reason: string
  message: string
  object: ObjectRef & { uid?: string }
}

export interface EventQuery {
  kind?: string
  namespace?: string
  name?: string
  /** Newest first, at most this many (default 100). */
  limit?: number
}

interface EventRow {
  id: number
  time: string
  type: EventType
  reason: string
  message: string
  api_version: string
  kind: string
  namespace: string
  name: string
  uid: string | null
}

export class EventLog {
  readonly #insert: Statement
  readonly #trim: Statement
  readonly #all: Statement

  constructor(
    private readonly db: Database,
    readonly capacity = 1000,
  ) {
    this.#insert = db.prepare(`INSERT INTO events (time, type, reason, message, api_version, kind, namespace, name, uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    this.#trim = db.prepare(`DELETE FROM events WHERE id <= ?`)
    this.#all = db.prepare(`SELECT * FROM events ORDER BY id`)
  }

  readonly #statements = new Map<string, Statement>()
  /** The few filter shapes repeat, so their statements are compiled once. */
  #prepared(sql: string): Statement {
    let st = this.#statements.get(sql)
    if (!st) this.#statements.set(sql, (st = this.db.prepare(sql)))
    return st
  }

  /** Appends one event; call inside the transaction that made the change it describes. */
  append(e: EventInput, time = new Date()): void {
    const o = e.object
    const id = Number(this.#insert.run(time.toISOString(), e.type, e.reason, e.message, o.apiVersion, o.kind, o.namespace, o.name, o.uid ?? null).lastInsertRowid)
    if (id > this.capacity) this.#trim.run(id - this.capacity)
  }

  list(q: EventQuery = {}): ObjectEvent[] {
    const where: string[] = []
    const args: unknown[] = []
    if (q.kind !== undefined) {
      where.push('kind = ?')
      args.push(q.kind)
    }
    if (q.namespace !== undefined) {
      where.push('namespace = ?')
      args.push(q.namespace)
    }
    if (q.name !== undefined) {
      where.push('name = ?')
      args.push(q.name)
    }
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
    const rows = this.#prepared(sql).all(...args, q.limit ?? 100) as EventRow[]
    return rows.map(toEvent)
  }

  /** Every row, oldest first (for `dump`). */
  all(): ObjectEvent[] {
    return (this.#all.all() as EventRow[]).map(toEvent)
  }
}

function toEvent(r: EventRow): ObjectEvent {
  return {
    id: r.id,
    time: r.time,
    type: r.type,
    reason: r.reason,
    message: r.message,
    object: { apiVersion: r.api_version, kind: r.kind, namespace: r.namespace, name: r.name, ...(r.uid ? { uid: r.uid } : {}) },
  }
}
