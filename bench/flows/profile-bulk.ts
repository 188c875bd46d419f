/**
 * Profiling aid for the bulk path (issue #13): `setDesired` of N flows then the no-op patch that needs the key
 * index, ROUNDS times on a private OVS. Run under `node --cpu-prof --import tsx` to see where our time goes.
 * Run: node --cpu-prof --cpu-prof-dir /tmp/prof --import tsx bench/flows/profile-bulk.ts [flows=100000] [rounds=5]
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { startOvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { OpenFlowConnection } from '../../appliance/ovs/openflow/index.js'
import { FlowProgrammer, applyActions, flow, gotoTable, setField, type Flow } from '../../appliance/ovs/flows/index.js'

const run = promisify(execFile)
const N = Number(process.argv[2] ?? 100_000)
const ROUNDS = Number(process.argv[3] ?? 5)
const flows: Flow[] = Array.from({ length: N }, (_, i) =>
  flow({
    table: 0,
    priority: 200,
    cookie: 0x1n,
    match: { in_port: 1, eth_type: 0x0800, ipv4_dst: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
    instructions: [applyActions(setField('reg0', i)), gotoTable(1)],
  }),
)
const ovs = await startOvsSandbox({ privateNetns: true })
try {
  const br = 'br-prof'
  await ovs.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail_mode=secure')
  const conn = new OpenFlowConnection({ socketPath: ovs.mgmtSocket(br) }).start()
  await conn.waitConnected()
  for (let r = 0; r < ROUNDS; r++) {
    await run('ovs-ofctl', ['-O', 'OpenFlow15', 'del-flows', br], { env: ovs.env })
    const programmer = new FlowProgrammer({ conn, ownership: 'bridge' })
    const t0 = performance.now()
    await programmer.setDesired(flows)
    const barrier = performance.now() - t0
    await programmer.patchDesired({ upsert: [flows[0]!] })
    console.log(`round ${r}: barrier ${barrier.toFixed(0)} ms, with key index ${(performance.now() - t0).toFixed(0)} ms`)
    programmer.close()
  }
  await conn.close()
} finally {
  await ovs.stop()
}
