/**
 * OXM match fields (OF1.5.1 §7.2.3.7; OVS `include/openvswitch/meta-flow.h` for the NXM registers).
 * The order of this table is the order OVS itself emits fields (`lib/nx-match.c` `nx_put_raw`), so an encoded
 * match is byte-identical to what `ovs-ofctl` sends and to what flow stats return.
 */

export const OFPXMC_NXM_1 = 0x0001
export const OFPXMC_OPENFLOW_BASIC = 0x8000
export const OFPXMC_PACKET_REGS = 0x8001

/** `ofp_match.type` for OXM matches. */
export const OFPMT_OXM = 1

/** `vlan_vid` bit meaning "a VLAN tag is present" (OF1.5.1 §7.2.3.8). */
export const OFPVID_PRESENT = 0x1000

/** How a field's bytes map to a model value. */
export type OxmCodec = 'u8' | 'u16' | 'u32' | 'u64' | 'mac' | 'ipv4' | 'ipv6'

/** Model value type for each codec: numbers up to 32 bits, bigint for 64, strings for addresses. */
export interface OxmCodecValue {
  u8: number
  u16: number
  u32: number
  u64: bigint
  mac: string
  ipv4: string
  ipv6: string
}

export interface OxmFieldDef {
  /** Our model key (OF spec name, lower case). */
  readonly name: string
  /** Name `ovs-ofctl` prints, for rendering. */
  readonly ofctl: string
  readonly cls: number
  readonly field: number
  readonly bytes: number
  readonly maskable: boolean
  readonly codec: OxmCodec
}

export const OXM_FIELDS = [
  { name: 'in_port', ofctl: 'in_port', cls: OFPXMC_OPENFLOW_BASIC, field: 0, bytes: 4, maskable: false, codec: 'u32' },
  { name: 'eth_src', ofctl: 'dl_src', cls: OFPXMC_OPENFLOW_BASIC, field: 4, bytes: 6, maskable: true, codec: 'mac' },
  { name: 'eth_dst', ofctl: 'dl_dst', cls: OFPXMC_OPENFLOW_BASIC, field: 3, bytes: 6, maskable: true, codec: 'mac' },
  { name: 'eth_type', ofctl: 'dl_type', cls: OFPXMC_OPENFLOW_BASIC, field: 5, bytes: 2, maskable: false, codec: 'u16' },
  { name: 'vlan_vid', ofctl: 'vlan_vid', cls: OFPXMC_OPENFLOW_BASIC, field: 6, bytes: 2, maskable: true, codec: 'u16' },
  { name: 'vlan_pcp', ofctl: 'dl_vlan_pcp', cls: OFPXMC_OPENFLOW_BASIC, field: 7, bytes: 1, maskable: false, codec: 'u8' },
  { name: 'ipv4_src', ofctl: 'nw_src', cls: OFPXMC_OPENFLOW_BASIC, field: 11, bytes: 4, maskable: true, codec: 'ipv4' },
  { name: 'ipv4_dst', ofctl: 'nw_dst', cls: OFPXMC_OPENFLOW_BASIC, field: 12, bytes: 4, maskable: true, codec: 'ipv4' },
  { name: 'ipv6_src', ofctl: 'ipv6_src', cls: OFPXMC_OPENFLOW_BASIC, field: 26, bytes: 16, maskable: true, codec: 'ipv6' },
  { name: 'ipv6_dst', ofctl: 'ipv6_dst', cls: OFPXMC_OPENFLOW_BASIC, field: 27, bytes: 16, maskable: true, codec: 'ipv6' },
  { name: 'ip_dscp', ofctl: 'ip_dscp', cls: OFPXMC_OPENFLOW_BASIC, field: 8, bytes: 1, maskable: false, codec: 'u8' },
  { name: 'ip_proto', ofctl: 'nw_proto', cls: OFPXMC_OPENFLOW_BASIC, field: 10, bytes: 1, maskable: false, codec: 'u8' },
  { name: 'tcp_src', ofctl: 'tp_src', cls: OFPXMC_OPENFLOW_BASIC, field: 13, bytes: 2, maskable: true, codec: 'u16' },
  { name: 'tcp_dst', ofctl: 'tp_dst', cls: OFPXMC_OPENFLOW_BASIC, field: 14, bytes: 2, maskable: true, codec: 'u16' },
  { name: 'udp_src', ofctl: 'tp_src', cls: OFPXMC_OPENFLOW_BASIC, field: 15, bytes: 2, maskable: true, codec: 'u16' },
  { name: 'udp_dst', ofctl: 'tp_dst', cls: OFPXMC_OPENFLOW_BASIC, field: 16, bytes: 2, maskable: true, codec: 'u16' },
  { name: 'icmpv4_type', ofctl: 'icmp_type', cls: OFPXMC_OPENFLOW_BASIC, field: 19, bytes: 1, maskable: false, codec: 'u8' },
  { name: 'icmpv4_code', ofctl: 'icmp_code', cls: OFPXMC_OPENFLOW_BASIC, field: 20, bytes: 1, maskable: false, codec: 'u8' },
  { name: 'arp_op', ofctl: 'arp_op', cls: OFPXMC_OPENFLOW_BASIC, field: 21, bytes: 2, maskable: false, codec: 'u16' },
  { name: 'arp_spa', ofctl: 'arp_spa', cls: OFPXMC_OPENFLOW_BASIC, field: 22, bytes: 4, maskable: true, codec: 'ipv4' },
  { name: 'arp_tpa', ofctl: 'arp_tpa', cls: OFPXMC_OPENFLOW_BASIC, field: 23, bytes: 4, maskable: true, codec: 'ipv4' },
  { name: 'icmpv6_type', ofctl: 'icmpv6_type', cls: OFPXMC_OPENFLOW_BASIC, field: 29, bytes: 1, maskable: false, codec: 'u8' },
  { name: 'icmpv6_code', ofctl: 'icmpv6_code', cls: OFPXMC_OPENFLOW_BASIC, field: 30, bytes: 1, maskable: false, codec: 'u8' },
  { name: 'tunnel_id', ofctl: 'tun_id', cls: OFPXMC_OPENFLOW_BASIC, field: 38, bytes: 8, maskable: true, codec: 'u64' },
  // NXM_NX_REG0-7; in OF1.5 OVS sends them as halves of OXM_OF_PKT_REG0-3 (see match.ts).
  { name: 'reg0', ofctl: 'reg0', cls: OFPXMC_NXM_1, field: 0, bytes: 4, maskable: true, codec: 'u32' },
  { name: 'reg1', ofctl: 'reg1', cls: OFPXMC_NXM_1, field: 1, bytes: 4, maskable: true, codec: 'u32' },
  { name: 'reg2', ofctl: 'reg2', cls: OFPXMC_NXM_1, field: 2, bytes: 4, maskable: true, codec: 'u32' },
  { name: 'reg3', ofctl: 'reg3', cls: OFPXMC_NXM_1, field: 3, bytes: 4, maskable: true, codec: 'u32' },
  { name: 'reg4', ofctl: 'reg4', cls: OFPXMC_NXM_1, field: 4, bytes: 4, maskable: true, codec: 'u32' },
  { name: 'reg5', ofctl: 'reg5', cls: OFPXMC_NXM_1, field: 5, bytes: 4, maskable: true, codec: 'u32' },
  { name: 'reg6', ofctl: 'reg6', cls: OFPXMC_NXM_1, field: 6, bytes: 4, maskable: true, codec: 'u32' },
  { name: 'reg7', ofctl: 'reg7', cls: OFPXMC_NXM_1, field: 7, bytes: 4, maskable: true, codec: 'u32' },
  { name: 'metadata', ofctl: 'metadata', cls: OFPXMC_OPENFLOW_BASIC, field: 2, bytes: 8, maskable: true, codec: 'u64' },
] as const satisfies readonly OxmFieldDef[]

export type OxmField = (typeof OXM_FIELDS)[number]
export type OxmFieldName = OxmField['name']
export type OxmValue<N extends OxmFieldName> = OxmCodecValue[Extract<OxmField, { name: N }>['codec']]

/** Position of each field in `OXM_FIELDS`: the canonical order of a match. */
export const OXM_BY_NAME: ReadonlyMap<string, OxmField & { index: number }> = new Map(OXM_FIELDS.map((f, index) => [f.name, { ...f, index }]))
/** Lookup by the wire header's class and field (`cls << 7 | field`). */
export const OXM_BY_WIRE: ReadonlyMap<number, OxmField> = new Map(OXM_FIELDS.map((f) => [f.cls * 128 + f.field, f]))
