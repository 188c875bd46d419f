/** A small key/value table for state that is not an object (agent identity, hub endpoint seen, cursors). */
import type { Database, Statement } from 'better-sqlite3'

export class MetaTable {
  readonly #get: Statement
  readonly #set: Statement
  readonly #delete: Statement
  readonly #all: Statement

  constructor(db: Database) {
    this.#get = db.prepare(`SELECT value FROM meta WHERE key = ?`)
    this.#set = db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
    this.#delete = db.prepare(`DELETE FROM meta WHERE key = ?`)
    this.#all = db.prepare(`SELECT key, value FROM meta ORDER BY key`)
  }

  get(key: string): string | undefined {
    return (this.#get.get(key) as { value: string } | undefined)?.value
  }

  set(key: string, value: string): void {
    this.#set.run(key, value)
  }

  delete(key: string): boolean {
    return this.#delete.run(key).changes > 0
  }

  all(): Record<string, string> {
    return Object.fromEntries((this.#all.all() as { key: string; value: string }[]).map((r) => [r.key, r.value]))
  }
}
