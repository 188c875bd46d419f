/**
 * Hub revision bookkeeping: which revision the appliance has applied (committed), acknowledged to the hub,
 * and last seen healthy (known-good, the rollback target). Written by the federation agent, read by the
 * REST status views.
 */
import type { Database, Statement } from 'better-sqlite3'

export type RevisionName = 'applied' | 'acknowledged' | 'lastKnownGood'

export interface RevisionRecord {
  revision: number
  updatedAt: string
}

export type Revisions = Partial<Record<RevisionName, RevisionRecord>>

export class RevisionTable {
  readonly #get: Statement
  readonly #set: Statement

  constructor(db: Database) {
    this.#get = db.prepare(`SELECT name, revision, updated_at FROM revisions`)
    this.#set = db.prepare(
      `INSERT INTO revisions (name, revision, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET revision = excluded.revision, updated_at = excluded.updated_at`,
    )
  }

  read(): Revisions {
    const out: Revisions = {}
    for (const r of this.#get.all() as { name: RevisionName; revision: number; updated_at: string }[]) {
      out[r.name] = { revision: r.revision, updatedAt: r.updated_at }
    }
    return out
  }

  /** Records a revision; call inside a store transaction when it must be atomic with object changes. */
  set(name: RevisionName, revision: number, time = new Date()): void {
    this.#set.run(name, revision, time.toISOString())
  }
}
