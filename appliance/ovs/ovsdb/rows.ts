/**
 * Typed rows of the `Open_vSwitch` schema tables the appliance reads (vswitch.ovsschema 8.x). Each schema lists
 * only the columns we use and validates those; the row keeps every other column as decoded, so a newer schema
 * with more columns decodes unchanged. (Validating only the typed columns, not `looseObject`, keeps zod off the
 * hot path: a 2,000-row update spent 85 ms in catch-all handling.) Values are in the in-memory notation of `notation.ts` (uuids as strings, optional columns as
 * `null`, maps as records).
 */
import { z } from 'zod'
import type { Datum } from './notation.js'
import { OvsdbSchemaError } from './errors.js'
import type { DatabaseSchema } from './schema.js'

/** A decoded row of any table. */
export type Row = { readonly _uuid: string } & { readonly [column: string]: Datum }

/** Columns without a typed field stay on the row as decoded. */
type OtherColumns = { readonly [column: string]: unknown }

const StringMap = z.record(z.string(), z.string())
const Uuids = z.array(z.string())

export const OpenVSwitchRowSchema = z.object({
  _uuid: z.string(),
  bridges: Uuids,
  next_cfg: z.number().int(),
  cur_cfg: z.number().int(),
  external_ids: StringMap,
  other_config: StringMap,
  ovs_version: z.string().nullable(),
  datapath_types: z.array(z.string()),
  iface_types: z.array(z.string()),
})
export type OpenVSwitchRow = z.infer<typeof OpenVSwitchRowSchema> & OtherColumns

export const BridgeRowSchema = z.object({
  _uuid: z.string(),
  name: z.string(),
  ports: Uuids,
  datapath_type: z.string(),
  fail_mode: z.string().nullable(),
  protocols: z.array(z.string()),
  controller: Uuids,
  external_ids: StringMap,
  other_config: StringMap,
})
export type BridgeRow = z.infer<typeof BridgeRowSchema> & OtherColumns

export const PortRowSchema = z.object({
  _uuid: z.string(),
  name: z.string(),
  interfaces: Uuids,
  tag: z.number().int().nullable(),
  trunks: z.array(z.number().int()),
  vlan_mode: z.string().nullable(),
  external_ids: StringMap,
  other_config: StringMap,
})
export type PortRow = z.infer<typeof PortRowSchema> & OtherColumns

export const InterfaceRowSchema = z.object({
  _uuid: z.string(),
  name: z.string(),
  type: z.string(),
  ofport: z.number().int().nullable(),
  ofport_request: z.number().int().nullable(),
  error: z.string().nullable(),
  mac_in_use: z.string().nullable(),
  mac: z.string().nullable(),
  admin_state: z.string().nullable(),
  link_state: z.string().nullable(),
  mtu: z.number().int().nullable(),
  mtu_request: z.number().int().nullable(),
  options: StringMap,
  external_ids: StringMap,
  other_config: StringMap,
  status: StringMap,
})
export type InterfaceRow = z.infer<typeof InterfaceRowSchema> & OtherColumns

/** Table name -> row schema for the tables with typed rows. */
export const TYPED_TABLES = {
  Open_vSwitch: OpenVSwitchRowSchema,
  Bridge: BridgeRowSchema,
  Port: PortRowSchema,
  Interface: InterfaceRowSchema,
} as const
export type TypedTable = keyof typeof TYPED_TABLES
export interface TypedRows {
  Open_vSwitch: OpenVSwitchRow
  Bridge: BridgeRow
  Port: PortRow
  Interface: InterfaceRow
}

export const DEFAULT_TABLES: readonly TypedTable[] = ['Open_vSwitch', 'Bridge', 'Port', 'Interface']

export function isTypedTable(table: string): table is TypedTable {
  return Object.hasOwn(TYPED_TABLES, table)
}

/** The typed columns of `table` (what a monitor must select at least), without `_uuid`. */
export function typedColumns(table: TypedTable): string[] {
  return Object.keys(TYPED_TABLES[table].shape).filter((column) => column !== '_uuid')
}

/** Fail at connect, not at the first row, when the server's schema lacks a column our typed rows need. */
export function checkTypedColumns(schema: DatabaseSchema, tables: Iterable<string>, monitored: (table: string) => readonly string[] | undefined): void {
  for (const table of tables) {
    if (!isTypedTable(table)) continue
    const columns = schema.tables.get(table)?.columns
    const selected = monitored(table)
    for (const column of Object.keys(TYPED_TABLES[table].shape)) {
      if (!columns?.has(column)) throw new OvsdbSchemaError(`server schema ${schema.name} ${schema.version ?? ''} lacks ${table}.${column}`, { context: { table, column } })
      if (selected && column !== '_uuid' && !selected.includes(column)) {
        throw new OvsdbSchemaError(`typed ${table} rows need column ${column}; add it to the monitored columns`, { context: { table, column } })
      }
    }
  }
}

/** Decode a generic row into its typed form when the table has one (zod at the edge); other tables pass through. */
export function decodeTypedRow(table: string, row: Row): Row {
  if (!isTypedTable(table)) return row
  const parsed = TYPED_TABLES[table].safeParse(row)
  if (!parsed.success) {
    throw new OvsdbSchemaError(`row ${row._uuid} of ${table} does not match the typed schema`, {
      context: { table, uuid: row._uuid },
      issues: parsed.error.issues.map((i) => ({ path: `${table}.${i.path.join('.')}`, message: i.message })),
    })
  }
  // The decoder already produced these values from the schema; zod checked the typed columns, keep all columns.
  return row
}
