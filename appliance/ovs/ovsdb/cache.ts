/**
 * The monitor cache: every monitored row by table and uuid, plus a `name` index for tables that have a unique
 * `name` column (Bridge, Port, Interface). Rows are immutable snapshots: an update replaces the row object, so a
 * reader holding a row never sees it change.
 *
 * Filled only by the client's monitor (initial reply, update/update2/update3 notifications) and by a full resync
 * (`replaceWith`, which diffs a freshly built cache against this one so deleted rows produce delete changes).
 * `apply*` mutate the cache for a whole message and return the changes; the client emits them only after the
 * message is fully applied, so listeners always see a consistent snapshot (never half a transaction).
 */
import { isRecord } from '../../../api/is-record.js'
import { OvsdbProtocolError } from './errors.js'
import { applyDatumDiff, datumEquals, decodeDatum, defaultDatum, type Datum } from './notation.js'
import { decodeTypedRow, type BridgeRow, type InterfaceRow, type OpenVSwitchRow, type PortRow, type Row, type TypedRows } from './rows.js'
import type { DatabaseSchema, TableSchema } from './schema.js'

export type ChangeKind = 'insert' | 'modify' | 'delete'

export interface RowChange<R extends Row = Row> {
  table: string
  uuid: string
  kind: ChangeKind
  /** The row before (modify, delete). */
  old?: R
  /** The row after (insert, modify). */
  new?: R
}

type RowUpdate2 = { initial?: Record<string, unknown>; insert?: Record<string, unknown>; modify?: Record<string, unknown>; delete?: null }
type RowUpdate = { old?: Record<string, unknown>; new?: Record<string, unknown> }

/**
 * Shape check of `<table-updates>`/`<table-updates2>` at the edge. Hand-written rather than zod records: those
 * copy every row of a 2,000-row update (80 ms observed); the rows themselves are decoded through the schema and
 * validated by the typed row schemas.
 */
function checkTableUpdates<T>(json: unknown, what: string, checkRow: (u: Record<string, unknown>) => string | undefined): Record<string, Record<string, T>> {
  const fail = (path: string, message: string): never => {
    throw new OvsdbProtocolError(`malformed ${what}: ${path}: ${message}`, { path })
  }
  if (!isRecord(json)) fail('', 'not an object')
  for (const [table, rows] of Object.entries(json as Record<string, unknown>)) {
    if (!isRecord(rows)) fail(table, 'not an object')
    for (const [uuid, update] of Object.entries(rows as Record<string, unknown>)) {
      if (!isRecord(update)) fail(`${table}.${uuid}`, 'not an object')
      const problem = checkRow(update as Record<string, unknown>)
      if (problem) fail(`${table}.${uuid}`, problem)
    }
  }
  return json as Record<string, Record<string, T>>
}

function checkRowUpdate2(u: Record<string, unknown>): string | undefined {
  const keys = Object.keys(u)
  if (keys.length !== 1) return 'a row-update2 holds exactly one of initial, insert, modify, delete'
  const key = keys[0]!
  if (key === 'delete') return u.delete === null ? undefined : 'delete must be null'
  if (key !== 'initial' && key !== 'insert' && key !== 'modify') return `unknown member ${key}`
  return isRecord(u[key]) ? undefined : `${key} is not an object`
}

function checkRowUpdate(u: Record<string, unknown>): string | undefined {
  for (const [key, value] of Object.entries(u)) {
    if (key !== 'old' && key !== 'new') return `unknown member ${key}`
    if (!isRecord(value)) return `${key} is not an object`
  }
  return undefined
}

/** The cache cannot follow the server's updates (a row it does not hold, a duplicate insert): resync from scratch. */
export class CacheInconsistentError extends OvsdbProtocolError {}

/**
 * `_uuid` is the key; `_version` is not kept: ovsdb-server assigns new versions when it reloads a database file,
 * so after a restart every row would look modified in a full-resync diff.
 */
const IGNORED_COLUMNS = new Set(['_uuid', '_version'])

type Staged = [table: string, uuid: string, old: Row | undefined, next: Row | undefined]

export class TableCache {
  private readonly tables = new Map<string, Map<string, Row>>()
  private readonly names = new Map<string, Map<string, string>>()

  /**
   * @param columns monitored columns per table (undefined = all columns of the schema)
   */
  private currentSchema: DatabaseSchema

  constructor(
    schema: DatabaseSchema,
    tables: Iterable<string>,
    private readonly columns: (table: string) => readonly string[] | undefined = () => undefined,
  ) {
    this.currentSchema = schema
    for (const table of tables) {
      this.tables.set(table, new Map())
      const ts = schema.tables.get(table)
      if (ts?.columns.get('name')?.kind === 'scalar' && ts.indexes.some((ix) => ix.length === 1 && ix[0] === 'name')) this.names.set(table, new Map())
    }
  }

  /** The schema the rows were decoded with (replaced on a resync against an upgraded server). */
  get schema(): DatabaseSchema {
    return this.currentSchema
  }

  /** A new empty cache with the same schema and tables (for a full resync). */
  buildEmpty(): TableCache {
    return new TableCache(this.schema, this.tables.keys(), this.columns)
  }

  get tableNames(): string[] {
    return [...this.tables.keys()]
  }

  // ---- reads (synchronous, snapshot) --------------------------------------------------------------

  rows<T extends keyof TypedRows>(table: T): ReadonlyMap<string, TypedRows[T]>
  rows(table: string): ReadonlyMap<string, Row>
  rows(table: string): ReadonlyMap<string, Row> {
    return this.tables.get(table) ?? new Map()
  }

  get<T extends keyof TypedRows>(table: T, uuid: string): TypedRows[T] | undefined
  get(table: string, uuid: string): Row | undefined
  get(table: string, uuid: string): Row | undefined {
    return this.tables.get(table)?.get(uuid)
  }

  /** Lookup by the unique `name` index (Bridge, Port, Interface). */
  getByName<T extends keyof TypedRows>(table: T, name: string): TypedRows[T] | undefined
  getByName(table: string, name: string): Row | undefined
  getByName(table: string, name: string): Row | undefined {
    const uuid = this.names.get(table)?.get(name)
    return uuid === undefined ? undefined : this.tables.get(table)?.get(uuid)
  }

  /** The single `Open_vSwitch` root row. */
  openVSwitch(): OpenVSwitchRow | undefined {
    return this.rows('Open_vSwitch').values().next().value
  }
  bridge(name: string): BridgeRow | undefined {
    return this.getByName('Bridge', name)
  }
  port(name: string): PortRow | undefined {
    return this.getByName('Port', name)
  }
  interface(name: string): InterfaceRow | undefined {
    return this.getByName('Interface', name)
  }
  bridges(): BridgeRow[] {
    return [...this.rows('Bridge').values()]
  }
  ports(): PortRow[] {
    return [...this.rows('Port').values()]
  }
  interfaces(): InterfaceRow[] {
    return [...this.rows('Interface').values()]
  }
  /** Ports of a bridge, resolved through the cache (unknown uuids skipped). */
  portsOf(bridge: BridgeRow): PortRow[] {
    return bridge.ports.map((u) => this.get('Port', u)).filter((p): p is PortRow => p !== undefined)
  }
  interfacesOf(port: PortRow): InterfaceRow[] {
    return port.interfaces.map((u) => this.get('Interface', u)).filter((i): i is InterfaceRow => i !== undefined)
  }

  // ---- writes (monitor only) -------------------------------------------------------------------

  /** Apply `<table-updates2>` (monitor_cond / monitor_cond_since reply, update2, update3). */
  applyTableUpdates2(json: unknown): RowChange[] {
    const updates = checkTableUpdates<RowUpdate2>(json, 'table-updates2', checkRowUpdate2)
    const staged: Staged[] = []
    for (const [table, rows] of Object.entries(updates)) {
      const schema = this.tableSchema(table)
      if (!schema) continue
      for (const [uuid, update] of Object.entries(rows)) {
        const current = this.get(table, uuid)
        const full = update.initial ?? update.insert
        if (full !== undefined) {
          if (current) throw new CacheInconsistentError(`insert of ${table} ${uuid}, which the cache already holds`, { table, uuid })
          staged.push([table, uuid, undefined, this.buildRow(schema, uuid, full)])
        } else if (update.modify !== undefined) {
          if (!current) throw new CacheInconsistentError(`modify of ${table} ${uuid}, which the cache does not hold`, { table, uuid })
          const next: Record<string, Datum> = { ...current }
          for (const [column, diff] of Object.entries(update.modify)) {
            const type = IGNORED_COLUMNS.has(column) ? undefined : schema.columns.get(column)
            if (type) next[column] = applyDatumDiff(current[column] ?? defaultDatum(type), diff, type)
          }
          staged.push([table, uuid, current, decodeTypedRow(table, next as Row)])
        } else {
          if (!current) throw new CacheInconsistentError(`delete of ${table} ${uuid}, which the cache does not hold`, { table, uuid })
          staged.push([table, uuid, current, undefined])
        }
      }
    }
    return this.commit(staged)
  }

  /** Apply RFC 7047 `<table-updates>` (plain `monitor` reply and `update` notifications). */
  applyTableUpdates(json: unknown): RowChange[] {
    const updates = checkTableUpdates<RowUpdate>(json, 'table-updates', checkRowUpdate)
    const staged: Staged[] = []
    for (const [table, rows] of Object.entries(updates)) {
      const schema = this.tableSchema(table)
      if (!schema) continue
      for (const [uuid, update] of Object.entries(rows)) {
        const current = this.get(table, uuid)
        if (update.new === undefined) {
          if (current) staged.push([table, uuid, current, undefined])
          continue
        }
        if (!current) {
          staged.push([table, uuid, undefined, this.buildRow(schema, uuid, update.new)])
          continue
        }
        // "new" holds whole values (not diffs); columns it omits keep their value.
        const next: Record<string, Datum> = { ...current }
        for (const [column, value] of Object.entries(update.new)) {
          const type = IGNORED_COLUMNS.has(column) ? undefined : schema.columns.get(column)
          if (type) next[column] = decodeDatum(value, type)
        }
        staged.push([table, uuid, current, decodeTypedRow(table, next as Row)])
      }
    }
    return this.commit(staged)
  }

  /** Second phase of an apply: nothing above mutates the cache, so a bad message leaves it untouched. */
  private commit(staged: readonly Staged[]): RowChange[] {
    return staged.map(([table, uuid, old, next]) => this.put(table, uuid, old, next))
  }

  /**
   * Take over the rows of `fresh` (a cache rebuilt by a full resync) and return what changed relative to the
   * rows held before: rows missing from `fresh` are deletes, never left behind.
   */
  replaceWith(fresh: TableCache): RowChange[] {
    const changes: RowChange[] = []
    this.currentSchema = fresh.schema
    for (const [table, oldRows] of this.tables) {
      const newRows = fresh.tables.get(table) ?? new Map<string, Row>()
      for (const [uuid, old] of oldRows) {
        const next = newRows.get(uuid)
        if (!next) changes.push({ table, uuid, kind: 'delete', old })
        else if (!rowEquals(old, next)) changes.push({ table, uuid, kind: 'modify', old, new: next })
      }
      for (const [uuid, next] of newRows) if (!oldRows.has(uuid)) changes.push({ table, uuid, kind: 'insert', new: next })
      this.tables.set(table, new Map(newRows))
      if (this.names.has(table)) this.names.set(table, new Map(fresh.names.get(table)))
    }
    return changes
  }

  /** Drop every row, returning delete changes (used when the client is closed for good, not on reconnect). */
  clear(): RowChange[] {
    const changes: RowChange[] = []
    for (const [table, rows] of this.tables) {
      for (const [uuid, old] of rows) changes.push({ table, uuid, kind: 'delete', old })
      rows.clear()
      this.names.get(table)?.clear()
    }
    return changes
  }

  private tableSchema(table: string): TableSchema | undefined {
    return this.tables.has(table) ? this.schema.tables.get(table) : undefined
  }

  private buildRow(schema: TableSchema, uuid: string, wire: Record<string, unknown>): Row {
    const row: Record<string, Datum> = { _uuid: uuid }
    // initial/insert omit columns holding their default value.
    const selected = this.columns(schema.name)
    for (const [column, type] of schema.columns) {
      if (IGNORED_COLUMNS.has(column) || (selected && !selected.includes(column))) continue
      row[column] = column in wire ? decodeDatum(wire[column], type) : defaultDatum(type)
    }
    return decodeTypedRow(schema.name, row as Row)
  }

  private put(table: string, uuid: string, old: Row | undefined, next: Row | undefined): RowChange {
    const rows = this.tables.get(table)!
    const names = this.names.get(table)
    if (names && old && typeof old.name === 'string' && names.get(old.name) === uuid) names.delete(old.name)
    if (next) {
      rows.set(uuid, next)
      if (names && typeof next.name === 'string') names.set(next.name, uuid)
    } else {
      rows.delete(uuid)
    }
    if (!old) return { table, uuid, kind: 'insert', new: next! }
    if (!next) return { table, uuid, kind: 'delete', old }
    return { table, uuid, kind: 'modify', old, new: next }
  }
}

/** Column-wise equality of two rows of the same table. */
export function rowEquals(a: Row, b: Row): boolean {
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  return keys.every((k) => datumEquals(a[k], b[k]))
}
