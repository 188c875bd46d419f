/**
 * A/B of two versions of the flow programmer against ovs-ofctl (issue #13), bulk 100k: per round ovs-ofctl, then
 * the other tree's programmer and this one, in alternating order, in one process on one private OVS, so both see
 * the same load. The other tree is an export of a commit with this one's node_modules linked in:
 *   git archive <ref> | tar -x -C /tmp/flows-old && ln -s "$PWD/node_modules" /tmp/flows-old/node_modules
 * Run: OLD_TREE=/tmp/flows-old npx tsx bench/flows/ab-ref.ts [rounds=5]
 */
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import { startOvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import * as NewOf from '../../appliance/ovs/openflow/index.js'
import * as NewFl from '../../appliance/ovs/flows/index.js'

const OLD_TREE = process.env.OLD_TREE
if (!OLD_TREE) throw new Error('set OLD_TREE to an exported tree of the version to compare with (see the header)')
// The other version's modules have the same shape as ours (FlowProgrammer, builders, OpenFlowConnection).
const OldOf = (await import(resolve(OLD_TREE, 'appliance/ovs/openflow/index.ts'))) as typeof NewOf
const OldFl = (await import(resolve(OLD_TREE, 'appliance/ovs/flows/index.ts'))) as typeof NewFl
const run = promisify(execFile)
const ROUNDS = Number(process.argv[2] ?? 5)
const N = 100_000
const mk = (Fl: typeof NewFl) =>
  Array.from({ length: N }, (_, i) =>
    Fl.flow({
      table: 0,
      priority: 200,
      cookie: 0x1n,
      match: { in_port: 1, eth_type: 0x0800, ipv4_dst: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
      instructions: [Fl.applyActions(Fl.setField('reg0', i)), Fl.gotoTable(1)],
    }),
  )
const ovs = await startOvsSandbox({ privateNetns: true })
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
try {
  const br = 'br-ab'
  await ovs.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail_mode=secure')
  const ofctl = async (...args: string[]) => {
    const t0 = performance.now()
    await run('ovs-ofctl', ['-O', 'OpenFlow15', ...args], { env: ovs.env, maxBuffer: 1 << 28 })
    return performance.now() - t0
  }
  const file = join(ovs.rundir, 'ab.txt')
  writeFileSync(file, mk(NewFl).map(NewFl.renderFlow).join('\n') + '\n')
  const sides = { old: { Of: OldOf, Fl: OldFl }, new: { Of: NewOf, Fl: NewFl } }
  const res: Record<string, { bar: number[]; idx: number[] }> = { old: { bar: [], idx: [] }, new: { bar: [], idx: [] } }
  const base: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    await ofctl('del-flows', br)
    base.push(await ofctl('--bundle', 'add-flows', br, file))
    for (const name of (r % 2 ? ['new', 'old'] : ['old', 'new']) as ('old' | 'new')[]) {
      const { Of, Fl } = sides[name]
      const flows = mk(Fl)
      await ofctl('del-flows', br)
      const conn = new Of.OpenFlowConnection({ socketPath: ovs.mgmtSocket(br) }).start()
      await conn.waitConnected()
      const p = new Fl.FlowProgrammer({ conn, ownership: 'bridge' })
      const t0 = performance.now()
      await p.setDesired(flows)
      res[name]!.bar.push(performance.now() - t0)
      const noop = await p.patchDesired({ upsert: [flows[0]!] })
      res[name]!.idx.push(performance.now() - t0)
      if (noop.added + noop.modified + noop.removed) throw new Error('noop changed')
      p.close()
      await conn.close()
    }
    console.log(
      `round ${r}: ofctl ${base[r]!.toFixed(0)} | old ${res.old!.bar[r]!.toFixed(0)}/${res.old!.idx[r]!.toFixed(0)} | new ${res.new!.bar[r]!.toFixed(0)}/${res.new!.idx[r]!.toFixed(0)} ms (barrier/with index) load ${loadavg()[0]!.toFixed(1)}`,
    )
  }
  const b = med(base)
  for (const name of ['old', 'new'])
    console.log(
      `${name}: barrier ${med(res[name]!.bar).toFixed(0)} ms (${(med(res[name]!.bar) / b).toFixed(2)}x), with index ${med(res[name]!.idx).toFixed(0)} ms (${(med(res[name]!.idx) / b).toFixed(2)}x), per round ${res[name]!.idx.map((x, i) => (x / base[i]!).toFixed(2)).join(' ')}; ofctl median ${b.toFixed(0)} ms`,
    )
} finally {
  await ovs.stop()
}
