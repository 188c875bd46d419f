/**
 * RFC 7047 §5.2 operations and a builder for one transaction. Building is pure (no I/O): helpers from different
 * reconcilers can append to the same builder and the client sends it as one atomic `transact`.
 *
 * Values are encoded through the column type when the builder has the schema (the client's `txn()` does): then a
 * uuid column accepts a cached row's uuid string or the `NamedUuid` that `insert` returned. Without a schema,
 * values are encoded schema-less (arrays = sets, objects = maps, `uuid()`/`namedUuid()` for references).
 */
import { type OvsdbOperationError, OvsdbNotationError, buildOperationError, type OperationSummary, type OvsdbErrorObject } from './errors.js'
import { NamedUuid, encodeAtom, encodeDatum, encodeUntyped, type EncodableAtom, type EncodableDatum, type Json } from './notation.js'
import type { ColumnType, DatabaseSchema } from './schema.js'

export type ConditionFunction = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'includes' | 'excludes'
export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete'

/** Wire condition `[column, function, value]` (RFC 7047 §5.1). */
export type Condition = [string, ConditionFunction, Json]
export type Mutation = [string, Mutator, Json]

export type Operation =
  | { op: 'insert'; table: string; row: Record<string, Json>; 'uuid-name'?: string; uuid?: string }
  | { op: 'select'; table: string; where: Condition[]; columns?: string[] }
  | { op: 'update'; table: string; where: Condition[]; row: Record<string, Json> }
  | { op: 'mutate'; table: string; where: Condition[]; mutations: Mutation[] }
  | { op: 'delete'; table: string; where: Condition[] }
  | { op: 'wait'; table: string; where: Condition[]; columns: string[]; until: '==' | '!='; rows: Record<string, Json>[]; timeout?: number }
  | { op: 'commit'; durable: boolean }
  | { op: 'abort' }
  | { op: 'comment'; comment: string }
  | { op: 'assert'; lock: string }

/** Conditions as the builder takes them: values in memory notation, encoded through the column type. */
export type Where = readonly (readonly [string, ConditionFunction, EncodableDatum])[]
export type MutationSpec = readonly [string, Mutator, EncodableDatum]
export type RowSpec = Readonly<Record<string, EncodableDatum>>

/** One element of a transact result (RFC 7047 §5.2): `{uuid}`, `{rows}`, `{count}`, `{}` or an error object. */
export type OperationResult = {
  uuid?: [string, string]
  rows?: Record<string, Json>[]
  count?: number
  error?: string
  details?: string
  syntax?: string
} | null

/** `where` matching one row by uuid. */
export function whereUuid(uuid: string): Where {
  return [['_uuid', '==', uuid]]
}
/** `where` matching one row by its `name` (Bridge, Port, Interface). */
export function whereName(name: string): Where {
  return [['name', '==', name]]
}

export class TransactionBuilder {
  readonly ops: Operation[] = []
  private named = 0
  private nextCfgSelect: number | undefined

  constructor(private readonly schema?: DatabaseSchema) {}

  /**
   * Insert a row; returns the named UUID that later (or earlier: forward references work) ops use to refer to it.
   * @example const iface = txn.insert('Interface', { name: 'p0' }); txn.insert('Port', { name: 'p0', interfaces: [iface] })
   */
  insert(table: string, row: RowSpec, options: { uuidName?: string } = {}): NamedUuid {
    const ref = new NamedUuid(options.uuidName ?? `row_${++this.named}`)
    this.ops.push({ op: 'insert', table, row: this.encodeRow(table, row), 'uuid-name': ref.name })
    return ref
  }

  update(table: string, where: Where, row: RowSpec): this {
    this.ops.push({ op: 'update', table, where: this.encodeWhere(table, where), row: this.encodeRow(table, row) })
    return this
  }

  mutate(table: string, where: Where, mutations: readonly MutationSpec[]): this {
    this.ops.push({ op: 'mutate', table, where: this.encodeWhere(table, where), mutations: mutations.map((m) => this.encodeMutation(table, m)) })
    return this
  }

  delete(table: string, where: Where): this {
    this.ops.push({ op: 'delete', table, where: this.encodeWhere(table, where) })
    return this
  }

  /** Add a select; returns its op index (read `results[index].rows`). */
  select(table: string, where: Where, columns?: string[]): number {
    this.ops.push(columns ? { op: 'select', table, where: this.encodeWhere(table, where), columns } : { op: 'select', table, where: this.encodeWhere(table, where) })
    return this.ops.length - 1
  }

  /** RFC 7047 §5.2.6 `wait`: with timeout 0 the transaction fails at once (`timed out`) unless the rows match. */
  wait(table: string, where: Where, columns: string[], rows: readonly RowSpec[], options: { until?: '==' | '!='; timeoutMs?: number } = {}): this {
    this.ops.push({
      op: 'wait',
      table,
      where: this.encodeWhere(table, where),
      columns,
      until: options.until ?? '==',
      rows: rows.map((r) => this.encodeRow(table, r)),
      timeout: options.timeoutMs ?? 0,
    })
    return this
  }

  /**
   * Optimistic concurrency on a row read from the cache (the IDL's `verify`): the transaction fails with a
   * retryable `OvsdbTimedOutError` (code `ovsdb.conflict`) if any of `columns` changed since.
   */
  verify(table: string, row: { readonly _uuid: string; readonly [column: string]: unknown }, columns: readonly string[]): this {
    const expected: Record<string, EncodableDatum> = {}
    for (const c of columns) expected[c] = row[c] as EncodableDatum
    return this.wait(table, whereUuid(row._uuid), [...columns], [expected])
  }

  comment(text: string): this {
    this.ops.push({ op: 'comment', comment: text })
    return this
  }

  abort(): this {
    this.ops.push({ op: 'abort' })
    return this
  }

  /**
   * `Open_vSwitch.next_cfg += 1` and a select of the new value, so the caller can wait for ovs-vswitchd to report
   * it in `cur_cfg` (the handshake `ovs-vsctl` uses). Only once per transaction.
   */
  incrementNextCfg(): this {
    if (this.nextCfgSelect !== undefined) return this
    this.mutate('Open_vSwitch', [], [['next_cfg', '+=', 1]])
    this.nextCfgSelect = this.select('Open_vSwitch', [], ['next_cfg'])
    return this
  }

  /** Op index of the `next_cfg` select, if `incrementNextCfg` was called. */
  get nextCfgIndex(): number | undefined {
    return this.nextCfgSelect
  }

  get isEmpty(): boolean {
    return this.ops.every((o) => o.op === 'comment')
  }

  private columnType(table: string, column: string): ColumnType | undefined {
    if (!this.schema) return undefined
    const type = this.schema.tables.get(table)?.columns.get(column)
    if (!type && this.schema.tables.has(table)) throw new OvsdbNotationError(`table ${table} has no column ${column}`, { table, column })
    return type
  }

  private encodeValue(table: string, column: string, value: EncodableDatum): Json {
    const type = this.columnType(table, column)
    try {
      return type ? encodeDatum(value, type) : encodeUntyped(value)
    } catch (err) {
      if (err instanceof OvsdbNotationError) throw new OvsdbNotationError(`${table}.${column}: ${err.message}`, { table, column })
      throw err
    }
  }

  private encodeRow(table: string, row: RowSpec): Record<string, Json> {
    const out: Record<string, Json> = {}
    for (const [column, value] of Object.entries(row)) if (column !== '_uuid' && column !== '_version') out[column] = this.encodeValue(table, column, value)
    return out
  }

  private encodeWhere(table: string, where: Where): Condition[] {
    return where.map(([column, fn, value]) => [column, fn, this.encodeValue(table, column, value)])
  }

  private encodeMutation(table: string, [column, mutator, value]: MutationSpec): Mutation {
    const type = this.columnType(table, column)
    if (!type) return [column, mutator, encodeUntyped(value)]
    if (mutator !== 'insert' && mutator !== 'delete') return [column, mutator, encodeAtom(value as EncodableAtom, type.key)]
    // Map delete may name keys only (a set of keys, RFC 7047 §5.1).
    if (type.kind === 'map' && (Array.isArray(value) || value instanceof Set)) {
      return [column, mutator, encodeDatum(value, { kind: 'set', key: type.key, min: 0, max: Infinity })]
    }
    const asCollection: ColumnType = type.kind === 'map' ? type : { ...type, kind: 'set', min: 0, max: Infinity }
    return [column, mutator, encodeDatum(value, asCollection)]
  }
}

/** What an error reports about an op: table, where, columns and the row's `name`, never the whole row. */
export function summarizeOperation(op: Operation): OperationSummary {
  const summary: OperationSummary = { op: op.op }
  if ('table' in op) summary.table = op.table
  if ('where' in op) summary.where = op.where
  if (op.op === 'insert' && op['uuid-name']) summary.uuidName = op['uuid-name']
  if (op.op === 'insert' || op.op === 'update') {
    summary.columns = Object.keys(op.row)
    if ('name' in op.row) summary.rowName = op.row.name
  }
  if (op.op === 'mutate') summary.columns = op.mutations.map((m) => m[0])
  if (op.op === 'wait') summary.columns = op.columns
  return summary
}

function isErrorResult(result: OperationResult): result is OvsdbErrorObject & OperationResult {
  return result !== null && typeof result === 'object' && typeof result.error === 'string'
}

/** Ops that leave the database the same whether they run once or twice. */
const IDEMPOTENT_OPS: ReadonlySet<Operation['op']> = new Set(['select', 'update', 'delete', 'wait', 'comment', 'assert', 'commit', 'abort'])

/**
 * Whether a transaction whose outcome is unknown (timed out, connection lost) may be sent again: it holds a
 * `wait` or `assert` guard (a committed first attempt makes the repeat fail instead of applying twice), or only
 * idempotent ops. An `insert` or `mutate` without a guard could be applied twice.
 */
export function isRetrySafe(ops: readonly Operation[]): boolean {
  return ops.some((op) => op.op === 'wait' || op.op === 'assert') || ops.every((op) => IDEMPOTENT_OPS.has(op.op))
}

/** A row the caller knows by uuid (the monitor cache), to tie a commit-time error naming that uuid to an op. */
export type RowLookup = (uuid: string) => { table: string; row: Readonly<Record<string, unknown>> } | undefined

/**
 * Typed errors of a transact result, by operation index. A commit-time failure (constraint violation, duplicate
 * index, maxRows, referential integrity) comes as one extra element after the last op's result; we name the op
 * that caused it when the details let us find it (`lookup` resolves row uuids that no op names directly).
 */
export function checkOperationResults(results: readonly OperationResult[], ops: readonly Operation[], lookup?: RowLookup): OvsdbOperationError[] {
  const errors: OvsdbOperationError[] = []
  results.forEach((result, index) => {
    if (!isErrorResult(result)) return
    const op = ops[index]
    if (op) {
      errors.push(buildOperationError(result, index, summarizeOperation(op)))
      return
    }
    const culprit = attributeCommitError(result, ops, results, lookup)
    errors.push(buildOperationError(result, culprit ?? index, culprit === undefined ? undefined : { ...summarizeOperation(ops[culprit]!), atCommit: true }))
  })
  return errors
}

/**
 * Find the op behind a commit-time error from its details:
 * - duplicate index: `Transaction causes multiple rows in "Bridge" table to have identical values (br0) for index
 *   on column "name"` -> the insert/update writing that value;
 * - referential integrity: `Table Port column interfaces row <uuid> references nonexistent row <uuid>` or `cannot
 *   delete Interface row <uuid> because of 1 remaining reference(s)` -> for each uuid in order: the insert that
 *   created the row (by its result uuid), the op whose where names its `_uuid`, or the delete/update/mutate whose
 *   where matches the row as `lookup` knows it (a delete by name); last, the only delete on the table named.
 */
function attributeCommitError(error: OvsdbErrorObject, ops: readonly Operation[], results: readonly OperationResult[], lookup?: RowLookup): number | undefined {
  const details = error.details ?? ''
  const dup = /rows in "([^"]+)" table to have identical values \((.*)\) for index on columns? "([^"]+)"/.exec(details)
  if (dup) {
    const [, table, value, column] = dup
    const at = ops.findIndex((op) => (op.op === 'insert' || op.op === 'update') && op.table === table && column! in op.row && JSON.stringify(op.row[column!]) === JSON.stringify(value))
    return at >= 0 ? at : undefined
  }
  for (const [row] of details.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)) {
    const inserted = ops.findIndex((op, i) => op.op === 'insert' && results[i]?.uuid?.[1] === row)
    if (inserted >= 0) return inserted
    const named = ops.findIndex((op) => 'where' in op && op.where.some(([c, f, v]) => c === '_uuid' && f === '==' && Array.isArray(v) && v[1] === row))
    if (named >= 0) return named
    const known = lookup?.(row)
    if (known) {
      const matched = ops.findIndex(
        (op) => (op.op === 'delete' || op.op === 'update' || op.op === 'mutate') && op.table === known.table && op.where.length > 0 && op.where.every((c) => conditionHolds(c, known.row)),
      )
      if (matched >= 0) return matched
    }
  }
  const deleted = /cannot delete (\S+) row /.exec(details)?.[1]
  if (deleted) {
    const deletes = ops.flatMap((op, i) => (op.op === 'delete' && op.table === deleted ? [i] : []))
    if (deletes.length === 1) return deletes[0]
  }
  return undefined
}

/**
 * Whether an `==` condition on an atom holds for a row in memory notation (uuids as strings). Anything else
 * (sets, maps, other functions) is reported as not holding: attribution must never name the wrong op.
 */
function conditionHolds([column, fn, value]: Condition, row: Readonly<Record<string, unknown>>): boolean {
  if (fn !== '==') return false
  const actual = row[column]
  if (Array.isArray(value)) return value[0] === 'uuid' && actual === value[1]
  return (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') && actual === value
}

/** A successful transact: results by op index and the real uuid of every named insert. */
export class TransactionResult {
  constructor(
    readonly results: readonly OperationResult[],
    readonly ops: readonly Operation[],
    private readonly nextCfgIndex?: number,
  ) {}

  /** The uuid the server gave a row inserted with this named uuid. */
  uuidOf(ref: NamedUuid | string): string | undefined {
    const name = typeof ref === 'string' ? ref : ref.name
    const index = this.ops.findIndex((op) => op.op === 'insert' && op['uuid-name'] === name)
    return index >= 0 ? this.results[index]?.uuid?.[1] : undefined
  }

  /** The new `next_cfg` when the transaction called `incrementNextCfg`. */
  get nextCfg(): number | undefined {
    if (this.nextCfgIndex === undefined) return undefined
    const value = this.results[this.nextCfgIndex]?.rows?.[0]?.next_cfg
    return typeof value === 'number' ? value : undefined
  }
}
