/**
 * Schema migrations, numbered in code. `user_version` records the last one applied; each runs in its own
 * transaction together with the version bump, so a crash leaves the schema at a whole number.
 * Never edit a released migration: add the next number.
 */
import type { Database } from 'better-sqlite3'
import { StoreCorruptError } from './errors.js'

export interface Migration {
  version: number
  name: string
  sql: string
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'objects, events, revisions, meta',
    sql: `
      CREATE TABLE objects (
        api_version      TEXT NOT NULL,
        kind             TEXT NOT NULL,
        namespace        TEXT NOT NULL,
        name             TEXT NOT NULL,
        uid              TEXT NOT NULL UNIQUE,
        generation       INTEGER NOT NULL CHECK (generation >= 1),
        resource_version INTEGER NOT NULL,
        spec_hash        TEXT NOT NULL,
        origin           TEXT NOT NULL CHECK (origin IN ('local', 'hub')),
        created_at       TEXT NOT NULL,
        labels           TEXT NOT NULL,
        annotations      TEXT NOT NULL,
        spec             TEXT NOT NULL,
        status           TEXT NOT NULL,
        PRIMARY KEY (api_version, kind, namespace, name)
      ) WITHOUT ROWID;
      CREATE INDEX objects_kind ON objects (kind, namespace, name);
      CREATE TABLE counters (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO counters (name, value) VALUES ('resourceVersion', 0);
      CREATE TABLE events (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        time        TEXT NOT NULL,
        type        TEXT NOT NULL CHECK (type IN ('Normal', 'Warning')),
        reason      TEXT NOT NULL,
        message     TEXT NOT NULL,
        api_version TEXT NOT NULL,
        kind        TEXT NOT NULL,
        namespace   TEXT NOT NULL,
        name        TEXT NOT NULL,
        uid         TEXT
      );
      CREATE INDEX events_object ON events (kind, namespace, name, id);
      CREATE TABLE revisions (
        name       TEXT PRIMARY KEY CHECK (name IN ('applied', 'acknowledged', 'lastKnownGood')),
        revision   INTEGER NOT NULL,
        updated_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'host_resources: namespaces and veths the appliance created (for appliance cleanup)',
    sql: `
      CREATE TABLE host_resources (
        kind       TEXT NOT NULL CHECK (kind IN ('netns', 'veth')),
        name       TEXT NOT NULL,
        netns      TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (kind, netns, name)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'ipam_allocations: addresses of service interfaces from DPUServiceIPAM pools',
    sql: `
      CREATE TABLE ipam_allocations (
        pool       TEXT NOT NULL,
        interface  TEXT NOT NULL,
        address    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (pool, interface),
        UNIQUE (pool, address)
      ) WITHOUT ROWID;
    `,
  },
]

/** Brings the schema to the newest version; refuses a file written by a newer build. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const current = db.pragma('user_version', { simple: true }) as number
  const newest = migrations.at(-1)?.version ?? 0
  if (current > newest) {
    throw new StoreCorruptError(`store schema version ${current} is newer than this build knows (${newest})`, { current, newest })
  }
  for (const m of migrations) {
    if (m.version <= current) continue
    db.transaction(() => {
      db.exec(m.sql)
      db.pragma(`user_version = ${m.version}`)
    })()
  }
  return newest
}
