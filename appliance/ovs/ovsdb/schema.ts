/**
 * The database schema as `get_schema` returns it (RFC 7047 §3.2), validated with zod at the edge and normalised
 * into column types the codecs can loop over: every column is one of `scalar` (exactly one atom), `optional`
 * (a set of 0..1 atoms), `set` (max > 1) or `map`. The kind decides both the in-memory shape of a value and how
 * an `update2` "modify" diff applies to it (`ovsdb_type_is_composite`: only max > 1 types carry diffs).
 */
import { z } from 'zod'
import { OvsdbSchemaError } from './errors.js'

export const ATOMIC_TYPES = ['integer', 'real', 'boolean', 'string', 'uuid'] as const
export type AtomicType = (typeof ATOMIC_TYPES)[number]

const AtomicTypeSchema = z.enum(ATOMIC_TYPES)
const BaseTypeWireSchema = z.union([
  AtomicTypeSchema,
  z.looseObject({
    type: AtomicTypeSchema,
    enum: z.unknown().optional(),
    refTable: z.string().optional(),
    refType: z.enum(['strong', 'weak']).optional(),
  }),
])
const ColumnTypeWireSchema = z.union([
  AtomicTypeSchema,
  z.looseObject({
    key: BaseTypeWireSchema,
    value: BaseTypeWireSchema.optional(),
    min: z.number().int().min(0).optional(),
    max: z.union([z.number().int().min(1), z.literal('unlimited')]).optional(),
  }),
])
const ColumnWireSchema = z.looseObject({
  type: ColumnTypeWireSchema,
  ephemeral: z.boolean().optional(),
  mutable: z.boolean().optional(),
})
const TableWireSchema = z.looseObject({
  columns: z.record(z.string(), ColumnWireSchema),
  maxRows: z.number().int().optional(),
  isRoot: z.boolean().optional(),
  indexes: z.array(z.array(z.string())).optional(),
})
export const DatabaseSchemaWireSchema = z.looseObject({
  name: z.string(),
  version: z.string().optional(),
  cksum: z.string().optional(),
  tables: z.record(z.string(), TableWireSchema),
})

export interface BaseType {
  type: AtomicType
  refTable?: string
  refType?: 'strong' | 'weak'
}

export type ColumnKind = 'scalar' | 'optional' | 'set' | 'map'

export interface ColumnType {
  kind: ColumnKind
  key: BaseType
  value?: BaseType
  min: number
  /** `Infinity` for "unlimited". */
  max: number
}

export interface TableSchema {
  name: string
  columns: ReadonlyMap<string, ColumnType>
  isRoot: boolean
  indexes: readonly (readonly string[])[]
}

export interface DatabaseSchema {
  name: string
  version: string | undefined
  tables: ReadonlyMap<string, TableSchema>
}

function normaliseBase(base: z.infer<typeof BaseTypeWireSchema>): BaseType {
  if (typeof base === 'string') return { type: base }
  const out: BaseType = { type: base.type }
  if (base.refTable !== undefined) out.refTable = base.refTable
  if (base.refType !== undefined) out.refType = base.refType
  return out
}

/** Normalise one column type (RFC 7047 §3.2 `<type>`). */
export function buildColumnType(wire: unknown): ColumnType {
  const parsed = ColumnTypeWireSchema.parse(wire)
  if (typeof parsed === 'string') return { kind: 'scalar', key: { type: parsed }, min: 1, max: 1 }
  const min = parsed.min ?? 1
  const max = parsed.max === 'unlimited' ? Infinity : (parsed.max ?? 1)
  const key = normaliseBase(parsed.key)
  if (parsed.value !== undefined) return { kind: 'map', key, value: normaliseBase(parsed.value), min, max }
  const kind: ColumnKind = max > 1 ? 'set' : min === 0 ? 'optional' : 'scalar'
  return { kind, key, min, max }
}

/** `_uuid` and `_version` exist in every table without being declared (RFC 7047 §3.2). */
const IMPLICIT_COLUMNS: ReadonlyArray<[string, ColumnType]> = [
  ['_uuid', { kind: 'scalar', key: { type: 'uuid' }, min: 1, max: 1 }],
  ['_version', { kind: 'scalar', key: { type: 'uuid' }, min: 1, max: 1 }],
]

/** Validate and normalise a `get_schema` result. */
export function parseDatabaseSchema(json: unknown): DatabaseSchema {
  const result = DatabaseSchemaWireSchema.safeParse(json)
  if (!result.success) {
    throw new OvsdbSchemaError('get_schema returned a document that is not an RFC 7047 schema', {
      issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    })
  }
  const tables = new Map<string, TableSchema>()
  for (const [name, table] of Object.entries(result.data.tables)) {
    const columns = new Map<string, ColumnType>(IMPLICIT_COLUMNS)
    for (const [column, def] of Object.entries(table.columns)) columns.set(column, buildColumnType(def.type))
    tables.set(name, { name, columns, isRoot: table.isRoot ?? false, indexes: table.indexes ?? [] })
  }
  return { name: result.data.name, version: result.data.version, tables }
}
