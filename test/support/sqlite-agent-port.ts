/**
 * A small real AgentPort over a SQLite file, for federation protocol tests and the fleet benchmark. It is NOT
 * the appliance store (that is `appliance/federation/agent-port-impl.ts`); it implements the same contract
 * with the same guarantees the agent relies on: each revision is validated, then stored with its objects in
 * one transaction, and a revision is never applied twice (the `commits` table proves it).
 */
import Database from 'better-sqlite3'
import type { AgentPort, AgentStatusReport, AgentSyncState, HubRevisionPush } from '../../api/federation/agent-port.js'
import { ApplianceError } from '../../api/errors.js'

export interface SqliteAgentPortOptions {
  /** Validates one object; throw an ApplianceError to make the agent nack. Default: accept everything. */
  validate?: (obj: HubRevisionPush['upserts'][number]['object']) => void
}

export class SqliteAgentPort implements AgentPort {
  readonly db: Database.Database
  private readonly listeners = new Set<() => void>()

  constructor(
    path: string,
    private readonly options: SqliteAgentPortOptions = {},
  ) {
    this.db = new Database(path)
    this.db.pragma('journal_mode = WAL')
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, hash TEXT NOT NULL, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS sync (id INTEGER PRIMARY KEY CHECK (id = 1), applied_revision INTEGER NOT NULL, last_good_revision INTEGER NOT NULL);
      INSERT OR IGNORE INTO sync VALUES (1, 0, 0);
      CREATE TABLE IF NOT EXISTS commits (revision INTEGER PRIMARY KEY, at INTEGER NOT NULL, upserts INTEGER NOT NULL, removals INTEGER NOT NULL);
    `)
  }

  readSyncState(): AgentSyncState {
    const s = this.db.prepare('SELECT applied_revision AS a, last_good_revision AS g FROM sync').get() as { a: number; g: number }
    const rows = this.db.prepare('SELECT key, hash FROM objects').all() as Array<{ key: string; hash: string }>
    return { appliedRevision: s.a, lastGoodRevision: s.g, objectHashes: Object.fromEntries(rows.map((r) => [r.key, r.hash])) }
  }

  commitRevision(push: HubRevisionPush): void {
    for (const u of push.upserts) this.options.validate?.(u.object)
    this.db.transaction(() => {
      const applied = (this.db.prepare('SELECT applied_revision AS a FROM sync').get() as { a: number }).a
      if (push.revision <= applied) throw new ApplianceError('federation.stale-revision', `revision ${push.revision} <= applied ${applied}`)
      const put = this.db.prepare('INSERT INTO objects (key, hash, body) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET hash = excluded.hash, body = excluded.body')
      for (const u of push.upserts) put.run(u.key, u.hash, JSON.stringify(u.object))
      const del = this.db.prepare('DELETE FROM objects WHERE key = ?')
      for (const k of push.removals) del.run(k)
      this.db.prepare('UPDATE sync SET applied_revision = ?, last_good_revision = ?').run(push.revision, push.revision)
      this.db.prepare('INSERT INTO commits VALUES (?, ?, ?, ?)').run(push.revision, Date.now(), push.upserts.length, push.removals.length)
    })()
    for (const l of this.listeners) l()
  }

  readStatus(): AgentStatusReport {
    const s = this.readSyncState()
    const keys = Object.keys(s.objectHashes).sort()
    return {
      revision: s.appliedRevision,
      phase: 'applied',
      objects: keys.map((key) => ({ key, phase: 'Ready', conditions: [{ type: 'Ready', status: 'True', reason: 'Stored', message: '', lastTransitionTime: '1970-01-01T00:00:00Z' }] })),
    }
  }

  onStatusChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Test helpers: what the store holds. */
  objects(): Array<{ key: string; hash: string; object: { kind: string; metadata: { name: string }; spec: Record<string, unknown> } }> {
    return (this.db.prepare('SELECT key, hash, body FROM objects ORDER BY key').all() as Array<{ key: string; hash: string; body: string }>).map((r) => ({
      key: r.key,
      hash: r.hash,
      object: JSON.parse(r.body),
    }))
  }

  commits(): Array<{ revision: number; upserts: number; removals: number }> {
    return this.db.prepare('SELECT revision, upserts, removals FROM commits ORDER BY revision').all() as Array<{ revision: number; upserts: number; removals: number }>
  }

  close(): void {
    this.db.close()
  }
}
