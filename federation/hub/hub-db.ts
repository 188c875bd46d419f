/**
 * The hub's durable state in SQLite: per DPU the highest revision minted, the last ack, nack and status, and
 * when it was last heard from. Everything is cached in memory (one row per DPU) and written behind in one
 * transaction every `flushMs`: no write sits on the ack path. Losing unflushed rows is safe because revisions
 * are minted as max(hub, agent) + 1 and agents report their applied revision in every hello.
 */
import Database from 'better-sqlite3'
import type { RevisionPhase, WireError } from '../../api/federation/messages.js'
import type { SnapshotStore } from './source.js'

export interface DpuRecord {
  name: string
  hubRevision: number
  ackedRevision: number
  ackedAt: number | null
  lastContact: number | null
  labels: Record<string, string>
  agentPhase: RevisionPhase | null
  agentRevision: number | null
  statusJson: string | null
  lastNack: { revision: number; error: WireError; at: number } | null
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS dpus (
  name TEXT PRIMARY KEY,
  hub_revision INTEGER NOT NULL,
  acked_revision INTEGER NOT NULL,
  acked_at INTEGER,
  last_contact INTEGER,
  labels TEXT NOT NULL,
  agent_phase TEXT,
  agent_revision INTEGER,
  status_json TEXT,
  last_nack TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS source_snapshots (
  source TEXT NOT NULL,
  key TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (source, key)
);
`

interface Row {
  name: string
  hub_revision: number
  acked_revision: number
  acked_at: number | null
  last_contact: number | null
  labels: string
  agent_phase: string | null
  agent_revision: number | null
  status_json: string | null
  last_nack: string | null
}

export class HubDb {
  private readonly db: Database.Database
  private readonly records = new Map<string, DpuRecord>()
  private readonly dirty = new Set<string>()
  private readonly timer: NodeJS.Timeout
  private readonly upsert: Database.Statement

  constructor(path: string, { flushMs = 250 } = {}) {
    this.db = new Database(path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.db.exec(SCHEMA)
    this.upsert = this.db.prepare(`INSERT INTO dpus (name, hub_revision, acked_revision, acked_at, last_contact, labels,
        agent_phase, agent_revision, status_json, last_nack)
      VALUES (@name, @hub_revision, @acked_revision, @acked_at, @last_contact, @labels, @agent_phase, @agent_revision,
        @status_json, @last_nack)
      ON CONFLICT(name) DO UPDATE SET hub_revision = excluded.hub_revision, acked_revision = excluded.acked_revision,
        acked_at = excluded.acked_at, last_contact = excluded.last_contact, labels = excluded.labels,
        agent_phase = excluded.agent_phase, agent_revision = excluded.agent_revision, status_json = excluded.status_json,
        last_nack = excluded.last_nack`)
    for (const row of this.db.prepare('SELECT * FROM dpus').all() as Row[]) {
      this.records.set(row.name, {
        name: row.name,
        hubRevision: row.hub_revision,
        ackedRevision: row.acked_revision,
        ackedAt: row.acked_at,
        lastContact: row.last_contact,
        labels: JSON.parse(row.labels) as Record<string, string>,
        agentPhase: row.agent_phase as RevisionPhase | null,
        agentRevision: row.agent_revision,
        statusJson: row.status_json,
        lastNack: row.last_nack ? (JSON.parse(row.last_nack) as DpuRecord['lastNack']) : null,
      })
    }
    this.timer = setInterval(() => this.flush(), flushMs)
    this.timer.unref()
  }

  get(name: string): DpuRecord {
    let r = this.records.get(name)
    if (!r) {
      r = { name, hubRevision: 0, ackedRevision: 0, ackedAt: null, lastContact: null, labels: {}, agentPhase: null, agentRevision: null, statusJson: null, lastNack: null }
      this.records.set(name, r)
    }
    return r
  }

  all(): DpuRecord[] {
    return [...this.records.values()]
  }

  update(name: string, patch: Partial<Omit<DpuRecord, 'name'>>): DpuRecord {
    const r = Object.assign(this.get(name), patch)
    this.dirty.add(name)
    return r
  }

  /** Mints the next revision for a DPU: max(hub, agent) + 1, never backwards even after the DB was lost. */
  mintRevision(name: string, agentRevision: number): number {
    const r = this.get(name)
    const next = Math.max(r.hubRevision, agentRevision) + 1
    this.update(name, { hubRevision: next })
    return next
  }

  /**
   * A source's last good inputs. Written through, not behind: they change only when an input changes, and a
   * hub killed right after must start from them (a lost write would turn the next broken input into a delete).
   */
  sourceStore(source: string): SnapshotStore {
    const db = this.db
    const put = db.prepare('INSERT INTO source_snapshots (source, key, body) VALUES (?, ?, ?) ON CONFLICT(source, key) DO UPDATE SET body = excluded.body')
    const del = db.prepare('DELETE FROM source_snapshots WHERE source = ? AND key = ?')
    const all = db.prepare('SELECT key, body FROM source_snapshots WHERE source = ?')
    return {
      load: () => new Map((all.all(source) as Array<{ key: string; body: string }>).map((r) => [r.key, r.body])),
      put: (key, body) => void put.run(source, key, body),
      delete: (key) => void del.run(source, key),
    }
  }

  flush(): void {
    if (this.dirty.size === 0) return
    const names = [...this.dirty]
    this.dirty.clear()
    this.db.transaction(() => {
      for (const name of names) {
        const r = this.records.get(name)
        if (!r) continue
        this.upsert.run({
          name,
          hub_revision: r.hubRevision,
          acked_revision: r.ackedRevision,
          acked_at: r.ackedAt,
          last_contact: r.lastContact,
          labels: JSON.stringify(r.labels),
          agent_phase: r.agentPhase,
          agent_revision: r.agentRevision,
          status_json: r.statusJson,
          last_nack: r.lastNack ? JSON.stringify(r.lastNack) : null,
        })
      }
    })()
  }

  close(): void {
    clearInterval(this.timer)
    this.flush()
    this.db.close()
  }
}
