/**
 * The `objects` table: desired state of every kind, keyed by (apiVersion, kind, namespace, name).
 * `generation` counts spec changes only (canonical spec hash), `resourceVersion` counts every change
 * (spec, labels, annotations, origin, status) and is global and monotonic across the table, as in etcd.
 * Written only through `Writer.run`, so each call below is one transaction and watchers hear after commit.
 */
import { randomUUID } from 'node:crypto'
import type { Database, Statement } from 'better-sqlite3'
import { DEFAULT_NAMESPACE, refKey, type ObjectOrigin, type ObjectRef, type ObjectStatus, type StoredObject } from '../../api/meta.js'
import type { ParsedObject } from '../../api/resources/kind.js'
import { computeInitialStatus, computeStatusAfterSpecChange } from './conditions.js'
import { DuplicateObjectError, StoreConflictError, StoreNotFoundError, StoreReadOnlyError } from './errors.js'
import type { EventLog } from './events.js'
import type { LabelSelector } from '../../api/resources/common.js'
import { matchesLabelSelector } from '../../api/resources/selector-match.js'
import { parseLabelSelector } from './label-selector.js'
import { canonicalJson, computeSpecHash } from './spec-hash.js'
import type { Writer } from './writer.js'

export type ApplyAction = 'created' | 'configured' | 'unchanged'

export interface ApplyResult {
  ref: ObjectRef
  action: ApplyAction
  object: StoredObject
  /** A hub apply replaced an object created locally with the same key (see `TakenOverByHub` events). */
  takenOverFromLocal?: boolean
}

/** How much of a replaced local spec the `TakenOverByHub` event keeps. */
const TAKEOVER_SPEC_BYTES = 8192

export type DeleteAction = 'deleted' | 'not-found' | 'not-owned'

export interface DeleteResult {
  ref: ObjectRef
  action: DeleteAction
  /** The last state of a deleted object. */
  object?: StoredObject
}

export interface ListQuery {
  apiVersion?: string
  kind?: string
  namespace?: string
  /** Kubernetes selector syntax (`a=b,c!=d,e in (x,y)`) or a parsed selector. */
  labelSelector?: string | LabelSelector
}

export interface ApplyOptions {
  origin: ObjectOrigin
}

export interface DeleteOptions {
  origin: ObjectOrigin
  /** Report `not-found` instead of failing the whole batch with `store.not-found`. */
  missingOk?: boolean
}

interface ObjectRow {
  api_version: string
  kind: string
  namespace: string
  name: string
  uid: string
  generation: number
  resource_version: number
  spec_hash: string
  origin: ObjectOrigin
  created_at: string
  labels: string
  annotations: string
  spec: string
  status: string
}

const EMPTY = '{}'

export function refOf(obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string | undefined } }): ObjectRef {
  return { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace ?? DEFAULT_NAMESPACE, name: obj.metadata.name }
}

function rowToObject(r: ObjectRow): StoredObject {
  const labels = r.labels === EMPTY ? undefined : (JSON.parse(r.labels) as Record<string, string>)
  const annotations = r.annotations === EMPTY ? undefined : (JSON.parse(r.annotations) as Record<string, string>)
  return {
    apiVersion: r.api_version,
    kind: r.kind,
    metadata: {
      name: r.name,
      namespace: r.namespace,
      uid: r.uid,
      generation: r.generation,
      resourceVersion: String(r.resource_version),
      creationTimestamp: r.created_at,
      ...(labels ? { labels } : {}),
      ...(annotations ? { annotations } : {}),
      origin: r.origin,
    },
    spec: JSON.parse(r.spec) as unknown,
    status: JSON.parse(r.status) as ObjectStatus,
  }
}

export class ObjectTable {
  readonly #get: Statement
  readonly #insert: Statement
  readonly #update: Statement
  readonly #updateStatus: Statement
  readonly #delete: Statement
  readonly #all: Statement
  readonly #countByKind: Statement

  constructor(
    private readonly db: Database,
    private readonly writer: Writer,
    private readonly events: EventLog,
    private readonly nodeName: string | undefined,
  ) {
    this.#get = db.prepare(`SELECT * FROM objects WHERE api_version = ? AND kind = ? AND namespace = ? AND name = ?`)
    this.#insert = db.prepare(
      `INSERT INTO objects (api_version, kind, namespace, name, uid, generation, resource_version, spec_hash, origin,
         created_at, labels, annotations, spec, status)
       VALUES (@api_version, @kind, @namespace, @name, @uid, @generation, @resource_version, @spec_hash, @origin,
         @created_at, @labels, @annotations, @spec, @status)`,
    )
    this.#update = db.prepare(
      `UPDATE objects SET generation = @generation, resource_version = @resource_version, spec_hash = @spec_hash,
         origin = @origin, labels = @labels, annotations = @annotations, spec = @spec, status = @status
       WHERE api_version = @api_version AND kind = @kind AND namespace = @namespace AND name = @name`,
    )
    this.#updateStatus = db.prepare(`UPDATE objects SET resource_version = ?, status = ? WHERE api_version = ? AND kind = ? AND namespace = ? AND name = ?`)
    this.#delete = db.prepare(`DELETE FROM objects WHERE api_version = ? AND kind = ? AND namespace = ? AND name = ?`)
    this.#all = db.prepare(`SELECT * FROM objects ORDER BY api_version, kind, namespace, name`)
    this.#countByKind = db.prepare(`SELECT api_version, kind, COUNT(*) AS n FROM objects GROUP BY api_version, kind ORDER BY api_version, kind`)
  }

  readonly #statements = new Map<string, Statement>()
  /** The few filter shapes repeat, so their statements are compiled once. */
  #prepared(sql: string): Statement {
    let st = this.#statements.get(sql)
    if (!st) this.#statements.set(sql, (st = this.db.prepare(sql)))
    return st
  }

  #row(ref: ObjectRef): ObjectRow | undefined {
    return this.#get.get(ref.apiVersion, ref.kind, ref.namespace, ref.name) as ObjectRow | undefined
  }

  get(ref: ObjectRef): StoredObject | undefined {
    const r = this.#row(ref)
    return r ? rowToObject(r) : undefined
  }

  /** Like `get`, but a missing object is `store.not-found`. */
  require(ref: ObjectRef): StoredObject {
    const o = this.get(ref)
    if (!o) throw new StoreNotFoundError(ref)
    return o
  }

  list(q: ListQuery = {}): StoredObject[] {
    const where: string[] = []
    const args: string[] = []
    if (q.apiVersion !== undefined) {
      where.push('api_version = ?')
      args.push(q.apiVersion)
    }
    if (q.kind !== undefined) {
      where.push('kind = ?')
      args.push(q.kind)
    }
    if (q.namespace !== undefined) {
      where.push('namespace = ?')
      args.push(q.namespace)
    }
    const sql = `SELECT * FROM objects ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY api_version, kind, namespace, name`
    let rows = this.#prepared(sql).all(...args) as ObjectRow[]
    if (q.labelSelector !== undefined) {
      const sel = typeof q.labelSelector === 'string' ? parseLabelSelector(q.labelSelector) : q.labelSelector
      rows = rows.filter((r) => matchesLabelSelector(sel, JSON.parse(r.labels) as Record<string, string>))
    }
    return rows.map(rowToObject)
  }

  /**
   * Creates or updates every object in ONE transaction: any failure (conflict, read-only, duplicate) leaves
   * the store untouched. `metadata.resourceVersion` on input is a precondition.
   */
  apply(objs: readonly ParsedObject[], opts: ApplyOptions): ApplyResult[] {
    const seen = new Map<string, number>()
    objs.forEach((o, i) => {
      const key = refKey(refOf(o))
      const first = seen.get(key)
      if (first !== undefined) throw new DuplicateObjectError(refOf(o), first, i)
      seen.set(key, i)
    })
    return this.writer.run(() => objs.map((o) => this.#applyOne(o, opts.origin)))
  }

  #applyOne(o: ParsedObject, origin: ObjectOrigin): ApplyResult {
    const ref = refOf(o)
    const row = this.#row(ref)
    const labels = canonicalJson(o.metadata.labels ?? {})
    const annotations = canonicalJson(o.metadata.annotations ?? {})
    const specHash = computeSpecHash(o.spec)
    const precondition = o.metadata.resourceVersion
    const now = new Date()
    if (!row) {
      if (precondition !== undefined) throw new StoreConflictError(ref, precondition, undefined)
      const next: ObjectRow = {
        api_version: ref.apiVersion,
        kind: ref.kind,
        namespace: ref.namespace,
        name: ref.name,
        uid: randomUUID(),
        generation: 1,
        resource_version: this.writer.nextResourceVersion(),
        spec_hash: specHash,
        origin,
        created_at: now.toISOString(),
        labels,
        annotations,
        spec: JSON.stringify(o.spec ?? {}),
        status: JSON.stringify(computeInitialStatus(o.spec, this.nodeName, now)),
      }
      this.#insert.run(next)
      const object = rowToObject(next)
      this.events.append({ type: 'Normal', reason: 'Created', message: `created by ${origin} apply (generation 1)`, object: { ...ref, uid: next.uid } }, now)
      this.writer.emit({ type: 'ADDED', object, resourceVersion: next.resource_version })
      return { ref, action: 'created', object }
    }
    if (origin === 'local' && row.origin === 'hub') throw new StoreReadOnlyError(ref, 'apply')
    if (precondition !== undefined && precondition !== String(row.resource_version)) {
      throw new StoreConflictError(ref, precondition, String(row.resource_version))
    }
    const specChanged = specHash !== row.spec_hash
    if (!specChanged && labels === row.labels && annotations === row.annotations && origin === row.origin) {
      return { ref, action: 'unchanged', object: rowToObject(row) }
    }
    const status = specChanged ? computeStatusAfterSpecChange(JSON.parse(row.status) as ObjectStatus, o.spec, this.nodeName, now) : undefined
    const next: ObjectRow = {
      ...row,
      generation: specChanged ? row.generation + 1 : row.generation,
      resource_version: this.writer.nextResourceVersion(),
      spec_hash: specHash,
      origin,
      labels,
      annotations,
      spec: specChanged ? JSON.stringify(o.spec ?? {}) : row.spec,
      status: status ? JSON.stringify(status) : row.status,
    }
    this.#update.run(next)
    const object = rowToObject(next)
    const what = [
      specChanged ? `spec (generation ${next.generation})` : '',
      labels !== row.labels || annotations !== row.annotations ? 'metadata' : '',
      origin !== row.origin ? `origin ${row.origin} -> ${origin}` : '',
    ].filter(Boolean)
    this.events.append({ type: 'Normal', reason: 'Configured', message: `${origin} apply changed ${what.join(', ')}`, object: { ...ref, uid: row.uid } }, now)
    // The rule for one key claimed by both: the hub's object wins (the fleet is the source of truth), loudly. The
    // replaced local spec is kept in a Warning event, so an operator can re-create it under another name.
    const takenOver = origin === 'hub' && row.origin === 'local'
    if (takenOver) {
      const localSpec = row.spec.length > TAKEOVER_SPEC_BYTES ? `${row.spec.slice(0, TAKEOVER_SPEC_BYTES)}... (truncated)` : row.spec
      this.events.append(
        {
          type: 'Warning',
          reason: 'TakenOverByHub',
          message: `the hub's object replaced a local one with the same key (local generation ${row.generation}, created ${row.created_at}); local spec was ${localSpec}`,
          object: { ...ref, uid: row.uid },
        },
        now,
      )
    }
    this.writer.emit({ type: 'MODIFIED', object, resourceVersion: next.resource_version })
    return { ref, action: 'configured', object, ...(takenOver ? { takenOverFromLocal: true } : {}) }
  }

  /** Deletes every ref in ONE transaction. Hub deletes skip objects that were created locally. */
  delete(refs: readonly ObjectRef[], opts: DeleteOptions): DeleteResult[] {
    return this.writer.run(() =>
      refs.map((ref): DeleteResult => {
        const row = this.#row(ref)
        if (!row) {
          if (!opts.missingOk) throw new StoreNotFoundError(ref)
          return { ref, action: 'not-found' }
        }
        if (opts.origin === 'local' && row.origin === 'hub') throw new StoreReadOnlyError(ref, 'delete')
        if (opts.origin === 'hub' && row.origin === 'local') return { ref, action: 'not-owned' }
        this.#delete.run(ref.apiVersion, ref.kind, ref.namespace, ref.name)
        const rv = this.writer.nextResourceVersion()
        const object = rowToObject({ ...row, resource_version: rv })
        this.events.append({ type: 'Normal', reason: 'Deleted', message: `deleted by ${opts.origin}`, object: { ...ref, uid: row.uid } })
        this.writer.emit({ type: 'DELETED', object, resourceVersion: rv })
        return { ref, action: 'deleted', object }
      }),
    )
  }

  /**
   * Replaces the status (reconcilers, renderers). Never bumps `generation`; an identical status is a no-op.
   * On its own (not inside a batch) it commits without fsync: a crash may lose it, and the next pass rewrites it.
   */
  setStatus(ref: ObjectRef, status: ObjectStatus): StoredObject {
    return this.writer.run(
      () => {
        const row = this.#row(ref)
        if (!row) throw new StoreNotFoundError(ref)
        const text = JSON.stringify(status)
        if (canonicalJson(status) === canonicalJson(JSON.parse(row.status))) return rowToObject(row)
        const rv = this.writer.nextResourceVersion()
        this.#updateStatus.run(rv, text, ref.apiVersion, ref.kind, ref.namespace, ref.name)
        const object = rowToObject({ ...row, resource_version: rv, status: text })
        this.writer.emit({ type: 'MODIFIED', object, resourceVersion: rv })
        return object
      },
      { durable: false },
    ) // status is observed state: the reconcilers write it again after a crash
  }

  /** Every row with every column, in key order: two dumps are equal iff the table content is. */
  dump(): StoredObject[] {
    return (this.#all.all() as ObjectRow[]).map((r) => ({ ...rowToObject(r), specHash: r.spec_hash }) as StoredObject)
  }

  countByKind(): { apiVersion: string; kind: string; count: number }[] {
    return (this.#countByKind.all() as { api_version: string; kind: string; n: number }[]).map((r) => ({
      apiVersion: r.api_version,
      kind: r.kind,
      count: r.n,
    }))
  }
}
