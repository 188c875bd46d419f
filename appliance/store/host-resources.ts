/**
 * What the appliance created on the host outside OVS: service network namespaces and service veths. Written by
 * the ports pass *before* it runs the command that creates one (write-ahead: a crash between the two leaves a
 * record of something that may not exist, never something that exists without a record), forgotten when the
 * ports pass removes a veth itself, and read by `dpuctl appliance cleanup`, which removes exactly what is listed
 * here. A name prefix is no proof of ownership (`svc-*` may come from a service's own runtime), a record is.
 */
import type { Database, Statement } from 'better-sqlite3'

export type HostResourceKind = 'netns' | 'veth'

export interface HostResource {
  kind: HostResourceKind
  name: string
  /** For a veth: the namespace its outer end lives in (ovs-vswitchd's); absent = the appliance's own. */
  netns?: string
}

export interface RecordedHostResource extends HostResource {
  createdAt: string
}

interface Row {
  kind: HostResourceKind
  name: string
  netns: string
  created_at: string
}

export class HostResourceTable {
  readonly #record: Statement
  readonly #forget: Statement
  readonly #all: Statement

  constructor(db: Database) {
    // '' stands for "the appliance's own namespace": primary key columns cannot be NULL in a WITHOUT ROWID table.
    this.#record = db.prepare(`INSERT INTO host_resources (kind, name, netns, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`)
    this.#forget = db.prepare(`DELETE FROM host_resources WHERE kind = ? AND name = ? AND netns = ?`)
    this.#all = db.prepare(`SELECT kind, name, netns, created_at FROM host_resources ORDER BY kind, netns, name`)
  }

  /** Notes that the appliance is about to create `r` (idempotent: the first record's time is kept). */
  record(r: HostResource): void {
    this.#record.run(r.kind, r.name, r.netns ?? '', new Date().toISOString())
  }

  /** Drops the record of `r`; true if there was one. */
  forget(r: HostResource): boolean {
    return this.#forget.run(r.kind, r.name, r.netns ?? '').changes > 0
  }

  list(): RecordedHostResource[] {
    return (this.#all.all() as Row[]).map((r) => ({ kind: r.kind, name: r.name, ...(r.netns !== '' ? { netns: r.netns } : {}), createdAt: r.created_at }))
  }
}
