/**
 * Flows used by the oracle tests: each with the `ovs-ofctl` text a person would write for it (match and
 * actions as OVS 3.1 prints them). Shared by the ofp-print test and the install/dump-flows test.
 */
import { apply, applyActions, flow, gotoTable, output, popVlan, pushVlan, setField, vlanVid, writeMetadata } from '../builders.js'
import type { Flow } from '../flow.js'

export interface FlowCase {
  flow: Flow
  /** `priority=...,<match> actions=<actions>` as ovs-ofctl prints it. */
  text: string
}

export const FLOW_CASES: FlowCase[] = [
  { flow: flow({ table: 0, priority: 100, match: { in_port: 1 }, instructions: apply(output(2)) }), text: 'priority=100,in_port=1 actions=output:2' },
  { flow: flow({ table: 0, priority: 0, cookie: 0x1n }), text: 'priority=0 actions=drop' },
  {
    flow: flow({
      table: 1,
      priority: 200,
      cookie: 0xab00000000000001n,
      match: { eth_src: '02:00:00:00:00:01', eth_dst: { value: '01:00:00:00:00:00', mask: '01:00:00:00:00:00' } },
      instructions: apply(output(3), output(4)),
    }),
    text: 'priority=200,dl_src=02:00:00:00:00:01,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=output:3,output:4',
  },
  {
    flow: flow({
      table: 2,
      priority: 10,
      match: { eth_type: 0x0800, ipv4_src: { value: '10.0.0.0', mask: '255.0.0.0' }, ipv4_dst: '192.168.1.10' },
      instructions: apply(output(0xfffffffa)),
    }),
    text: 'priority=10,ip,nw_src=10.0.0.0/8,nw_dst=192.168.1.10 actions=NORMAL',
  },
  {
    flow: flow({ table: 2, priority: 11, match: { eth_type: 0x0800, ip_proto: 6, tcp_src: 1024, tcp_dst: { value: 0x50, mask: 0xfff0 } }, instructions: apply(output(5)) }),
    text: 'priority=11,tcp,tp_src=1024,tp_dst=0x50/0xfff0 actions=output:5',
  },
  {
    flow: flow({ table: 2, priority: 12, match: { eth_type: 0x0800, ip_proto: 17, udp_dst: 4789 }, instructions: apply(output(0xfffffff8)) }),
    text: 'priority=12,udp,tp_dst=4789 actions=IN_PORT',
  },
  {
    flow: flow({
      table: 3,
      priority: 13,
      match: { eth_type: 0x86dd, ipv6_src: { value: 'fd00:1::', mask: 'ffff:ffff::' }, ipv6_dst: 'fd00::2', ip_proto: 6, tcp_dst: 22 },
      instructions: apply(output(6)),
    }),
    text: 'priority=13,tcp6,ipv6_src=fd00:1::/32,ipv6_dst=fd00::2,tp_dst=22 actions=output:6',
  },
  {
    flow: flow({ table: 3, priority: 14, match: { in_port: 7, vlan_vid: vlanVid(100) }, instructions: apply(popVlan(), output(8)) }),
    text: 'priority=14,in_port=7,dl_vlan=100 actions=pop_vlan,output:8',
  },
  {
    flow: flow({ table: 4, priority: 15, match: { in_port: 8 }, instructions: apply(pushVlan(200), output(7)) }),
    text: 'priority=15,in_port=8 actions=push_vlan:0x8100,set_field:4296->vlan_vid,output:7',
  },
  {
    flow: flow({
      table: 4,
      priority: 16,
      match: { reg0: 5, reg1: { value: 0x10, mask: 0xf0 }, reg7: 0xffffffff },
      instructions: [applyActions(setField('reg2', 0x1234)), gotoTable(9)],
    }),
    text: 'priority=16,reg0=0x5,reg1=0x10/0xf0,reg7=0xffffffff actions=set_field:0x1234->reg2,goto_table:9',
  },
  {
    flow: flow({ table: 5, priority: 17, match: { metadata: { value: 0x100n, mask: 0xff00n } }, instructions: [writeMetadata(0x7n, 0xffn), gotoTable(6)] }),
    text: 'priority=17,metadata=0x100/0xff00 actions=write_metadata:0x7/0xff,goto_table:6',
  },
  {
    flow: flow({ table: 5, priority: 18, match: { eth_type: 0x0806, arp_tpa: '10.0.0.1', arp_op: 1 }, instructions: apply(setField('eth_dst', '02:00:00:00:00:09'), output(1)) }),
    text: 'priority=18,arp,arp_tpa=10.0.0.1,arp_op=1 actions=set_field:02:00:00:00:00:09->eth_dst,output:1',
  },
  { flow: flow({ table: 6, priority: 19, match: { eth_type: 0x0800, ip_proto: 47 }, instructions: apply(output(2)) }), text: 'priority=19,ip,nw_proto=47 actions=output:2' },
  { flow: flow({ table: 6, priority: 20, match: { eth_type: 0x88cc } }), text: 'priority=20,dl_type=0x88cc actions=drop' },
  {
    flow: flow({ table: 7, priority: 21, match: { tunnel_id: 0x55n, reg6: 3 }, instructions: apply(setField('metadata', 9n), output(1)) }),
    text: 'priority=21,reg6=0x3,tun_id=0x55 actions=set_field:0x9->metadata,output:1',
  },
  {
    flow: flow({ table: 7, priority: 22, match: { eth_type: 0x0800, ip_proto: 1, icmpv4_type: 8 }, instructions: apply(setField('ipv4_dst', '10.9.9.9'), output(1)) }),
    text: 'priority=22,icmp,icmp_type=8 actions=set_field:10.9.9.9->ip_dst,output:1',
  },
]
