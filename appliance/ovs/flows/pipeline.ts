/**
 * Pipeline tables as data (faucet `ValveTableConfig` / `_verify_flowmod`): each table declares the fields it may
 * match (and whether masked), the fields it may set, the tables it may go to, and whether it is exact-match.
 * Every generated flow is checked against its table, so a pipeline bug fails a unit test, not the data path.
 */
import { OXM_BY_NAME, type Masked, type OxmFieldName } from '../openflow/index.js'
import { FlowsInvalidError } from './errors.js'
import type { Flow } from './flow.js'
import type { FieldIssue } from '../../../api/errors.js'

export interface TableDef {
  readonly name: string
  readonly id: number
  /** Fields flows in this table may match: `exact`, or `masked` (masks allowed). */
  readonly match: Readonly<Partial<Record<OxmFieldName, 'exact' | 'masked'>>>
  /** Every non-default flow matches every declared field (a hash table in hardware). */
  readonly exactMatch?: boolean
  /** Fields flows may `set_field`. */
  readonly setFields?: readonly OxmFieldName[]
  /** Names of tables flows may `goto_table` to (each with a higher id). */
  readonly next?: readonly string[]
  /** Whether flows may write metadata. */
  readonly writeMetadata?: boolean
  /** Where a packet matching no flow goes: a table name, or null for drop (the default flow says so). */
  readonly missGoto?: string | null
  /** Cookies are owned per object; a table may insist on a non-zero one. */
  readonly requireCookie?: boolean
}

export interface Pipeline {
  readonly tables: readonly TableDef[]
  byName(name: string): TableDef
  byId(id: number): TableDef | undefined
}

/** One table declaration, checked for unknown fields. */
export function defineTable<T extends TableDef>(def: T): T {
  for (const f of [...Object.keys(def.match), ...(def.setFields ?? [])]) {
    if (!OXM_BY_NAME.has(f)) throw new FlowsInvalidError(`table ${def.name}: unknown field ${f}`, { table: def.name, field: f })
  }
  for (const [f, kind] of Object.entries(def.match)) {
    if (kind === 'masked' && !OXM_BY_NAME.get(f)!.maskable) {
      throw new FlowsInvalidError(`table ${def.name}: field ${f} cannot be masked`, { table: def.name, field: f })
    }
  }
  if (!Number.isInteger(def.id) || def.id < 0 || def.id > 254) throw new FlowsInvalidError(`table ${def.name}: id ${def.id} outside 0..254`)
  return def
}

/** A pipeline: unique names and ids, `next`/`missGoto` only to declared tables with a higher id. */
export function definePipeline(tables: readonly TableDef[]): Pipeline {
  const byName = new Map<string, TableDef>()
  const byId = new Map<number, TableDef>()
  for (const t of tables) {
    if (byName.has(t.name)) throw new FlowsInvalidError(`pipeline: duplicate table name ${t.name}`)
    const clash = byId.get(t.id)
    if (clash) throw new FlowsInvalidError(`pipeline: tables ${clash.name} and ${t.name} share id ${t.id}`)
    byName.set(t.name, t)
    byId.set(t.id, t)
  }
  for (const t of tables) {
    for (const n of [...(t.next ?? []), ...(t.missGoto ? [t.missGoto] : [])]) {
      const target = byName.get(n)
      if (!target) throw new FlowsInvalidError(`pipeline: table ${t.name} goes to undeclared table ${n}`)
      // OF1.5.1 §5.1: goto_table must go forward (OFPBIC_BAD_TABLE_ID otherwise).
      if (target.id <= t.id) throw new FlowsInvalidError(`pipeline: table ${t.name} (${t.id}) cannot go back to ${n} (${target.id})`)
    }
  }
  return {
    tables,
    byName: (name) => {
      const t = byName.get(name)
      if (!t) throw new FlowsInvalidError(`pipeline: no table ${name}`)
      return t
    },
    byId: (id) => byId.get(id),
  }
}

/** Everything wrong with `flow` for `table`; empty when it conforms. */
export function checkFlow(pipeline: Pipeline, flow: Flow): FieldIssue[] {
  const issues: FieldIssue[] = []
  const table = pipeline.byId(flow.table)
  if (!table) return [{ path: 'table', message: `table ${flow.table} is not declared in the pipeline` }]
  const fields = Object.entries(flow.match).filter(([, v]) => v !== undefined)
  for (const [f, v] of fields) {
    const kind = table.match[f as OxmFieldName]
    if (!kind) issues.push({ path: `match.${f}`, message: `table ${table.name} does not match on ${f}` })
    else if (kind === 'exact' && typeof v === 'object' && v !== null && 'mask' in (v as Masked<unknown>)) {
      issues.push({ path: `match.${f}`, message: `table ${table.name} matches ${f} exactly; no mask` })
    }
  }
  if (flow.priority === 0 && fields.length) {
    issues.push({ path: 'priority', message: `the default (priority 0) flow of ${table.name} must match nothing` })
  }
  if (table.exactMatch && flow.priority !== 0) {
    for (const f of Object.keys(table.match)) {
      if ((flow.match as Record<string, unknown>)[f] === undefined) issues.push({ path: `match.${f}`, message: `exact-match table ${table.name} needs ${f}` })
    }
  }
  if (table.requireCookie && flow.cookie === 0n) issues.push({ path: 'cookie', message: `table ${table.name} requires an owner cookie` })
  for (const [i, ins] of flow.instructions.entries()) {
    if (ins.type === 'goto_table') {
      const target = pipeline.byId(ins.table)
      if (!target || !(table.next ?? []).includes(target.name)) {
        issues.push({ path: `instructions[${i}]`, message: `table ${table.name} may not go to table ${target?.name ?? ins.table}` })
      }
    } else if (ins.type === 'write_metadata' && !table.writeMetadata) {
      issues.push({ path: `instructions[${i}]`, message: `table ${table.name} may not write metadata` })
    } else if (ins.type === 'apply_actions' || ins.type === 'write_actions') {
      for (const [j, a] of ins.actions.entries()) {
        if (a.type === 'set_field' && !(table.setFields ?? []).includes(a.field)) {
          issues.push({ path: `instructions[${i}].actions[${j}]`, message: `table ${table.name} may not set ${a.field}` })
        }
      }
    }
  }
  return issues
}

/** Throw `FlowsInvalidError` (with every issue) unless `flow` conforms to its table. */
export function verifyFlow(pipeline: Pipeline, flow: Flow): Flow {
  const issues = checkFlow(pipeline, flow)
  if (issues.length) {
    const t = pipeline.byId(flow.table)?.name ?? flow.table
    throw new FlowsInvalidError(`flow in table ${t} priority ${flow.priority}: ${issues.map((i) => i.message).join('; ')}`, { table: t, priority: flow.priority }, issues)
  }
  return flow
}
