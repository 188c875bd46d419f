/**
 * The flow model: identity is (table, priority, match); cookie and instructions are data (as in ovn-controller's
 * ofctrl). A `FlowEntry` carries the flow with its canonical key and canonical instruction bytes computed once,
 * so diffs of 100k flows compare strings, not objects.
 */
import {
  INSTRUCTION_BY_NAME,
  OFP_NO_BUFFER,
  OFPG_ANY,
  OFPP,
  Writer,
  normalizeMatch,
  writeInstructions,
  writeMatch,
  type FlowMod,
  type FlowModCommand,
  type FlowStatsEntry,
  type Instruction,
  type Match,
} from '../openflow/index.js'
import { FlowsInvalidError } from './errors.js'

export interface Flow {
  table: number
  priority: number
  match: Match
  cookie: bigint
  /** Empty = drop. Order does not matter (the switch runs them in spec order); we keep them sorted. */
  instructions: Instruction[]
}

/** Table, priority and canonical match bytes as one latin1 string (see `keyOf`); compare, never parse. */
export type FlowKey = string

export interface FlowEntry {
  readonly flow: Flow
  readonly key: FlowKey
  /** Canonical instruction bytes (latin1 string): equal strings = same actions. */
  readonly actionsKey: string
}

/** Desired or installed flows of one bridge, by key. */
export type FlowTable = ReadonlyMap<FlowKey, FlowEntry>

const scratch = new Writer(4096)
const INSTRUCTION_ORDER: Readonly<Record<string, number>> = Object.fromEntries([...INSTRUCTION_BY_NAME].map(([name, d]) => [name, d.index]))
const ORDER = (name: string): number => INSTRUCTION_ORDER[name] ?? 99

/** Instructions in execution order, empty action lists dropped (the switch does not keep them). */
export function canonicalInstructions(instructions: readonly Instruction[]): Instruction[] {
  // Already canonical (the usual case, e.g. from the builders): the same array, no allocation.
  let last = -1
  let canonical = true
  for (let i = 0; i < instructions.length; i++) {
    const ins = instructions[i]!
    const order = ORDER(ins.type)
    if (order < last || ((ins.type === 'apply_actions' || ins.type === 'write_actions') && ins.actions.length === 0)) {
      canonical = false
      break
    }
    last = order
  }
  if (canonical) return instructions as Instruction[]
  const kept = instructions.filter((i) => !((i.type === 'apply_actions' || i.type === 'write_actions') && i.actions.length === 0))
  return kept.sort((a, b) => ORDER(a.type) - ORDER(b.type))
}

/** Matches are keyed in their OF1.5 encoding (registers as packet-register halves), whatever the connection. */
export const KEY_VERSION = 0x06

/**
 * A key is one flat latin1 string: table (1 byte), priority (2 bytes), then the padded OXM bytes: exact,
 * compact, and flat (not a concatenation) so hashing it never copies.
 */
function keyOf(table: number, priority: number, buf: Buffer, from: number, to: number): string {
  const n = to - from
  if (keyScratch.length < n + 3) keyScratch = Buffer.allocUnsafe(2 * (n + 3))
  const k = keyScratch
  k[0] = table
  k[1] = priority >> 8
  k[2] = priority & 0xff
  // A match is a few dozen bytes: a loop beats Buffer#copy's argument checks.
  for (let i = 0; i < n; i++) k[3 + i] = buf[from + i]!
  return k.toString('latin1', 0, n + 3)
}
let keyScratch = Buffer.allocUnsafe(512)

/** The identity of a flow: table, priority and the match as the switch holds it (normalised bytes). */
export function flowKey(flow: Pick<Flow, 'table' | 'priority' | 'match'>): FlowKey {
  scratch.reset()
  writeMatch(scratch, flow.match, KEY_VERSION)
  return keyOf(flow.table, flow.priority, scratch.buf, 4, scratch.pos)
}

export function actionsKey(instructions: readonly Instruction[]): string {
  scratch.reset()
  writeInstructions(scratch, canonicalInstructions(instructions))
  return scratch.buf.toString('latin1', 0, scratch.pos)
}

/**
 * `toFlowEntry` from the bytes of the flow mod that carried `flow`, so one encoding serves the wire and the key
 * index: `buf` holds the `ofp_match` from `matchStart` (header included) to `instructionsStart`, then the
 * instructions to `end`, encoded with `KEY_VERSION` (the caller checks the version: other versions spell
 * registers otherwise) by `writeBundledFlowMod`, which checked the flow's ids. The same writer with the same version
 * wrote them, so the key and actions key are exactly those of `flowKey` and `actionsKey`; instructions that were
 * sent in another order are keyed apart.
 */
export function flowEntryFromWire(flow: Flow, buf: Buffer, matchStart: number, instructionsStart: number, end: number): FlowEntry {
  // Encoding checked the rest of `check` (u8 table, u16 priority, u64 cookie); a flow's table also excludes 255.
  if (flow.table === 0xff) invalidFlow(flow, `table ${flow.table} outside 0..254`)
  const key = keyOf(flow.table, flow.priority, buf, matchStart + 4, instructionsStart)
  const instructions = canonicalInstructions(flow.instructions)
  if (instructions !== flow.instructions) return { flow: { ...flow, instructions }, key, actionsKey: actionsKey(instructions) }
  return { flow, key, actionsKey: buf.toString('latin1', instructionsStart, end) }
}

function invalidFlow(flow: Flow, what: string): never {
  throw new FlowsInvalidError(`flow has ${what}`, { table: flow.table, priority: flow.priority })
}

function check(flow: Flow): void {
  if (!Number.isInteger(flow.table) || flow.table < 0 || flow.table > 254) invalidFlow(flow, `table ${flow.table} outside 0..254`)
  if (!Number.isInteger(flow.priority) || flow.priority < 0 || flow.priority > 0xffff) invalidFlow(flow, `priority ${flow.priority} outside 0..65535`)
  if (typeof flow.cookie !== 'bigint' || flow.cookie < 0n || flow.cookie > 0xffffffffffffffffn) invalidFlow(flow, `cookie ${String(flow.cookie)} not a u64`)
}

/**
 * A flow with its key and actions key. The flow keeps the caller's spelling of the match (the key is what is
 * canonical); `normalizeFlow` gives the form the switch reports back.
 */
export function toFlowEntry(flow: Flow): FlowEntry {
  check(flow)
  const instructions = canonicalInstructions(flow.instructions)
  const canon = instructions === flow.instructions ? flow : { ...flow, instructions }
  return { flow: canon, key: flowKey(canon), actionsKey: actionsKey(instructions) }
}

/** The flow as the switch holds it: normalised match, canonical instructions. */
export function normalizeFlow(flow: Flow): Flow {
  return { ...flow, match: normalizeMatch(flow.match), instructions: canonicalInstructions(flow.instructions) }
}

/**
 * Key a set of flows. For two flows with one key the later wins, exactly as an ORDERED bundle of their ADDs
 * leaves the switch (and as `ovs-ofctl add-flows` would); `findFlowConflicts` finds such pairs, which are
 * usually a bug in whoever computed them, so pipeline tests should assert there are none.
 */
export function buildFlowTable(flows: Iterable<Flow>): Map<FlowKey, FlowEntry> {
  const table = new Map<FlowKey, FlowEntry>()
  for (const flow of flows) {
    const e = toFlowEntry(flow)
    table.set(e.key, e)
  }
  return table
}

/** Pairs of flows with the same key (table, priority, match) but another cookie or other actions. */
export function findFlowConflicts(flows: Iterable<Flow>): [FlowEntry, FlowEntry][] {
  const seen = new Map<FlowKey, FlowEntry>()
  const out: [FlowEntry, FlowEntry][] = []
  for (const flow of flows) {
    const e = toFlowEntry(flow)
    const prev = seen.get(e.key)
    if (prev && (prev.actionsKey !== e.actionsKey || prev.flow.cookie !== e.flow.cookie)) out.push([prev, e])
    seen.set(e.key, e)
  }
  return out
}

/** The flow a flow-stats entry describes. */
export function flowFromStats(s: FlowStatsEntry): Flow {
  return { table: s.table, priority: s.priority, match: s.match, cookie: s.cookie, instructions: s.instructions }
}

/** A FLOW_MOD for `flow` (strict commands match exactly this table, priority and match; any cookie). */
export function flowModFor(flow: Flow, command: FlowModCommand): FlowMod {
  const del = command === 'delete' || command === 'delete_strict'
  return {
    command,
    cookie: del ? 0n : flow.cookie,
    cookieMask: 0n,
    table: flow.table,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: flow.priority,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG_ANY,
    flags: 0,
    importance: 0,
    match: flow.match,
    instructions: del ? [] : canonicalInstructions(flow.instructions),
  }
}

/** Non-strict DELETE of every flow in every table whose cookie matches `cookie/mask` (mask 0: all flows). */
export function deleteByCookie(cookie: bigint, cookieMask: bigint): FlowMod {
  return {
    command: 'delete',
    cookie,
    cookieMask,
    table: 0xff,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 0,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG_ANY,
    flags: 0,
    importance: 0,
    match: {},
    instructions: [],
  }
}
