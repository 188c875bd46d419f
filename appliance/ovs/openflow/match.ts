/**
 * OXM TLVs and `ofp_match` (OF1.5.1 §7.2.3). Fields are written in `OXM_FIELDS` order whatever the order of the
 * object's keys, masks are normalised (value &= mask, an all-ones mask is dropped, an all-zero mask drops the
 * field), so two equal matches always encode to the same bytes: the flow model keys flows by these bytes.
 */
import { OpenFlowEncodeError, OpenFlowProtocolError } from './errors.js'
import type { Masked, Match } from './model.js'
import { OFPMT_OXM, OFPXMC_NXM_1, OFPXMC_PACKET_REGS, OXM_BY_NAME, OXM_BY_WIRE, OXM_FIELDS, type OxmCodec, type OxmCodecValue, type OxmField } from './tables/oxm.js'
import { Reader, Writer } from './wire.js'

function parseIpv6(s: string): Uint8Array | undefined {
  let text = s
  const out = new Uint8Array(16)
  // An embedded dotted quad (::ffff:1.2.3.4) becomes the last two groups.
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  let tail: number[] = []
  if (v4) {
    const b = parseIpv4(v4[2]!)
    if (!b) return undefined
    tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!]
    text = v4[1]!.endsWith('::') ? v4[1]! : v4[1]!.slice(0, -1)
  }
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const groups = (h: string | undefined): number[] | undefined => {
    if (!h) return []
    const parts = h.split(':')
    const nums = parts.map((p) => (/^[0-9a-fA-F]{1,4}$/.test(p) ? Number.parseInt(p, 16) : Number.NaN))
    return nums.some(Number.isNaN) ? undefined : nums
  }
  const head = groups(halves[0])
  const rest = groups(halves[1])
  if (!head || !rest) return undefined
  const back = [...rest, ...tail]
  const fill = 8 - head.length - back.length
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined
  const all = [...head, ...new Array<number>(halves.length === 1 ? 0 : fill).fill(0), ...back]
  all.forEach((g, i) => {
    out[i * 2] = g >> 8
    out[i * 2 + 1] = g & 0xff
  })
  return out
}

/** RFC 5952 text: lower case, longest run (>= 2) of zero groups compressed. */
function formatIpv6(b: Uint8Array): string {
  const g: number[] = []
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!)
  let best = -1
  let bestLen = 0
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  const hex = g.map((x) => x.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}

function parseIpv4(s: string): Uint8Array | undefined {
  const out = new Uint8Array(4)
  let part = 0
  let digits = 0
  let acc = 0
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46
    if (c === 46) {
      if (digits === 0 || part > 3 || acc > 255) return undefined
      out[part++] = acc
      acc = 0
      digits = 0
    } else if (c >= 48 && c <= 57 && digits < 3) {
      acc = acc * 10 + (c - 48)
      digits++
    } else return undefined
  }
  return part === 4 ? out : undefined
}

const MAX: Record<'u8' | 'u16' | 'u32', number> = { u8: 0xff, u16: 0xffff, u32: 0xffffffff }

function invalid(field: OxmField, value: unknown): never {
  throw new OpenFlowEncodeError(`invalid value ${String(value)} for OXM field ${field.name} (${field.codec})`, {
    field: field.name,
    value: String(value),
  })
}

/**
 * Append one value's bytes to `w` (the hot path of every flow mod and key: no allocation for integers, MACs and
 * IPv4), or throw an encode error naming the field.
 */
export function writeOxmValue(w: Writer, field: OxmField, value: unknown): void {
  const codec: OxmCodec = field.codec
  switch (codec) {
    case 'u8':
    case 'u16':
    case 'u32':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX[codec]) invalid(field, value)
      if (codec === 'u8') w.u8(value)
      else if (codec === 'u16') w.u16(value)
      else w.u32(value)
      return
    case 'u64':
      if (typeof value !== 'bigint' || value < 0n || value > 0xffffffffffffffffn) invalid(field, value)
      w.u64(value)
      return
    case 'ipv4': {
      if (typeof value !== 'string') invalid(field, value)
      let part = 0
      let digits = 0
      let acc = 0
      const at = w.pos
      w.u32(0)
      for (let i = 0; i <= value.length; i++) {
        const c = i < value.length ? value.charCodeAt(i) : 46
        if (c === 46) {
          if (digits === 0 || part > 3 || acc > 255) invalid(field, value)
          w.buf[at + part++] = acc
          acc = 0
          digits = 0
        } else if (c >= 48 && c <= 57 && digits < 3) {
          acc = acc * 10 + (c - 48)
          digits++
        } else invalid(field, value)
      }
      if (part !== 4) invalid(field, value)
      return
    }
    case 'mac': {
      if (typeof value !== 'string' || value.length !== 17) invalid(field, value)
      for (let i = 0; i < 6; i++) {
        const hi = hexDigit(value.charCodeAt(i * 3))
        const lo = hexDigit(value.charCodeAt(i * 3 + 1))
        if (hi < 0 || lo < 0 || (i < 5 && value.charCodeAt(i * 3 + 2) !== 58)) invalid(field, value)
        w.u8(hi * 16 + lo)
      }
      return
    }
    case 'ipv6': {
      const b = typeof value === 'string' ? parseIpv6(value) : undefined
      if (!b) invalid(field, value)
      w.bytes(b)
      return
    }
  }
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

export function decodeOxmValue<C extends OxmCodec>(codec: C, b: Uint8Array): OxmCodecValue[C] {
  let v: unknown
  switch (codec) {
    case 'u8':
    case 'u16':
    case 'u32': {
      let n = 0
      for (const x of b) n = n * 256 + x
      v = n
      break
    }
    case 'u64':
      v = Buffer.from(b).readBigUInt64BE()
      break
    case 'mac':
      v = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':')
      break
    case 'ipv4':
      v = Array.from(b).join('.')
      break
    case 'ipv6':
      v = formatIpv6(b)
      break
  }
  return v as OxmCodecValue[C]
}

function isMasked(v: unknown): v is Masked<unknown> {
  return typeof v === 'object' && v !== null && 'mask' in v && 'value' in v
}

export function fieldByName(name: string): OxmField {
  const f = OXM_BY_NAME.get(name)
  if (!f) throw new OpenFlowEncodeError(`unknown OXM field ${name}`, { field: name })
  return f
}

/** Write one OXM TLV. A mask that is all ones is dropped; returns false when an all-zero mask wildcards it. */
export function writeOxm(w: Writer, field: OxmField, value: unknown, maskValue?: unknown): boolean {
  const head = w.pos
  w.u16(field.cls)
  w.u8(field.field << 1)
  w.u8(field.bytes)
  const v = w.pos
  writeOxmValue(w, field, value)
  if (maskValue === undefined) return true
  if (!field.maskable) {
    w.pos = head
    throw new OpenFlowEncodeError(`OXM field ${field.name} cannot be masked`, { field: field.name })
  }
  const m = w.pos
  writeOxmValue(w, field, maskValue)
  const buf = w.buf
  let ones = true
  let zeros = true
  for (let i = 0; i < field.bytes; i++) {
    const x = buf[m + i]!
    if (x !== 0xff) ones = false
    if (x !== 0) zeros = false
    buf[v + i] = buf[v + i]! & x
  }
  if (zeros) {
    w.pos = head
    return false
  }
  if (ones) {
    w.pos = m
    return true
  }
  buf[head + 2] = (field.field << 1) | 1
  buf[head + 3] = field.bytes * 2
  return true
}

const U32 = 0xffffffffn

/** Value and mask of a register as numbers; mask 0 when the register is absent. */
function regHalf(v: unknown, name: string): [number, number] {
  if (v === undefined) return [0, 0]
  const [value, mask] = isMasked(v) ? [v.value, v.mask] : [v, 0xffffffff]
  const field = OXM_BY_NAME.get(name)!
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) invalid(field, value)
  if (typeof mask !== 'number' || !Number.isInteger(mask) || mask < 0 || mask > 0xffffffff) invalid(field, mask)
  return [(value & mask) >>> 0, mask]
}

/**
 * OF1.5 has 64-bit packet registers (OXM_OF_PKT_REG0-3 = class 0x8001); OVS sends reg0..7 as their 32-bit
 * halves (reg 2n = high, reg 2n+1 = low) of xreg n (`lib/nx-match.c` `nx_put_raw`), and so do we, so that our
 * bytes equal `ovs-ofctl`'s and decode the same either way.
 */
const REG_NAMES = ['reg0', 'reg1', 'reg2', 'reg3', 'reg4', 'reg5', 'reg6', 'reg7'] as const

function writeXregs(w: Writer, rec: Record<string, unknown>): void {
  for (let n = 0; n < 4; n++) {
    const hi = rec[REG_NAMES[2 * n]!]
    const lo = rec[REG_NAMES[2 * n + 1]!]
    if (hi === undefined && lo === undefined) continue
    const [hv, hm] = regHalf(hi, REG_NAMES[2 * n]!)
    const [lv, lm] = regHalf(lo, REG_NAMES[2 * n + 1]!)
    if (hm === 0 && lm === 0) continue
    const full = hm === 0xffffffff && lm === 0xffffffff
    w.u16(OFPXMC_PACKET_REGS)
    w.u8((n << 1) | (full ? 0 : 1))
    w.u8(full ? 8 : 16)
    w.u32(hv)
    w.u32(lv)
    if (!full) {
      w.u32(hm)
      w.u32(lm)
    }
  }
}

/** `ofp_match` with OXM TLVs, padded to 8 bytes. Registers are encoded per `version` (see `writeXregs`). */
const present: number[] = []

export function writeMatch(w: Writer, match: Match, version = 0x05): void {
  const start = w.pos
  w.u16(OFPMT_OXM)
  w.u16(0)
  const rec = match as Record<string, unknown>
  // Visit only the fields present, in table order (a match has a handful of the ~30 fields).
  present.length = 0
  for (const key in rec) {
    if (rec[key] === undefined) continue
    const f = OXM_BY_NAME.get(key)
    if (!f) throw new OpenFlowEncodeError(`unknown OXM field ${key} in match`, { field: key })
    present.push(f.index)
  }
  // Insertion sort: a handful of small integers, cheaper than Array#sort's comparator calls on every flow mod.
  for (let i = 1; i < present.length; i++) {
    const x = present[i]!
    let j = i - 1
    while (j >= 0 && present[j]! > x) {
      present[j + 1] = present[j]!
      j--
    }
    present[j + 1] = x
  }
  const xregs = version >= 0x06
  let regsDone = false
  for (let i = 0; i < present.length; i++) {
    const field = OXM_FIELDS[present[i]!]!
    if (xregs && field.cls === OFPXMC_NXM_1) {
      if (!regsDone) writeXregs(w, rec)
      regsDone = true
      continue
    }
    const v = rec[field.name]
    if (isMasked(v)) writeOxm(w, field, v.value, v.mask)
    else writeOxm(w, field, v)
  }
  w.patchU16(start + 2, w.pos - start)
  w.pad8(start)
}

/** Read one OXM TLV into `into`; unknown fields are a protocol error naming the class and field. */
export function readOxm(r: Reader, into: Record<string, unknown>): { field: OxmField; value: unknown; mask?: unknown } {
  const cls = r.u16('OXM class')
  const fh = r.u8('OXM field')
  const len = r.u8('OXM length')
  const hasMask = (fh & 1) === 1
  if (cls === OFPXMC_PACKET_REGS && fh >> 1 < 4) return readXreg(r, fh >> 1, hasMask, len, into)
  const field = OXM_BY_WIRE.get(cls * 128 + (fh >> 1))
  if (!field) {
    throw new OpenFlowProtocolError(`unknown OXM field class=0x${cls.toString(16)} field=${fh >> 1}`, { cls, field: fh >> 1 })
  }
  const expect = hasMask ? field.bytes * 2 : field.bytes
  if (len !== expect) throw new OpenFlowProtocolError(`OXM ${field.name}: length ${len}, expected ${expect}`, { field: field.name })
  const value = decodeOxmValue(field.codec, r.bytes(field.bytes, field.name))
  if (!hasMask) {
    into[field.name] = value
    return { field, value }
  }
  const mask = decodeOxmValue(field.codec, r.bytes(field.bytes, `${field.name} mask`))
  into[field.name] = { value, mask }
  return { field, value, mask }
}

function readXreg(r: Reader, n: number, hasMask: boolean, len: number, into: Record<string, unknown>): { field: OxmField; value: unknown } {
  if (len !== (hasMask ? 16 : 8)) throw new OpenFlowProtocolError(`OXM xreg${n}: length ${len}`)
  const value = r.u64(`xreg${n}`)
  const mask = hasMask ? r.u64(`xreg${n} mask`) : (U32 << 32n) + U32
  const halves: [string, bigint, bigint][] = [
    [`reg${2 * n}`, value >> 32n, mask >> 32n],
    [`reg${2 * n + 1}`, value & U32, mask & U32],
  ]
  for (const [name, v, m] of halves) {
    if (m === 0n) continue
    into[name] = m === U32 ? Number(v) : { value: Number(v & m), mask: Number(m) }
  }
  return { field: fieldByName(`reg${2 * n}`), value }
}

export function readMatch(r: Reader): Match {
  const start = r.pos
  const type = r.u16('match type')
  if (type !== OFPMT_OXM) throw new OpenFlowProtocolError(`match type ${type} is not OFPMT_OXM`, { type })
  const len = r.u16('match length')
  if (len < 4) throw new OpenFlowProtocolError(`match length ${len} < 4`)
  const body = r.sub(len - 4, 'match fields')
  const out: Record<string, unknown> = {}
  while (body.remaining > 0) readOxm(body, out)
  const padded = Math.ceil(len / 8) * 8
  r.skip(start + padded - r.pos, 'match padding')
  return out as Match
}

/** The same match as the switch will hold it: masks applied and normalised, addresses in canonical text. */
export function normalizeMatch(match: Match): Match {
  const w = new Writer(128)
  writeMatch(w, match)
  return readMatch(new Reader(w.buf, 0, w.pos))
}
