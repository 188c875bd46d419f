/**
 * The appliance's one SQLite file: desired objects, their status, the event log, hub revisions and meta.
 * WAL with synchronous=FULL: a transaction that returned is on disk, which is what lets the federation
 * agent ack a revision right after `applyHubRevision` returns. The one exception is a status-only write
 * (`objects.setStatus` on its own): observed state, committed without its own fsync (see `Writer.run`).
 */
import { statSync } from 'node:fs'
import BetterSqlite3, { type Database } from 'better-sqlite3'
import type { ObjectRef } from '../../api/meta.js'
import type { ParsedObject } from '../../api/resources/kind.js'
import { StoreCorruptError, StoreIoError } from './errors.js'
import { EventLog, type ObjectEvent } from './events.js'
import { HostResourceTable, type RecordedHostResource } from './host-resources.js'
import { IpamAllocationTable, type IpamAllocation } from './ipam-allocations.js'
import { MetaTable } from './meta.js'
import { migrate } from './migrations.js'
import { ObjectTable, type ApplyResult, type DeleteResult } from './objects.js'
import { RevisionTable, type Revisions } from './revisions.js'
import { WatchHub, type WatchHistoryLimits, type WatchListener } from './watch.js'
import { Writer } from './writer.js'

export interface StoreOptions {
  /** This appliance's node name: objects whose `spec.node` names another node get `Ready=False/OtherNode`. */
  nodeName?: string
  /** Event log ring size (default 1,000). */
  eventCapacity?: number
  /** Watch resume window: changes and bytes kept (default 2,000 changes, 16 MiB). */
  watchHistory?: WatchHistoryLimits
  /**
   * SQLite `synchronous` level. FULL (the default) is what makes an acknowledged write durable; OFF exists only
   * so the durability test can show that its lost-page-cache harness catches a store that does not sync.
   */
  synchronous?: 'FULL' | 'OFF'
}

export interface StoreStats {
  objects: { apiVersion: string; kind: string; count: number }[]
  totalObjects: number
  /** Database file plus its WAL, in bytes. */
  fileBytes: number
  resourceVersion: number
}

export interface HubRevisionResult {
  applied: ApplyResult[]
  removed: DeleteResult[]
}

export interface StoreDump {
  resourceVersion: number
  objects: unknown[]
  events: ObjectEvent[]
  revisions: Revisions
  meta: Record<string, string>
  hostResources: RecordedHostResource[]
  ipamAllocations: IpamAllocation[]
}

export interface Store {
  readonly path: string
  readonly objects: ObjectTable
  readonly events: EventLog
  readonly revisions: RevisionTable
  readonly meta: MetaTable
  /** Namespaces and veths the appliance created on the host (what `appliance cleanup` removes). */
  readonly hostResources: HostResourceTable
  /** Addresses of service interfaces from DPUServiceIPAM pools (persisted, stable across restarts). */
  readonly ipamAllocations: IpamAllocationTable
  /** The newest committed resourceVersion. */
  resourceVersion(): number
  /** Runs `fn` as one transaction; nested store writes join it; watchers hear after the commit. */
  batch<T>(fn: () => T): T
  /** Replays changes after `sinceResourceVersion` (if given), then follows; returns the unsubscribe function. */
  watch(listener: WatchListener, opts?: { sinceResourceVersion?: number }): () => void
  /** How many watchers are subscribed (metrics; tests check that closed streams unsubscribe). */
  watcherCount(): number
  /** What the watch resume window holds now: changes, bytes, and the oldest resourceVersion it can resume after. */
  watchWindow(): { events: number; bytes: number; floor: number }
  /** Stores a hub revision's objects (origin `hub`) and records it as applied, in one transaction. */
  applyHubRevision(revision: number, upserts: readonly ParsedObject[], removals: readonly ObjectRef[]): HubRevisionResult
  stats(): StoreStats
  /** Everything in the file, deterministic (tests compare dumps). */
  dump(): StoreDump
  /** `PRAGMA integrity_check` result: `'ok'` when healthy. */
  integrityCheck(): string
  /** Cheap liveness probe for `/readyz`. */
  ping(): void
  close(): void
}

/** Opens (creating and migrating as needed) the store at `path`. */
export function openStore(path: string, opts: StoreOptions = {}): Store {
  let db: Database
  try {
    db = new BetterSqlite3(path)
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`)
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    // SQLite's page cache is malloc'd and kept: 1 MiB instead of the default 2 MiB (issue #13, RSS budget 96 MiB).
    // The file's pages stay in the kernel's page cache, so a miss costs a pread, not a disk read.
    db.pragma('cache_size = -1024')
  } catch (err) {
    throw new StoreIoError(`cannot open store ${path}: ${(err as Error).message}`, err)
  }
  try {
    migrate(db)
  } catch (err) {
    db.close()
    if (err instanceof StoreCorruptError) throw err
    throw new StoreCorruptError(`cannot migrate store ${path}: ${(err as Error).message}`, { path })
  }
  let hub: WatchHub | undefined
  const writer = new Writer(db, (events) => hub?.deliver(events))
  hub = new WatchHub(writer.resourceVersion, opts.watchHistory)
  const events = new EventLog(db, opts.eventCapacity)
  const objects = new ObjectTable(db, writer, events, opts.nodeName)
  const revisions = new RevisionTable(db)
  const meta = new MetaTable(db)
  const hostResources = new HostResourceTable(db)
  const ipamAllocations = new IpamAllocationTable(db)
  const watchHub = hub

  return {
    path,
    objects,
    events,
    revisions,
    meta,
    hostResources,
    ipamAllocations,
    resourceVersion: () => writer.resourceVersion,
    batch: (fn) => writer.run(fn),
    watch: (listener, o) => watchHub.subscribe(listener, o),
    watcherCount: () => watchHub.listenerCount,
    watchWindow: () => watchHub.history,
    applyHubRevision(revision, upserts, removals) {
      return writer.run(() => {
        const applied = objects.apply(upserts, { origin: 'hub' })
        const removed = objects.delete(removals, { origin: 'hub', missingOk: true })
        revisions.set('applied', revision)
        return { applied, removed }
      })
    },
    stats() {
      const counts = objects.countByKind()
      let fileBytes = 0
      for (const f of [path, `${path}-wal`]) {
        try {
          fileBytes += statSync(f).size
        } catch {
          // no WAL yet
        }
      }
      return { objects: counts, totalObjects: counts.reduce((n, c) => n + c.count, 0), fileBytes, resourceVersion: writer.resourceVersion }
    },
    dump() {
      return {
        resourceVersion: writer.resourceVersion,
        objects: objects.dump(),
        events: events.all(),
        revisions: revisions.read(),
        meta: meta.all(),
        hostResources: hostResources.list(),
        ipamAllocations: ipamAllocations.list(),
      }
    },
    integrityCheck: () => String(db.pragma('integrity_check', { simple: true })),
    ping() {
      db.prepare('SELECT 1').get()
    },
    close: () => db.close(),
  }
}
