/**
 * Actions and instructions codec, driven by the layouts in `tables/actions.ts`. `set_field` carries one OXM TLV
 * padded to 8 (OF1.5.1 §7.2.5.8); action lists are the bodies of apply/write-actions instructions.
 */
import { OpenFlowEncodeError, OpenFlowProtocolError } from './errors.js'
import { fieldByName, readOxm, writeOxm } from './match.js'
import type { Action, Instruction } from './model.js'
import { ACTION_BY_NAME, ACTION_BY_TYPE, INSTRUCTION_BY_NAME, INSTRUCTION_BY_TYPE, type LayoutItem } from './tables/actions.js'
import { type Reader, type Writer } from './wire.js'

function writeLayout(w: Writer, layout: readonly LayoutItem[], obj: Record<string, unknown>, what: string): void {
  for (let i = 0; i < layout.length; i++) {
    const name = layout[i]![0]
    const kind = layout[i]![1]
    if (name === 'pad') {
      w.zeros(kind as number)
      continue
    }
    const v = obj[name] ?? (kind === 'u64' ? 0n : 0)
    if (kind === 'u64') {
      if (typeof v !== 'bigint') throw new OpenFlowEncodeError(`${what}.${name} must be a bigint`, { what, name })
      w.u64(v)
    } else {
      const max = kind === 'u8' ? 0xff : kind === 'u16' ? 0xffff : 0xffffffff
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
        throw new OpenFlowEncodeError(`${what}.${name}=${String(v)} is not a ${kind}`, { what, name })
      }
      if (kind === 'u8') w.u8(v)
      else if (kind === 'u16') w.u16(v)
      else w.u32(v)
    }
  }
}

function readLayout(r: Reader, layout: readonly LayoutItem[], into: Record<string, unknown>, what: string): void {
  for (const [name, kind] of layout) {
    if (name === 'pad') r.skip(kind as number, `${what} padding`)
    else if (kind === 'u8') into[name] = r.u8(`${what}.${name}`)
    else if (kind === 'u16') into[name] = r.u16(`${what}.${name}`)
    else if (kind === 'u32') into[name] = r.u32(`${what}.${name}`)
    else into[name] = r.u64(`${what}.${name}`)
  }
}

export function writeActions(w: Writer, actions: readonly Action[]): void {
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!
    if (a.type === 'raw') {
      if ((a.body.length + 4) % 8 !== 0) throw new OpenFlowEncodeError(`raw action type ${a.actionType}: length ${a.body.length + 4} is not a multiple of 8`)
      w.u16(a.actionType)
      w.u16(a.body.length + 4)
      w.bytes(a.body)
      continue
    }
    const def = ACTION_BY_NAME.get(a.type)
    if (!def) throw new OpenFlowEncodeError(`unknown action ${String((a as { type: unknown }).type)}`, { action: String(a.type) })
    const start = w.pos
    w.u16(def.type)
    w.u16(0)
    if (def.layout === 'custom') {
      // set_field: the only variable-length action we model.
      const sf = a as Extract<Action, { type: 'set_field' }>
      writeOxm(w, fieldByName(sf.field), sf.value)
      w.pad8(start)
    } else {
      writeLayout(w, def.layout, a as Record<string, unknown>, a.type)
    }
    w.patchU16(start + 2, w.pos - start)
  }
}

export function readActions(r: Reader): Action[] {
  const out: Action[] = []
  while (r.remaining > 0) {
    const type = r.u16('action type')
    const len = r.u16('action length')
    if (len < 8 || len % 8 !== 0) throw new OpenFlowProtocolError(`action type ${type}: bad length ${len}`, { type, len })
    const body = r.sub(len - 4, 'action body')
    const def = ACTION_BY_TYPE.get(type)
    if (!def) {
      out.push({ type: 'raw', actionType: type, body: Buffer.from(body.bytes(body.remaining)) })
      continue
    }
    if (def.layout === 'custom') {
      const tmp: Record<string, unknown> = {}
      const { field, value, mask } = readOxm(body, tmp)
      if (mask !== undefined) throw new OpenFlowProtocolError(`set_field ${field.name} with a mask is not supported`)
      out.push({ type: 'set_field', field: field.name, value } as Action)
    } else {
      if (len !== def.len) throw new OpenFlowProtocolError(`action ${def.name}: length ${len}, expected ${def.len}`)
      const a: Record<string, unknown> = { type: def.name }
      readLayout(body, def.layout, a, def.name)
      out.push(a as Action)
    }
  }
  return out
}

export function writeInstructions(w: Writer, instructions: readonly Instruction[]): void {
  for (let i = 0; i < instructions.length; i++) {
    const ins = instructions[i]!
    const def = INSTRUCTION_BY_NAME.get(ins.type)
    if (!def) throw new OpenFlowEncodeError(`unknown instruction ${String((ins as { type: unknown }).type)}`)
    const start = w.pos
    w.u16(def.type)
    w.u16(0)
    if (def.layout === 'custom') {
      w.zeros(4)
      writeActions(w, (ins as { actions: Action[] }).actions)
    } else {
      writeLayout(w, def.layout, ins as Record<string, unknown>, ins.type)
    }
    w.patchU16(start + 2, w.pos - start)
  }
}

export function readInstructions(r: Reader): Instruction[] {
  const out: Instruction[] = []
  while (r.remaining > 0) {
    const type = r.u16('instruction type')
    const len = r.u16('instruction length')
    if (len < 8) throw new OpenFlowProtocolError(`instruction type ${type}: bad length ${len}`, { type, len })
    const body = r.sub(len - 4, 'instruction body')
    const def = INSTRUCTION_BY_TYPE.get(type)
    if (!def) throw new OpenFlowProtocolError(`unknown instruction type ${type}`, { type })
    if (def.layout === 'custom') {
      body.skip(4)
      out.push({ type: def.name, actions: readActions(body) } as Instruction)
    } else {
      if (len !== def.len) throw new OpenFlowProtocolError(`instruction ${def.name}: length ${len}, expected ${def.len}`)
      const ins: Record<string, unknown> = { type: def.name }
      readLayout(body, def.layout, ins, def.name)
      out.push(ins as Instruction)
    }
  }
  return out
}
