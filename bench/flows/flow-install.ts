/**
 * Flow programming vs `ovs-ofctl` (DESIGN.md §8: "at least as fast as ovs-ofctl --bundle add-flows for bulk,
 * single-chain change to installed flows in milliseconds").
 *
 * Same flows, same bridge, one run, alternating baseline and ours; `ROUNDS` rounds each, reported as the median,
 * the first round and the range (never the best):
 *   bulk N   : empty bridge -> N flows.   ours: FlowProgrammer.setDesired (model -> bundle -> barrier), and the
 *                                                same plus the key index it defers to the next diff (timed as
 *                                                a no-op patchDesired right after, which builds it)
 *                                          base: ovs-ofctl -O OpenFlow15 --bundle add-flows <file>
 *   change 1%: 100k installed, 1% of them get new actions.
 *                                          ours: patchDesired(1000 changed flows) -> 1000 MODIFY_STRICT, one bundle
 *                                                and setDesired(all 100k) (keys and diffs the whole table)
 *                                          base: ovs-ofctl --bundle --strict mod-flows <the 1000 changed lines>
 *                                                (the same work) and --bundle replace-flows <all 100k>
 * Run: npx tsx bench/flows/flow-install.ts [rounds=5]
 */
import { execFile, spawn } from 'node:child_process'
import { closeSync, openSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startOvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { connect } from 'node:net'
import { fmt, load, spread } from '../support/stats.js'
import { BUNDLE_FLAGS, OpenFlowConnection, Writer, writeBundledFlowMod, writeFrame } from '../../appliance/ovs/openflow/index.js'
import { FlowProgrammer, applyActions, flow, gotoTable, renderFlow, setField, type Flow } from '../../appliance/ovs/flows/index.js'

const run = promisify(execFile)
const ROUNDS = Number(process.argv[2] ?? 5)

function makeFlows(n: number, changedEvery = 0): Flow[] {
  return Array.from({ length: n }, (_, i) =>
    flow({
      table: 0,
      priority: 200,
      cookie: 0x1n,
      match: { in_port: 1, eth_type: 0x0800, ipv4_dst: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
      instructions: [applyActions(setField('reg0', changedEvery && i % changedEvery === 0 ? i + 1_000_000 : i)), gotoTable(1)],
    }),
  )
}

const ms = (t0: number): number => performance.now() - t0

/**
 * The switch's own floor: the same bundle pre-encoded (not timed), written raw on a fresh connection, timed
 * from the first byte to the barrier after COMMIT. No client can beat this; it shows what is left for us.
 */
async function rawFloor(socketPath: string, flows: Flow[]): Promise<number> {
  const w = new Writer(1 << 24)
  writeFrame(w, { type: 'hello', versions: [6] }, 6, 1)
  writeFrame(w, { type: 'bundle_control', bundleId: 1, ctrl: 'open_request', flags: BUNDLE_FLAGS }, 6, 2)
  flows.forEach((f, i) => writeBundledFlowMod(w, 6, 16 + i, 1, BUNDLE_FLAGS, f))
  writeFrame(w, { type: 'barrier_request' }, 6, 0xfff0)
  const phase1 = w.take()
  const c = new Writer(64)
  writeFrame(c, { type: 'bundle_control', bundleId: 1, ctrl: 'commit_request', flags: BUNDLE_FLAGS }, 6, 0xfff1)
  writeFrame(c, { type: 'barrier_request' }, 6, 0xfff2)
  const phase2 = c.take()
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath)
    let t0 = 0
    let acc = Buffer.alloc(0)
    sock.on('error', reject)
    sock.on('connect', () => {
      t0 = performance.now()
      sock.write(phase1)
    })
    sock.on('data', (d) => {
      acc = Buffer.concat([acc, d])
      while (acc.length >= 8 && acc.length >= acc.readUInt16BE(2)) {
        const [type, xid] = [acc[1], acc.readUInt32BE(4)]
        acc = acc.subarray(acc.readUInt16BE(2))
        if (type === 1) reject(new Error(`raw floor: OFPT_ERROR for xid ${xid}`))
        if (type === 21 && xid === 0xfff0) sock.write(phase2)
        if (type === 21 && xid === 0xfff2) {
          resolve(ms(t0))
          sock.destroy()
        }
      }
    })
  })
}
const med = (xs: number[]): number => spread(xs).median
/** "median 123 ms (min-max 110-140, n=5), first 150 ms" */
const show = (xs: number[], digits = 0): string => `${fmt(spread(xs), 'ms', digits)}, first ${xs[0]!.toFixed(digits)} ms`
const ratio = (a: number[], b: number[], digits = 2): string => `${(med(a) / med(b)).toFixed(digits)}x (per round ${a.map((x, i) => (x / b[i]!).toFixed(digits)).join(' ')})`

const ovs = await startOvsSandbox({ privateNetns: true })
const results: string[] = []
try {
  const br = 'br-bench'
  await ovs.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail_mode=secure')
  const ofctl = async (...args: string[]): Promise<number> => {
    const t0 = performance.now()
    await run('ovs-ofctl', ['-O', 'OpenFlow15', ...args], { env: ovs.env, maxBuffer: 1 << 28 })
    return ms(t0)
  }
  /** `ovs-ofctl ... mod-flows br -` with the file on stdin (mod-flows reads a file only as `-`). */
  const ofctlStdin = (file: string, ...args: string[]): Promise<number> => {
    const fd = openSync(file, 'r')
    const t0 = performance.now()
    return new Promise<number>((resolve, reject) => {
      const c = spawn('ovs-ofctl', ['-O', 'OpenFlow15', ...args, '-'], { env: ovs.env, stdio: [fd, 'ignore', 'pipe'] })
      let err = ''
      c.stderr?.on('data', (d: Buffer) => (err += d.toString()))
      c.on('error', reject)
      c.on('close', (code) => (code === 0 ? resolve(ms(t0)) : reject(new Error(`ovs-ofctl ${args.join(' ')} - < ${file}: exit ${code}: ${err}`))))
    }).finally(() => closeSync(fd))
  }
  const count = async (): Promise<number> => (await run('ovs-ofctl', ['-O', 'OpenFlow15', 'dump-aggregate', br], { env: ovs.env })).stdout.match(/flow_count=(\d+)/)?.[1] as unknown as number
  const conn = new OpenFlowConnection({ socketPath: ovs.mgmtSocket(br) }).start()
  await conn.waitConnected()

  for (const n of [10_000, 100_000]) {
    const flows = makeFlows(n)
    const file = join(ovs.rundir, `flows-${n}.txt`)
    writeFileSync(file, flows.map(renderFlow).join('\n') + '\n')
    const base: number[] = []
    const ours: number[] = []
    const floor: number[] = []
    const withIndex: number[] = []
    for (let r = 0; r < ROUNDS; r++) {
      await ofctl('del-flows', br)
      floor.push(await rawFloor(ovs.mgmtSocket(br), flows))
      await ofctl('del-flows', br)
      base.push(await ofctl('--bundle', 'add-flows', br, file))
      if (Number(await count()) !== n) throw new Error(`ovs-ofctl installed ${await count()} flows, expected ${n}`)
      await ofctl('del-flows', br)
      const programmer = new FlowProgrammer({ conn, ownership: 'bridge' })
      const t0 = performance.now()
      await programmer.setDesired(flows)
      ours.push(ms(t0))
      // The installed mirror is keyed lazily; the next diff pays for it. Count it here: a no-op patch builds it.
      const noop = await programmer.patchDesired({ upsert: [flows[0]!] })
      withIndex.push(ms(t0))
      if (noop.modified + noop.added + noop.removed !== 0) throw new Error(`no-op patch changed flows: ${JSON.stringify(noop)}`)
      programmer.close()
      if (Number(await count()) !== n) throw new Error(`we installed ${await count()} flows, expected ${n}`)
    }
    results.push(
      `bulk ${n}: ovs-ofctl --bundle add-flows ${show(base)}\n` +
        `  ours (setDesired to barrier)      ${show(ours)}; ratio ${ratio(ours, base)} (target <= 0.7x)\n` +
        `  ours + deferred key index         ${show(withIndex)}; ratio ${ratio(withIndex, base)} (target <= 0.7x)\n` +
        `  switch floor (pre-encoded bytes)  ${show(floor)}; ratio ${ratio(floor, base)}\n  ${load()}`,
    )
    console.log(results.at(-1))
  }

  {
    const n = 100_000
    const a = makeFlows(n)
    const b = makeFlows(n, 100)
    const fileA = join(ovs.rundir, 'flows-a.txt')
    writeFileSync(fileA, a.map(renderFlow).join('\n') + '\n')
    await ofctl('del-flows', br)
    const programmer = new FlowProgrammer({ conn, ownership: 'bridge' })
    await programmer.setDesired(a)
    const changedA = a.filter((_, i) => i % 100 === 0)
    const changedB = b.filter((_, i) => i % 100 === 0)
    const fileChangedA = join(ovs.rundir, 'changed-a.txt')
    const fileChangedB = join(ovs.rundir, 'changed-b.txt')
    writeFileSync(fileChangedA, changedA.map(renderFlow).join('\n') + '\n')
    writeFileSync(fileChangedB, changedB.map(renderFlow).join('\n') + '\n')
    const reg0Of = async (i: number): Promise<number> => {
      const { stdout } = await run('ovs-ofctl', ['-O', 'OpenFlow15', 'dump-flows', br, `ip,in_port=1,nw_dst=10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`], { env: ovs.env })
      const m = /set_field:(0x[0-9a-f]+|\d+)->reg0/.exec(stdout)
      if (!m) throw new Error(`flow ${i} not found: ${stdout}`)
      return Number(m[1])
    }
    const base: number[] = []
    const baseMod: number[] = []
    const oursPatch: number[] = []
    const oursFull: number[] = []
    for (let r = 0; r < ROUNDS; r++) {
      let t0 = performance.now()
      let report = await programmer.patchDesired({ upsert: changedB }) // A -> B: 1000 flows change
      oursPatch.push(ms(t0))
      if (report.modified !== 1000 || report.full) throw new Error(`expected 1000 modifies, got ${JSON.stringify(report)}`)
      await programmer.patchDesired({ upsert: changedA }) // back to A (untimed)
      t0 = performance.now()
      report = await programmer.setDesired(b) // the same change given as the whole 100k desired set
      oursFull.push(ms(t0))
      if (report.modified !== 1000 || report.full) throw new Error(`expected 1000 modifies, got ${JSON.stringify(report)}`)
      base.push(await ofctl('--bundle', 'replace-flows', br, fileA)) // B -> A: the same 1000 flows change back
      await programmer.setDesired(a) // our mirror follows the switch again (no timing)
      baseMod.push(await ofctlStdin(fileChangedB, '--bundle', '--strict', 'mod-flows', br)) // A -> B: the same 1000 modifies
      if ((await reg0Of(100)) !== 100 + 1_000_000) throw new Error('mod-flows did not change flow 100')
      await ofctlStdin(fileChangedA, '--bundle', '--strict', 'mod-flows', br) // back to A, where our mirror is (untimed)
      if ((await reg0Of(100)) !== 100) throw new Error('mod-flows did not restore flow 100')
    }
    results.push(
      `change 1% of ${n}: ovs-ofctl --bundle --strict mod-flows (1000 lines) ${show(baseMod, 1)}; --bundle replace-flows (100k) ${show(base)}\n` +
        `  ours patchDesired (1000 flows)    ${show(oursPatch, 1)}; ratio vs mod-flows ${ratio(oursPatch, baseMod)}, vs replace-flows ${ratio(oursPatch, base, 3)} (target <= 0.1x)\n` +
        `  ours setDesired (all 100k given)  ${show(oursFull, 1)}; ratio vs mod-flows ${ratio(oursFull, baseMod)}, vs replace-flows ${ratio(oursFull, base)}\n  ${load()}`,
    )
    console.log(results.at(-1))
    programmer.close()
  }
  await conn.close()
} finally {
  await ovs.stop()
}
console.log('\n' + results.join('\n'))
