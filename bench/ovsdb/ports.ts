/**
 * Budget line (DESIGN.md §8): "OVSDB batches faster than ovs-vsctl".
 *
 * Creates N ports (Interface + Port with external_ids, linked into a fresh netdev bridge) in ONE transaction
 * with the native client, against the baseline of ONE chained `ovs-vsctl add-port ... -- set interface ...`
 * call doing the same, on the same private ovsdb-server + ovs-vswitchd. Both sides wait for ovs-vswitchd to
 * apply the change (next_cfg/cur_cfg, as ovs-vsctl does without --no-wait); a second pair measures the
 * database alone (`--no-wait`, no next_cfg). Each side gets its own fresh bridge and the previous bridge is
 * deleted first, so vswitchd reconfigures the same number of ports. `rounds` alternating runs per mode (ours,
 * ovs-vsctl, ours, ...; the order flips every round); prints medians, ranges and the ratio.
 *
 *   npx tsx bench/ovsdb/ports.ts [ports=1000] [rounds=5]
 */
import { performance } from 'node:perf_hooks'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { OvsdbClient, whereName } from '../../appliance/ovs/ovsdb/index.js'
import { fmt, load, spread } from '../support/stats.js'

const N = Number(process.argv[2] ?? 1000)
const ROUNDS = Number(process.argv[3] ?? 5)

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
  const rows: { mode: string; vsctlMs: number[]; clientMs: number[] }[] = []
  let previous: string | undefined
  let seq = 0
  for (const wait of [true, false]) {
    const mode = wait ? 'wait for vswitchd (cur_cfg)' : 'database only (--no-wait)'
    const row = { mode, vsctlMs: [] as number[], clientMs: [] as number[] }
    for (let r = 0; r < ROUNDS; r++) {
      for (const side of r % 2 === 0 ? (['client', 'vsctl'] as const) : (['vsctl', 'client'] as const)) {
        const br = `odb${side === 'client' ? 'n' : 'v'}${seq++}`
        await freshBridge(ovs, previous, br)
        previous = br
        if (side === 'client') row.clientMs.push(await viaClient(client, br, wait))
        else row.vsctlMs.push(await viaVsctl(ovs, br, wait))
      }
    }
    rows.push(row)
  }
  client.close()
  console.log(`OVSDB: create ${N} ports (Interface + Port + external_ids, bridge ports mutate) on a fresh netdev bridge, ${ROUNDS} alternating rounds`)
  for (const r of rows) {
    const v = spread(r.vsctlMs)
    const c = spread(r.clientMs)
    const perRound = r.clientMs.map((x, i) => (x / r.vsctlMs[i]!).toFixed(2)).join(' ')
    console.log(
      `  ${r.mode}\n    ovs-vsctl (one chained call)     ${fmt(v)}\n    native client (one transaction)  ${fmt(c)}\n` +
        `    ratio of medians client/vsctl ${(c.median / v.median).toFixed(2)}x (per round ${perRound}) (budget <= 1.0x)`,
    )
  }
  console.log(load())
  console.log(JSON.stringify({ bench: 'ovsdb/ports', ports: N, rounds: ROUNDS, loadavg: load(), results: rows }))
} finally {
  await ovs.stop()
}
