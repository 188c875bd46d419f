/**
 * `renderFlow` is the text operators compare with `ovs-ofctl dump-flows`: for a flow of every field shape in the
 * codec's OXM table (plain and masked, with value bits outside the mask) and every reserved output port, the
 * flow is installed on a real switch, read back through our client, rendered, and compared with dump-flows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startOvsSandbox, type OvsSandbox } from '../../../bin/demo/ovs-sandbox.js'
import { OFPP, OpenFlowConnection, commitFlowMods, readFlowStats, type Match } from '../openflow/index.js'
import { apply, flow, output } from './builders.js'
import { flowFromStats, flowModFor, type Flow } from './flow.js'
import { renderFlow } from './render.js'

const IP = { eth_type: 0x0800 } as const
const IP6 = { eth_type: 0x86dd } as const
const SHAPES: [string, Match][] = [
  ['in_port', { in_port: 7 }],
  ['eth_src', { eth_src: 'aa:bb:cc:00:00:01' }],
  ['eth_src masked', { eth_src: { value: 'aa:bb:cc:dd:ee:ff', mask: 'ff:ff:ff:00:00:00' } }],
  ['eth_dst', { eth_dst: '02:00:00:00:00:01' }],
  ['eth_dst masked', { eth_dst: { value: '01:00:00:00:00:00', mask: '01:00:00:00:00:00' } }],
  ['eth_type', { eth_type: 0x88cc }],
  ['vlan_vid', { vlan_vid: 0x1000 | 10 }],
  ['vlan_vid masked', { vlan_vid: { value: 0x1000, mask: 0x1000 } }],
  ['vlan_pcp', { vlan_vid: 0x1000 | 10, vlan_pcp: 3 }],
  ['ipv4_src', { ...IP, ipv4_src: '10.0.0.1' }],
  ['ipv4_src masked', { ...IP, ipv4_src: { value: '10.1.2.3', mask: '255.255.0.0' } }],
  ['ipv4_dst masked non-prefix', { ...IP, ipv4_dst: { value: '10.1.2.3', mask: '255.0.255.0' } }],
  ['ipv6_src', { ...IP6, ipv6_src: '2001:db8:0:0:0:0:0:1' }],
  ['ipv6_dst masked', { ...IP6, ipv6_dst: { value: '2001:db8:0:0:1:0:0:1', mask: 'ffff:ffff:0:0:0:0:0:0' } }],
  ['ip_dscp', { ...IP, ip_dscp: 46 }],
  ['ip_proto', { ...IP, ip_proto: 47 }],
  ['tcp_src', { ...IP, ip_proto: 6, tcp_src: 22 }],
  ['tcp_dst masked', { ...IP, ip_proto: 6, tcp_dst: { value: 0x1234, mask: 0xff00 } }],
  ['udp_src', { ...IP6, ip_proto: 17, udp_src: 53 }],
  ['udp_dst', { ...IP, ip_proto: 17, udp_dst: 4789 }],
  ['icmpv4', { ...IP, ip_proto: 1, icmpv4_type: 8, icmpv4_code: 0 }],
  ['icmpv6', { ...IP6, ip_proto: 58, icmpv6_type: 135, icmpv6_code: 0 }],
  ['arp', { eth_type: 0x0806, arp_op: 1, arp_spa: '10.0.0.1', arp_tpa: { value: '10.0.0.7', mask: '255.255.255.0' } }],
  ['tunnel_id', { tunnel_id: 0x64n }],
  ['tunnel_id masked', { tunnel_id: { value: 0xffn, mask: 0xf0n } }],
  ['reg', { reg0: 1, reg7: 0xffffffff }],
  ['reg masked', { reg3: { value: 0x1234, mask: 0xff } }],
  ['metadata', { metadata: 0x10n }],
  ['metadata masked', { metadata: { value: 0x1234n, mask: 0xff00n } }],
]
const PORTS: [string, number][] = [
  ['LOCAL', OFPP.LOCAL],
  ['IN_PORT', OFPP.IN_PORT],
  ['CONTROLLER', OFPP.CONTROLLER],
  ['NORMAL', OFPP.NORMAL],
  ['FLOOD', OFPP.FLOOD],
  ['ALL', OFPP.ALL],
  ['TABLE', OFPP.TABLE],
  ['plain', 3],
]

let ovs: OvsSandbox
let conn: OpenFlowConnection
const BR = 'brr0'

beforeAll(async () => {
  ovs = await startOvsSandbox({ privateNetns: true })
  await ovs.vsctl('add-br', BR, '--', 'set', 'bridge', BR, 'datapath_type=netdev', 'fail_mode=secure')
  conn = new OpenFlowConnection({ socketPath: ovs.mgmtSocket(BR) }).start()
  await conn.waitConnected()
})
afterAll(async () => {
  await conn?.close()
  await ovs?.stop()
})

const cases: [string, Flow][] = [
  ...SHAPES.map(([name, match], i): [string, Flow] => [name, flow({ table: 1, priority: 100 + i, cookie: 0x5n, match, instructions: apply(output(2)) })]),
  ...PORTS.map(([name, port], i): [string, Flow] => [`output ${name}`, flow({ table: 2, priority: 100 + i, cookie: 0x6n, match: { in_port: 1 }, instructions: apply(output(port)) })]),
]

describe('renderFlow matches ovs-ofctl dump-flows', () => {
  it.each(cases)('%s', async (_name, f) => {
    await commitFlowMods(conn, [flowModFor(f, 'add')])
    const stats = await readFlowStats(conn, { table: f.table })
    const back = stats.map(flowFromStats).find((s) => s.priority === f.priority)
    expect(back).toBeDefined()
    const dump = (await ovs.ofctl('-O', 'OpenFlow15', '--no-stats', '--no-names', 'dump-flows', BR, `table=${f.table}`))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.includes(`priority=${f.priority},`) || l.includes(`priority=${f.priority} `))
    expect(dump).toHaveLength(1)
    expect(renderFlow(back!)).toBe(dump[0])
    // Logs render the desired flow as the caller wrote it (unmasked bits, uncompressed IPv6): same text.
    expect(renderFlow(f)).toBe(dump[0])
  })
})
