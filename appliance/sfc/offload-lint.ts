/**
 * Offload lint: every generated flow must stay within what BlueField's ASAP2 path (TC flower / OVS-DOCA)
 * offloads (reference/ovs.md §6): matches on L2-L4 header fields, and the actions output, push/pop VLAN and
 * MPLS, set_field on header fields. Tables, goto_table and metadata fold away in the megaflow and are fine.
 * A flow that needs anything else makes its chain `Offloadable=False` with the findings as the reason.
 */
import type { Action, Instruction, Match } from '../ovs/openflow/model.js'

/** Match fields that translate to offloadable datapath keys. */
const OFFLOADABLE_MATCH = new Set<string>([
  'in_port',
  'eth_src',
  'eth_dst',
  'eth_type',
  'vlan_vid',
  'vlan_pcp',
  'ip_proto',
  'ip_dscp',
  'ipv4_src',
  'ipv4_dst',
  'ipv6_src',
  'ipv6_dst',
  'tcp_src',
  'tcp_dst',
  'udp_src',
  'udp_dst',
  'icmpv4_type',
  'icmpv4_code',
  'icmpv6_type',
  'icmpv6_code',
  'arp_op',
  'arp_spa',
  'arp_tpa',
  'tunnel_id',
  'metadata',
  'reg0',
  'reg1',
  'reg2',
  'reg3',
  'reg4',
  'reg5',
  'reg6',
  'reg7',
])

/** Fields a set_field may rewrite in hardware (eth, VLAN, IP, L4 ports, tunnel key); registers fold away. */
const OFFLOADABLE_SET_FIELD = new Set<string>([
  'eth_src',
  'eth_dst',
  'vlan_vid',
  'vlan_pcp',
  'ipv4_src',
  'ipv4_dst',
  'ipv6_src',
  'ipv6_dst',
  'ip_dscp',
  'tcp_src',
  'tcp_dst',
  'udp_src',
  'udp_dst',
  'tunnel_id',
  'metadata',
  'reg0',
  'reg1',
  'reg2',
  'reg3',
  'reg4',
  'reg5',
  'reg6',
  'reg7',
])

const OFPP_CONTROLLER = 0xfffffffd

function lintAction(a: Action): string | undefined {
  switch (a.type) {
    case 'output':
      return a.port === OFPP_CONTROLLER ? 'output to CONTROLLER becomes a userspace datapath action' : undefined
    case 'push_vlan':
    case 'pop_vlan':
    case 'push_mpls':
    case 'pop_mpls':
    case 'dec_nw_ttl':
      return undefined
    case 'group':
      return `group ${a.groupId}: select groups need dp_hash, which mlx5 does not offload`
    case 'set_field':
      return OFFLOADABLE_SET_FIELD.has(a.field) ? undefined : `set_field ${a.field} is not an offloadable rewrite`
  }
}

/** Findings for one flow: empty when the flow is offloadable. */
export function lintFlow(flow: { match: Match; instructions: readonly Instruction[] }): string[] {
  const findings: string[] = []
  for (const field of Object.keys(flow.match)) {
    if (!OFFLOADABLE_MATCH.has(field)) findings.push(`match on ${field} is not an offloadable datapath key`)
  }
  for (const ins of flow.instructions) {
    if (ins.type === 'apply_actions' || ins.type === 'write_actions') {
      for (const a of ins.actions) {
        const f = lintAction(a)
        if (f) findings.push(f)
      }
    }
  }
  return findings
}
