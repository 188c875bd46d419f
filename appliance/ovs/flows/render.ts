/**
 * Flows as `ovs-ofctl` text (OVS 3.1 `match_format` / `ofpacts_format` conventions), for logs and `dpuctl`.
 * Pure display: never parse this back to diff (diffs compare canonical bytes, see flow.ts).
 */
import { OFPP, OXM_BY_NAME, OFPVID_PRESENT, normalizeMatch, type Action, type Instruction, type Masked, type Match } from '../openflow/index.js'
import type { Flow } from './flow.js'

const SHORTHAND: Record<string, Record<number, string>> = {
  '2048': { 1: 'icmp', 6: 'tcp', 17: 'udp', 132: 'sctp' },
  '34525': { 58: 'icmp6', 6: 'tcp6', 17: 'udp6', 132: 'sctp6' },
}
const ETH_SHORTHAND: Record<number, string> = { 0x0800: 'ip', 0x86dd: 'ipv6', 0x0806: 'arp', 0x8847: 'mpls', 0x8848: 'mplsm' }

const hex = (v: number | bigint): string => `0x${v.toString(16)}`

function isMasked(v: unknown): v is Masked<unknown> {
  return typeof v === 'object' && v !== null && 'mask' in v
}

function prefixLen(mask: Uint8Array): number | undefined {
  let n = 0
  let ended = false
  for (const byte of mask) {
    for (let b = 7; b >= 0; b--) {
      const set = (byte >> b) & 1
      if (set && ended) return undefined
      if (set) n++
      else ended = true
    }
  }
  return n
}

function ipMaskBytes(mask: string): Uint8Array {
  if (mask.includes('.')) return Uint8Array.from(mask.split('.').map(Number))
  const groups = mask.split('::')
  const parse = (s: string | undefined): number[] => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : [])
  const head = parse(groups[0])
  const tail = parse(groups[1])
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail]
  return Uint8Array.from(all.flatMap((g) => [g >> 8, g & 0xff]))
}

function fmtValue(name: string, v: unknown): string {
  const f = OXM_BY_NAME.get(name)
  if (!f) return String(v)
  if (f.codec === 'u64' || f.cls === 0x0001 || name === 'eth_type') return hex(v as number | bigint)
  return String(v)
}

function fmtMatchField(name: string, v: unknown): string | undefined {
  const f = OXM_BY_NAME.get(name)!
  if (name === 'vlan_vid') {
    if (!isMasked(v) && typeof v === 'number' && v & OFPVID_PRESENT) return `dl_vlan=${v & 0xfff}`
    const [val, mask] = isMasked(v) ? [v.value as number, v.mask as number] : [v as number, 0x1fff]
    return `vlan_tci=0x${val.toString(16).padStart(4, '0')}/0x${mask.toString(16).padStart(4, '0')}`
  }
  if (name === 'ip_dscp') return `nw_tos=${(v as number) << 2}`
  // dump-flows names the ICMPv6 fields like the ICMPv4 ones (icmp6,icmp_type=135).
  if (name === 'icmpv6_type') return `icmp_type=${String(v)}`
  if (name === 'icmpv6_code') return `icmp_code=${String(v)}`
  if (!isMasked(v)) return `${f.ofctl}=${fmtValue(name, v)}`
  if (f.codec === 'ipv4' || f.codec === 'ipv6') {
    const len = prefixLen(ipMaskBytes(v.mask as string))
    return `${f.ofctl}=${String(v.value)}/${len === undefined ? String(v.mask) : len}`
  }
  if (f.codec === 'mac') return `${f.ofctl}=${String(v.value)}/${String(v.mask)}`
  return `${f.ofctl}=${hex(v.value as number | bigint)}/${hex(v.mask as number | bigint)}`
}

/**
 * The match as the switch holds it (value ANDed with its mask, IPv6 compressed), so the text of a flow we were
 * given equals what dump-flows shows. A match that cannot be encoded is rendered as given: error messages about
 * it must still name it.
 */
function switchForm(match: Match): Match {
  try {
    return normalizeMatch(match)
  } catch {
    return match
  }
}

/** Match text in OVS's field order: protocol shorthand, registers, metadata, in_port, L2, L3, L4. */
export function renderMatch(match: Match): string {
  const m = switchForm(match) as Record<string, unknown>
  const parts: string[] = []
  const ethType = m.eth_type as number | undefined
  const proto = m.ip_proto as number | undefined
  const protoName = ethType !== undefined && proto !== undefined ? SHORTHAND[String(ethType)]?.[proto] : undefined
  const ethName = ethType !== undefined ? ETH_SHORTHAND[ethType] : undefined
  if (protoName) parts.push(protoName)
  else if (ethName) parts.push(ethName)
  const order = [
    'reg0',
    'reg1',
    'reg2',
    'reg3',
    'reg4',
    'reg5',
    'reg6',
    'reg7',
    'metadata',
    'tunnel_id',
    'in_port',
    'vlan_vid',
    'vlan_pcp',
    'eth_src',
    'eth_dst',
    'eth_type',
    'arp_spa',
    'arp_tpa',
    'arp_op',
    'ipv4_src',
    'ipv4_dst',
    'ipv6_src',
    'ipv6_dst',
    'ip_proto',
    'ip_dscp',
    'icmpv4_type',
    'icmpv4_code',
    'icmpv6_type',
    'icmpv6_code',
    'tcp_src',
    'tcp_dst',
    'udp_src',
    'udp_dst',
  ]
  for (const name of order) {
    const v = m[name]
    if (v === undefined) continue
    if (name === 'eth_type' && (protoName || ethName)) continue
    if (name === 'ip_proto' && protoName) continue
    const text = fmtMatchField(name, v)
    if (text) parts.push(text)
  }
  return parts.join(',')
}

const PORT_NAMES = new Map<number, string>([
  [OFPP.IN_PORT, 'IN_PORT'],
  [OFPP.TABLE, 'TABLE'],
  [OFPP.NORMAL, 'NORMAL'],
  [OFPP.FLOOD, 'FLOOD'],
  [OFPP.ALL, 'ALL'],
  [OFPP.LOCAL, 'LOCAL'],
])
const SET_FIELD_NAMES: Record<string, string> = { ipv4_src: 'ip_src', ipv4_dst: 'ip_dst', tunnel_id: 'tun_id', ip_proto: 'nw_proto', icmpv4_type: 'icmp_type', icmpv4_code: 'icmp_code' }

export function renderAction(a: Action): string {
  switch (a.type) {
    case 'output':
      if (a.port === OFPP.CONTROLLER) return `CONTROLLER:${a.maxLen}`
      return PORT_NAMES.has(a.port) ? PORT_NAMES.get(a.port)! : `output:${a.port}`
    case 'set_field':
      return `set_field:${fmtValue(a.field, a.value)}->${SET_FIELD_NAMES[a.field] ?? a.field}`
    case 'push_vlan':
      return `push_vlan:${hex(a.ethertype)}`
    case 'pop_vlan':
      return 'pop_vlan'
    case 'push_mpls':
      return `push_mpls:${hex(a.ethertype)}`
    case 'pop_mpls':
      return `pop_mpls:0x${a.ethertype.toString(16).padStart(4, '0')}`
    case 'group':
      return `group:${a.groupId}`
    case 'dec_nw_ttl':
      return 'dec_ttl'
    case 'raw':
      return `raw(type=0x${a.actionType.toString(16)},${a.body.toString('hex')})`
  }
}

export function renderInstructions(instructions: readonly Instruction[]): string {
  const parts: string[] = []
  for (const i of instructions) {
    switch (i.type) {
      case 'apply_actions':
        parts.push(...i.actions.map(renderAction))
        break
      case 'clear_actions':
        parts.push('clear_actions')
        break
      case 'write_actions':
        parts.push(`write_actions(${i.actions.map(renderAction).join(',')})`)
        break
      case 'write_metadata':
        parts.push(i.mask === 0xffffffffffffffffn ? `write_metadata:${hex(i.metadata)}` : `write_metadata:${hex(i.metadata)}/${hex(i.mask)}`)
        break
      case 'goto_table':
        parts.push(`goto_table:${i.table}`)
        break
    }
  }
  return parts.length ? parts.join(',') : 'drop'
}

/** One flow as `ovs-ofctl add-flow` accepts it and `dump-flows` shows it (without counters). */
export function renderFlow(flow: Flow): string {
  const match = renderMatch(flow.match)
  return `cookie=${hex(flow.cookie)}, table=${flow.table}, priority=${flow.priority}${match ? `,${match}` : ''} actions=${renderInstructions(flow.instructions)}`
}
