/**
 * Budget line (DESIGN.md §8): "OVSDB batches faster than ovs-vsctl".
 *
 * Creates N ports (Interface + Port with external_ids, linked into a fresh netdev bridge) in ONE transaction
 * with the native client, against the baseline of ONE chained `ovs-vsctl add-port ... -- set interface ...`
 * call doing the same, on the same private ovsdb-server + ovs-vswitchd. Both sides wait for ovs-vswitchd to
 * apply the change (next_cfg/cur_cfg, as ovs-vsctl does without --no-wait); a second pair measures the
 * database alone (`--no-wait`, no next_cfg). Each side gets its own fresh bridge and the previous bridge is
 * deleted first, so vswitchd reconfigures the same number of ports. One run each; prints times and ratios.
 *
 *   npx tsx bench/ovsdb/ports.ts [ports=1000]
 */
import { performance } from 'node:perf_hooks'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { OvsdbClient, whereName } from '../../appliance/ovs/ovsdb/index.js'

const N = Number(process.argv[2] ?? 1000)

async function freshBridge(ovs: OvsSandbox, previous: string | undefined, name: string): Promise<void> {
  if (previous) await ovs.vsctl('del-br', previous)
  await ovs.vsctl('add-br', name, '--', 'set', 'bridge', name, 'datapath_type=netdev')
}

async function viaVsctl(ovs: OvsSandbox, bridge: string, wait: boolean): Promise<number> {
  const args: string[] = wait ? [] : ['--no-wait']
  for (let i = 0; i < N; i++) {
    const name = `${bridge}-p${i}`
    if (i > 0) args.push('--')
    args.push('add-port', bridge, name, '--', 'set', 'interface', name, `external_ids:dpf-id=${name}`, 'external_ids:owner=bench')
  }
  const started = performance.now()
  await ovs.vsctl(...args)
  return performance.now() - started
}

async function viaClient(client: OvsdbClient, bridge: string, wait: boolean): Promise<number> {
  const started = performance.now()
  const txn = client.txn()
  const ports = []
  for (let i = 0; i < N; i++) {
    const name = `${bridge}-p${i}`
    const iface = txn.insert('Interface', { name, external_ids: { 'dpf-id': name, owner: 'bench' } })
    ports.push(txn.insert('Port', { name, interfaces: [iface] }))
  }
  txn.mutate('Bridge', whereName(bridge), [['ports', 'insert', ports]])
  if (wait) txn.incrementNextCfg()
  const result = await client.transact(txn)
  if (wait) await client.waitForCurCfg(result.nextCfg!, { timeoutMs: 120_000 })
  const elapsed = performance.now() - started
  if (client.cache.portsOf(client.cache.bridge(bridge)!).length !== N + 1) throw new Error(`bridge ${bridge} does not hold ${N} ports`)
  return elapsed
}

// A private netns: the netdev datapath's tap devices must not collide with other sandboxes running meanwhile.
const ovs = await startOvsSandbox({ privateNetns: true })
try {
  const client = await OvsdbClient.connect({ remote: ovs.dbRemote })
  const rows: { mode: string; vsctlMs: number; clientMs: number }[] = []
  let previous: string | undefined
  for (const wait of [true, false]) {
    const mode = wait ? 'wait for vswitchd (cur_cfg)' : 'database only (--no-wait)'
    const b1 = `odbv${wait ? 'w' : 'n'}`
    await freshBridge(ovs, previous, b1)
    const vsctlMs = await viaVsctl(ovs, b1, wait)
    const b2 = `odbn${wait ? 'w' : 'n'}`
    await freshBridge(ovs, b1, b2)
    const clientMs = await viaClient(client, b2, wait)
    previous = b2
    rows.push({ mode, vsctlMs, clientMs })
  }
  client.close()
  console.log(`OVSDB: create ${N} ports (Interface + Port + external_ids, bridge ports mutate) on a fresh netdev bridge`)
  for (const r of rows) {
    console.log(
      `  ${r.mode.padEnd(30)} ovs-vsctl (one chained call) ${r.vsctlMs.toFixed(0).padStart(6)} ms | ` +
        `native client (one transaction) ${r.clientMs.toFixed(0).padStart(6)} ms | ratio client/vsctl ${(r.clientMs / r.vsctlMs).toFixed(2)}x`,
    )
  }
  console.log(JSON.stringify({ bench: 'ovsdb/ports', ports: N, results: rows }))
} finally {
  await ovs.stop()
}
