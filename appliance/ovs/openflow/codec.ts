/**
 * Whole-message codec for the subset of OF1.4/1.5 a flow controller needs. `writeMessage` appends to a shared
 * Writer (so a bundle of 100k flow mods is one buffer); every message is checked against the u16 length limit.
 * `decodeMessage` takes exactly one framed message and validates every length it meets.
 */
import { OpenFlowEncodeError, OpenFlowProtocolError } from './errors.js'
import { readInstructions, writeInstructions } from './instructions.js'
import { readMatch, writeMatch } from './match.js'
import type { FlowModInput, FlowStatsEntry, OfFrame, OfMessage, PortDesc } from './model.js'
import {
  OFP_HEADER_LEN,
  OFP_MAX_MESSAGE_LEN,
  OFP_NO_BUFFER,
  OFP_VERSION,
  OFPG_ANY,
  OFPP,
  OFPBCT,
  OFPFC,
  OFPHET_VERSIONBITMAP,
  OFPMP,
  OFPPR,
  OFPT,
  OFPXSC_OPENFLOW_BASIC,
  OXS_FIELDS,
  invert,
  type BundleCtrlType,
  type FlowModCommand,
  type PortReason,
} from './tables/messages.js'
import { Reader, Writer } from './wire.js'

const OFPT_NAME = invert(OFPT)
const OFPFC_NAME = invert(OFPFC)
const OFPBCT_NAME = invert(OFPBCT)
const OFPPR_NAME = invert(OFPPR)
const OXS_BY_FIELD = new Map<number, (typeof OXS_FIELDS)[number]>(OXS_FIELDS.map((f) => [f.field, f]))
const PORT_LEN = 40
const FLOW_STATS14_LEN = 48
const FLOW_DESC15_LEN = 24

function writeHeader(w: Writer, version: number, type: number, xid: number): number {
  const start = w.pos
  w.u8(version)
  w.u8(type)
  w.u16(0)
  w.u32(xid)
  return start
}

function finish(w: Writer, start: number, what: string): void {
  const len = w.pos - start
  if (len > OFP_MAX_MESSAGE_LEN) {
    w.pos = start
    throw new OpenFlowEncodeError(`${what} is ${len} bytes, over the OpenFlow limit of ${OFP_MAX_MESSAGE_LEN}`, { len })
  }
  w.patchU16(start + 2, len)
}

function writeName(w: Writer, name: string, size: number): void {
  const b = Buffer.alloc(size)
  b.write(name.slice(0, size - 1), 'latin1')
  w.bytes(b)
}

function writeMac(w: Writer, mac: string): void {
  const parts = mac.split(':').map((p) => Number.parseInt(p, 16))
  if (parts.length !== 6 || parts.some((p) => !(p >= 0 && p <= 255))) throw new OpenFlowEncodeError(`bad MAC ${mac}`)
  for (const p of parts) w.u8(p)
}

function writePort(w: Writer, p: PortDesc): void {
  w.u32(p.portNo)
  w.u16(PORT_LEN)
  w.zeros(2)
  writeMac(w, p.hwAddr)
  w.zeros(2)
  writeName(w, p.name, 16)
  w.u32(p.config)
  w.u32(p.state)
}

function readPort(r: Reader): PortDesc {
  const portNo = r.u32('port_no')
  const len = r.u16('port length')
  if (len < PORT_LEN) throw new OpenFlowProtocolError(`port length ${len} < ${PORT_LEN}`)
  r.skip(2)
  const hw = r.bytes(6, 'hw_addr')
  r.skip(2)
  const nameBytes = r.bytes(16, 'port name')
  const config = r.u32('port config')
  const state = r.u32('port state')
  r.skip(len - PORT_LEN, 'port properties')
  const nul = nameBytes.indexOf(0)
  return {
    portNo,
    hwAddr: Array.from(hw, (x) => x.toString(16).padStart(2, '0')).join(':'),
    name: nameBytes.subarray(0, nul < 0 ? 16 : nul).toString('latin1'),
    config,
    state,
  }
}

function writeFlowStats(w: Writer, version: number, f: FlowStatsEntry): void {
  const start = w.pos
  w.u16(0)
  if (version >= OFP_VERSION.OF15) {
    w.zeros(2)
    w.u8(f.table)
    w.zeros(1)
    w.u16(f.priority)
    w.u16(f.idleTimeout)
    w.u16(f.hardTimeout)
    w.u16(f.flags)
    w.u16(f.importance)
    w.u64(f.cookie)
    writeMatch(w, f.match, version)
    const ss = w.pos
    w.u16(0)
    w.u16(0)
    const oxs = (field: number, len: number): void => {
      w.u16(OFPXSC_OPENFLOW_BASIC)
      w.u8(field << 1)
      w.u8(len)
    }
    oxs(0, 8)
    w.u32(f.durationSec)
    w.u32(f.durationNsec)
    oxs(4, 8)
    w.u64(f.packetCount)
    oxs(5, 8)
    w.u64(f.byteCount)
    w.patchU16(ss + 2, w.pos - ss)
    w.pad8(ss)
  } else {
    w.u8(f.table)
    w.zeros(1)
    w.u32(f.durationSec)
    w.u32(f.durationNsec)
    w.u16(f.priority)
    w.u16(f.idleTimeout)
    w.u16(f.hardTimeout)
    w.u16(f.flags)
    w.u16(f.importance)
    w.zeros(2)
    w.u64(f.cookie)
    w.u64(f.packetCount)
    w.u64(f.byteCount)
    writeMatch(w, f.match, version)
  }
  writeInstructions(w, f.instructions)
  w.patchU16(start, w.pos - start)
}

function readFlowStats(r: Reader, version: number): FlowStatsEntry {
  const start = r.pos
  const len = r.u16('flow stats length')
  const min = version >= OFP_VERSION.OF15 ? FLOW_DESC15_LEN : FLOW_STATS14_LEN
  if (len < min) throw new OpenFlowProtocolError(`flow stats entry length ${len} < ${min}`)
  r.need(len - 2, 'flow stats entry')
  const e = new Reader(r.buf, r.pos, start + len)
  r.pos = start + len
  if (version >= OFP_VERSION.OF15) {
    e.skip(2)
    const table = e.u8()
    e.skip(1)
    const priority = e.u16()
    const idleTimeout = e.u16()
    const hardTimeout = e.u16()
    const flags = e.u16()
    const importance = e.u16()
    const cookie = e.u64()
    const match = readMatch(e)
    const ss = e.pos
    e.u16('oxs reserved')
    const slen = e.u16('oxs length')
    if (slen < 4) throw new OpenFlowProtocolError(`OXS stats length ${slen} < 4`)
    const stats = e.sub(slen - 4, 'OXS stats')
    e.skip(ss + Math.ceil(slen / 8) * 8 - e.pos, 'OXS padding')
    let durationSec = 0
    let durationNsec = 0
    let packetCount = 0n
    let byteCount = 0n
    while (stats.remaining > 0) {
      const cls = stats.u16('OXS class')
      const fh = stats.u8('OXS field')
      const flen = stats.u8('OXS length')
      const def = cls === OFPXSC_OPENFLOW_BASIC ? OXS_BY_FIELD.get(fh >> 1) : undefined
      if (!def || def.bytes !== flen) {
        throw new OpenFlowProtocolError(`unknown OXS stat class=0x${cls.toString(16)} field=${fh >> 1} len=${flen}`)
      }
      const body = stats.sub(flen, def.name)
      if (def.name === 'duration') {
        durationSec = body.u32()
        durationNsec = body.u32()
      } else if (def.name === 'packet_count') packetCount = body.u64()
      else if (def.name === 'byte_count') byteCount = body.u64()
    }
    const instructions = readInstructions(e)
    return {
      table,
      priority,
      idleTimeout,
      hardTimeout,
      flags,
      importance,
      cookie,
      durationSec,
      durationNsec,
      packetCount,
      byteCount,
      match,
      instructions,
    }
  }
  const table = e.u8()
  e.skip(1)
  const durationSec = e.u32()
  const durationNsec = e.u32()
  const priority = e.u16()
  const idleTimeout = e.u16()
  const hardTimeout = e.u16()
  const flags = e.u16()
  const importance = e.u16()
  e.skip(2)
  const cookie = e.u64()
  const packetCount = e.u64()
  const byteCount = e.u64()
  const match = readMatch(e)
  const instructions = readInstructions(e)
  return {
    table,
    priority,
    idleTimeout,
    hardTimeout,
    flags,
    importance,
    cookie,
    durationSec,
    durationNsec,
    packetCount,
    byteCount,
    match,
    instructions,
  }
}

function writeMultipartHeader(w: Writer, mpType: number, flags: number): void {
  w.u16(mpType)
  w.u16(flags)
  w.zeros(4)
}

/** The writer truncates silently, so a table 300 or a negative cookie would go out as another flow. */
function checkFlowModIds(fm: FlowModInput): void {
  if (!(fm.table >= 0 && fm.table <= 0xff && Number.isInteger(fm.table))) throw new OpenFlowEncodeError(`flow_mod table ${fm.table} is not a u8`)
  if (!(fm.priority >= 0 && fm.priority <= 0xffff && Number.isInteger(fm.priority))) {
    throw new OpenFlowEncodeError(`flow_mod priority ${fm.priority} is not a u16`)
  }
  if (typeof fm.cookie !== 'bigint' || fm.cookie < 0n || fm.cookie > 0xffffffffffffffffn) {
    throw new OpenFlowEncodeError(`flow_mod cookie ${String(fm.cookie)} is not a u64`)
  }
}

function writeBody(w: Writer, msg: OfMessage, version: number, xid: number): void {
  switch (msg.type) {
    case 'hello': {
      let bitmap = 0
      for (const v of msg.versions) bitmap |= 1 << v
      w.u16(OFPHET_VERSIONBITMAP)
      w.u16(8)
      w.u32(bitmap >>> 0)
      return
    }
    case 'error':
      w.u16(msg.errorType)
      w.u16(msg.code)
      w.bytes(msg.data)
      return
    case 'echo_request':
    case 'echo_reply':
      w.bytes(msg.data)
      return
    case 'features_request':
    case 'barrier_request':
    case 'barrier_reply':
      return
    case 'features_reply':
      w.u64(msg.datapathId)
      w.u32(msg.nBuffers)
      w.u8(msg.nTables)
      w.u8(msg.auxiliaryId)
      w.zeros(2)
      w.u32(msg.capabilities)
      w.u32(0)
      return
    case 'set_config':
      w.u16(msg.flags)
      w.u16(msg.missSendLen)
      return
    case 'flow_mod': {
      const command = OFPFC[msg.command]
      if (command === undefined) throw new OpenFlowEncodeError(`unknown flow_mod command ${String(msg.command)}`)
      checkFlowModIds(msg)
      w.u64(msg.cookie)
      w.u64(msg.cookieMask)
      w.u8(msg.table)
      w.u8(command)
      w.u16(msg.idleTimeout)
      w.u16(msg.hardTimeout)
      w.u16(msg.priority)
      w.u32(msg.bufferId)
      w.u32(msg.outPort)
      w.u32(msg.outGroup)
      w.u16(msg.flags)
      w.u16(msg.importance)
      writeMatch(w, msg.match, version)
      writeInstructions(w, msg.instructions)
      return
    }
    case 'bundle_control': {
      const ctrl = OFPBCT[msg.ctrl]
      if (ctrl === undefined) throw new OpenFlowEncodeError(`unknown bundle control type ${String(msg.ctrl)}`)
      w.u32(msg.bundleId)
      w.u16(ctrl)
      w.u16(msg.flags)
      return
    }
    case 'bundle_add_message':
      w.u32(msg.bundleId)
      w.zeros(2)
      w.u16(msg.flags)
      // OVS rejects an inner xid or version that differs from the outer one (OFPBFC_MSG_BAD_XID).
      writeFrame(w, msg.message, version, xid)
      return
    case 'flow_stats_request':
      writeMultipartHeader(w, OFPMP.FLOW, msg.flags)
      w.u8(msg.table)
      w.zeros(3)
      w.u32(msg.outPort)
      w.u32(msg.outGroup)
      w.zeros(4)
      w.u64(msg.cookie)
      w.u64(msg.cookieMask)
      writeMatch(w, msg.match, version)
      return
    case 'flow_stats_reply':
      writeMultipartHeader(w, OFPMP.FLOW, msg.flags)
      for (const f of msg.flows) writeFlowStats(w, version, f)
      return
    case 'port_desc_request':
      writeMultipartHeader(w, OFPMP.PORT_DESC, msg.flags)
      if (version >= OFP_VERSION.OF15) {
        w.u32(0xffffffff)
        w.zeros(4)
      }
      return
    case 'port_desc_reply':
      writeMultipartHeader(w, OFPMP.PORT_DESC, msg.flags)
      for (const p of msg.ports) writePort(w, p)
      return
    case 'port_status':
      w.u8(OFPPR[msg.reason])
      w.zeros(7)
      writePort(w, msg.port)
      return
    case 'other':
      w.bytes(msg.body)
      return
  }
}

const OFPT_OF: Record<OfMessage['type'], number> = {
  hello: OFPT.hello,
  error: OFPT.error,
  echo_request: OFPT.echo_request,
  echo_reply: OFPT.echo_reply,
  features_request: OFPT.features_request,
  features_reply: OFPT.features_reply,
  set_config: OFPT.set_config,
  barrier_request: OFPT.barrier_request,
  barrier_reply: OFPT.barrier_reply,
  flow_mod: OFPT.flow_mod,
  bundle_control: OFPT.bundle_control,
  bundle_add_message: OFPT.bundle_add_message,
  flow_stats_request: OFPT.multipart_request,
  flow_stats_reply: OFPT.multipart_reply,
  port_desc_request: OFPT.multipart_request,
  port_desc_reply: OFPT.multipart_reply,
  port_status: OFPT.port_status,
  other: -1,
}

/** Append one message (header included) to `w`. */
export function writeFrame(w: Writer, msg: OfMessage, version: number, xid: number): void {
  const type = msg.type === 'other' ? msg.ofpType : OFPT_OF[msg.type]
  if (type === undefined) throw new OpenFlowEncodeError(`unknown message type ${String((msg as { type: unknown }).type)}`)
  const start = writeHeader(w, version, type, xid)
  writeBody(w, msg, version, xid)
  finish(w, start, msg.type)
}

/** Where the match and the instructions of a flow mod sit in the Writer's buffer. */
export interface FlowModSpans {
  /** Start of the `ofp_match` header; the OXM bytes (padded) run from matchStart + 4 to instructionsStart. */
  matchStart: number
  instructionsStart: number
  end: number
}

/**
 * BUNDLE_ADD_MESSAGE wrapping FLOW_MOD `fm`, written straight from the flow mod (no message objects), the hot
 * path of a 100k-flow bundle. Returns the spans so a caller can key the flow from the very bytes it sent.
 */
export function writeBundledFlowMod(w: Writer, version: number, xid: number, bundleId: number, flags: number, fm: FlowModInput): FlowModSpans {
  const outer = writeHeader(w, version, OFPT.bundle_add_message, xid)
  w.u32(bundleId)
  w.zeros(2)
  w.u16(flags)
  const inner = writeHeader(w, version, OFPT.flow_mod, xid)
  const command = OFPFC[fm.command ?? 'add']
  if (command === undefined) throw new OpenFlowEncodeError(`unknown flow_mod command ${String(fm.command)}`)
  checkFlowModIds(fm)
  w.u64(fm.cookie)
  w.u64(fm.cookieMask ?? 0n)
  w.u8(fm.table)
  w.u8(command)
  w.u16(fm.idleTimeout ?? 0)
  w.u16(fm.hardTimeout ?? 0)
  w.u16(fm.priority)
  w.u32(fm.bufferId ?? OFP_NO_BUFFER)
  w.u32(fm.outPort ?? OFPP.ANY)
  w.u32(fm.outGroup ?? OFPG_ANY)
  w.u16(fm.flags ?? 0)
  w.u16(fm.importance ?? 0)
  const matchStart = w.pos
  writeMatch(w, fm.match, version)
  const instructionsStart = w.pos
  writeInstructions(w, fm.instructions)
  const end = w.pos
  finish(w, inner, 'flow_mod')
  finish(w, outer, 'bundle_add_message')
  return { matchStart, instructionsStart, end }
}

export function encodeMessage(msg: OfMessage, version: number, xid: number): Buffer {
  const w = new Writer(64)
  writeFrame(w, msg, version, xid)
  return w.take()
}

function readBody(r: Reader, version: number, type: number): OfMessage {
  switch (type) {
    case OFPT.hello: {
      const versions: number[] = []
      while (r.remaining >= 4) {
        const et = r.u16('hello element type')
        const elen = r.u16('hello element length')
        if (elen < 4) throw new OpenFlowProtocolError(`hello element length ${elen} < 4`)
        const body = r.sub(elen - 4, 'hello element')
        r.skip(Math.min(r.remaining, (8 - (elen % 8)) % 8), 'hello element padding')
        if (et !== OFPHET_VERSIONBITMAP) continue
        for (let word = 0; body.remaining >= 4; word++) {
          const bits = body.u32()
          for (let b = 0; b < 32; b++) if (bits & (1 << b)) versions.push(word * 32 + b)
        }
      }
      // No bitmap (OVS sends none when its versions are contiguous): the peer supports its header version and
      // every lower one (OF1.5.1 §7.5.1; OVS `ofputil_decode_hello`).
      return { type: 'hello', versions: versions.length ? versions : Array.from({ length: version }, (_, i) => i + 1) }
    }
    case OFPT.error:
      return { type: 'error', errorType: r.u16('error type'), code: r.u16('error code'), data: Buffer.from(r.bytes(r.remaining)) }
    case OFPT.echo_request:
      return { type: 'echo_request', data: Buffer.from(r.bytes(r.remaining)) }
    case OFPT.echo_reply:
      return { type: 'echo_reply', data: Buffer.from(r.bytes(r.remaining)) }
    case OFPT.features_request:
      return { type: 'features_request' }
    case OFPT.features_reply: {
      const datapathId = r.u64('datapath_id')
      const nBuffers = r.u32()
      const nTables = r.u8()
      const auxiliaryId = r.u8()
      r.skip(2)
      const capabilities = r.u32()
      r.skip(4)
      return { type: 'features_reply', datapathId, nBuffers, nTables, auxiliaryId, capabilities }
    }
    case OFPT.set_config:
      return { type: 'set_config', flags: r.u16(), missSendLen: r.u16() }
    case OFPT.barrier_request:
      return { type: 'barrier_request' }
    case OFPT.barrier_reply:
      return { type: 'barrier_reply' }
    case OFPT.flow_mod: {
      const cookie = r.u64('cookie')
      const cookieMask = r.u64('cookie_mask')
      const table = r.u8('table_id')
      const cmd = r.u8('command')
      const command = OFPFC_NAME.get(cmd) as FlowModCommand | undefined
      if (!command) throw new OpenFlowProtocolError(`unknown flow_mod command ${cmd}`)
      const idleTimeout = r.u16()
      const hardTimeout = r.u16()
      const priority = r.u16()
      const bufferId = r.u32()
      const outPort = r.u32()
      const outGroup = r.u32()
      const flags = r.u16()
      const importance = r.u16()
      const match = readMatch(r)
      const instructions = readInstructions(r)
      return {
        type: 'flow_mod',
        command,
        cookie,
        cookieMask,
        table,
        idleTimeout,
        hardTimeout,
        priority,
        bufferId,
        outPort,
        outGroup,
        flags,
        importance,
        match,
        instructions,
      }
    }
    case OFPT.bundle_control: {
      const bundleId = r.u32('bundle_id')
      const t = r.u16('bundle type')
      const ctrl = OFPBCT_NAME.get(t) as BundleCtrlType | undefined
      if (!ctrl) throw new OpenFlowProtocolError(`unknown bundle control type ${t}`)
      const flags = r.u16('bundle flags')
      r.skip(r.remaining, 'bundle properties')
      return { type: 'bundle_control', bundleId, ctrl, flags }
    }
    case OFPT.bundle_add_message: {
      const bundleId = r.u32('bundle_id')
      r.skip(2)
      const flags = r.u16()
      const inner = r.sub(r.remaining, 'bundled message')
      const frame = decodeMessage(inner.buf.subarray(inner.pos, inner.end))
      return { type: 'bundle_add_message', bundleId, flags, message: frame.msg }
    }
    case OFPT.multipart_request:
    case OFPT.multipart_reply: {
      const mp = r.u16('multipart type')
      const flags = r.u16('multipart flags')
      r.skip(4)
      const reply = type === OFPT.multipart_reply
      if (mp === OFPMP.FLOW && !reply) {
        const table = r.u8()
        r.skip(3)
        const outPort = r.u32()
        const outGroup = r.u32()
        r.skip(4)
        const cookie = r.u64()
        const cookieMask = r.u64()
        return { type: 'flow_stats_request', flags, table, outPort, outGroup, cookie, cookieMask, match: readMatch(r) }
      }
      if (mp === OFPMP.FLOW) {
        const flows: FlowStatsEntry[] = []
        while (r.remaining > 0) flows.push(readFlowStats(r, version))
        return { type: 'flow_stats_reply', flags, flows }
      }
      if (mp === OFPMP.PORT_DESC && !reply) {
        r.skip(r.remaining)
        return { type: 'port_desc_request', flags }
      }
      if (mp === OFPMP.PORT_DESC) {
        const ports: PortDesc[] = []
        while (r.remaining > 0) ports.push(readPort(r))
        return { type: 'port_desc_reply', flags, ports }
      }
      r.pos -= 8
      return { type: 'other', ofpType: type, name: OFPT_NAME.get(type)!, body: Buffer.from(r.bytes(r.remaining)) }
    }
    case OFPT.port_status: {
      const code = r.u8('port_status reason')
      const reason = OFPPR_NAME.get(code) as PortReason | undefined
      if (!reason) throw new OpenFlowProtocolError(`unknown port_status reason ${code}`)
      r.skip(7)
      return { type: 'port_status', reason, port: readPort(r) }
    }
    default: {
      const name = OFPT_NAME.get(type)
      if (!name) throw new OpenFlowProtocolError(`unknown OpenFlow message type ${type}`, { type })
      return { type: 'other', ofpType: type, name, body: Buffer.from(r.bytes(r.remaining)) }
    }
  }
}

/** Decode exactly one message; trailing bytes inside its length are an error, as are missing ones. */
export function decodeMessage(buf: Buffer): OfFrame {
  if (buf.length < OFP_HEADER_LEN) throw new OpenFlowProtocolError(`message of ${buf.length} bytes is shorter than a header`)
  const version = buf[0]!
  const type = buf[1]!
  const len = buf.readUInt16BE(2)
  const xid = buf.readUInt32BE(4)
  if (len !== buf.length) throw new OpenFlowProtocolError(`header length ${len} != message bytes ${buf.length}`, { xid, type })
  const r = new Reader(buf, OFP_HEADER_LEN, len)
  let msg: OfMessage
  try {
    msg = readBody(r, version, type)
  } catch (err) {
    if (err instanceof OpenFlowProtocolError) {
      throw new OpenFlowProtocolError(`${OFPT_NAME.get(type) ?? `type ${type}`} xid=${xid}: ${err.message}`, { xid, type }, err)
    }
    throw err
  }
  if (r.remaining !== 0) {
    throw new OpenFlowProtocolError(`${OFPT_NAME.get(type)} xid=${xid}: ${r.remaining} trailing bytes`, { xid, type })
  }
  return { version, xid, msg }
}
