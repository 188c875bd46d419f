/**
 * The OpenFlow pipeline the appliance writes on a chaining bridge (br-sfc; also br-hbn when a switch lives there).
 * This file is the one place that names tables and priorities; README "Service chaining pipeline" documents it.
 *
 *   table 0  SFC_FORWARD  (exact in_port, optional eth_dst / vlan_vid; actions: output, push/pop VLAN only)
 *     prio 310  in_port=<parent>,vlan_vid=<v>,eth_dst=<mac>   vlan port, known unicast (reserved, unused)
 *     prio 300  in_port=A,eth_dst=<mac of B>       -> output:B              known unicast (switch of 3+ ports)
 *     prio 210  in_port=<parent>,vlan_vid=<v>,eth_dst=01:00../01:00.. -> pop_vlan, flood   vlan port bcast/mcast
 *     prio 200  in_port=A,eth_dst=01:00:00:00:00:00/01:00:00:00:00:00  -> output:all others   bcast/mcast flood
 *     prio 110  in_port=<parent>,vlan_vid=<v>      -> pop_vlan, output:others  vlan port ingress
 *     prio 100  in_port=A                          -> output:all others     a 2-port switch is exactly this
 *     (no table-miss flow: the bridge is fail_mode=secure, an unchained port passes nothing)
 *
 * Only offloadable matches and actions are used (reference/ovs.md §6): no learn, controller, NSH, select groups
 * or trunc. A MAC that moves is a flow change applied at once, not a learnt entry that ages out.
 */
export const SFC_FORWARD_TABLE = 0

export const PRIORITY = {
  KNOWN_UNICAST: 300,
  VLAN_MULTICAST: 210,
  MULTICAST: 200,
  VLAN_INGRESS: 110,
  FLOOD: 100,
} as const

/** Ethernet group bit: matches broadcast and every multicast destination. */
export const MULTICAST_BIT = { value: '01:00:00:00:00:00', mask: '01:00:00:00:00:00' } as const

/** OpenFlow 1.3+ vlan_vid values carry OFPVID_PRESENT. */
export const OFPVID_PRESENT = 0x1000
export const ETH_TYPE_VLAN = 0x8100
