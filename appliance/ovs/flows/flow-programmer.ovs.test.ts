/**
 * FlowProgrammer against a real ovs-vswitchd: what we install is what `ovs-ofctl dump-flows` shows (parsed and
 * compared field by field), diffs are minimal, drift is reported without re-pushing, and flows come back after
 * vswitchd restarts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startOvsSandbox, type OvsSandbox } from '../../../bin/demo/ovs-sandbox.js'
import { OpenFlowConnection, OpenFlowRejectedError, readFlowStats, readStatsByCookie } from '../openflow/index.js'
import { apply, applyActions, flow, gotoTable, output, setField } from './builders.js'
import { buildFlowTable, flowFromStats, normalizeFlow, type Flow, type FlowTable } from './flow.js'
import { FlowProgrammer, type ApplyReport, type FlowOwnership } from './flow-programmer.js'
import { renderFlow } from './render.js'
import { FLOW_CASES } from './testdata/flow-cases.js'

/** One `dump-flows` / `renderFlow` line as comparable data: counters dropped, match as a sorted token list. */
interface ParsedFlow {
  cookie: bigint
  table: number
  priority: number
  match: string[]
  actions: string
}
const META = new Set(['cookie', 'duration', 'table', 'n_packets', 'n_bytes', 'idle_age', 'hard_age', 'idle_timeout', 'hard_timeout', 'reset_counts'])
function parseOfctlFlow(line: string): ParsedFlow {
  const [head, actions] = line.trim().split(' actions=') as [string, string]
  const kv = new Map<string, string>()
  let match: string[] = []
  for (const part of head.split(', ')) {
    const key = part.split('=')[0]!
    if (META.has(key)) kv.set(key, part.slice(key.length + 1))
    else match = part.split(',')
  }
  const prio = match.find((m) => m.startsWith('priority='))
  return {
    cookie: BigInt(kv.get('cookie') ?? '0'),
    table: Number(kv.get('table') ?? 0),
    priority: prio ? Number(prio.slice(9)) : 0x8000,
    match: match.filter((m) => m && !m.startsWith('priority=')).sort(),
    actions,
  }
}
const byIdentity = (a: ParsedFlow, b: ParsedFlow): number => a.table - b.table || a.priority - b.priority || a.match.join().localeCompare(b.match.join())

let ovs: OvsSandbox
let n = 0
const cleanups: (() => Promise<void> | void)[] = []

async function setup(options: { ownership?: FlowOwnership; onReconnect?: () => Flow[]; adoptInstalled?: boolean } = {}) {
  const br = `brp${n++}`
  await ovs.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail_mode=secure')
  const conn = new OpenFlowConnection({ socketPath: ovs.mgmtSocket(br) }).start()
  await conn.waitConnected()
  const programmer = new FlowProgrammer({ conn, ownership: options.ownership ?? 'bridge', onReconnect: options.onReconnect, adoptInstalled: options.adoptInstalled ?? false })
  cleanups.push(
    () => programmer.close(),
    () => conn.close(),
  )
  const dump = async (): Promise<ParsedFlow[]> =>
    (await ovs.ofctl('-O', 'OpenFlow15', '--no-names', 'dump-flows', br))
      .split('\n')
      .filter((l) => l.includes(' actions='))
      .map(parseOfctlFlow)
      .sort(byIdentity)
  return { br, conn, programmer, dump }
}
const expected = (flows: Flow[]): ParsedFlow[] => flows.map((f) => parseOfctlFlow(renderFlow(f))).sort(byIdentity)

/**
 * Installs three flows on the programmer's bridge, then drifts the switch behind its back: one flow deleted, one
 * given other actions, one extra flow (cookie `extraCookie`) added. Returns the three desired flows.
 */
async function installThenDrift(br: string, programmer: FlowProgrammer, extraCookie: number): Promise<[Flow, Flow, Flow]> {
  const a = flow({ table: 0, priority: 10, cookie: 1n, match: { in_port: 1 }, instructions: apply(output(2)) })
  const b = flow({ table: 0, priority: 10, cookie: 1n, match: { in_port: 2 }, instructions: apply(output(1)) })
  const c = flow({ table: 0, priority: 10, cookie: 1n, match: { in_port: 3 }, instructions: apply(output(1)) })
  await programmer.setDesired([a, b, c])
  await ovs.ofctl('-O', 'OpenFlow15', '--strict', 'del-flows', br, 'table=0,priority=10,in_port=1')
  await ovs.ofctl('-O', 'OpenFlow15', 'add-flow', br, 'cookie=0x1,table=0,priority=10,in_port=2,actions=output:7')
  await ovs.ofctl('-O', 'OpenFlow15', 'add-flow', br, `cookie=0x${extraCookie.toString(16)},table=1,priority=1,actions=drop`)
  return [a, b, c]
}

beforeAll(async () => {
  ovs = await startOvsSandbox({ privateNetns: true })
})
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})
afterAll(async () => {
  await ovs?.stop()
})

describe('FlowProgrammer on ovs-vswitchd', () => {
  it('installs flows that dump-flows shows exactly, and flow stats decode to the same model', async () => {
    const { conn, programmer, dump } = await setup()
    const flows = FLOW_CASES.map((c) => c.flow)
    const report = await programmer.setDesired(flows)
    expect(report).toMatchObject({ generation: 1, full: true, added: flows.length })
    expect(await dump()).toEqual(expected(flows))
    const observed = (await readFlowStats(conn)).map(flowFromStats).map(normalizeFlow)
    const key = (f: Flow): string => `${f.table}/${f.priority}`
    expect(observed.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(flows.map(normalizeFlow).sort((a, b) => key(a).localeCompare(key(b))))
    expect(programmer.installed.size).toBe(flows.length)
    expect(await programmer.verify()).toEqual({ missing: [], extra: [], changed: [] })
  })

  it('applies the minimal diff: modify-strict, delete-strict, add, ADD for a cookie change', async () => {
    const { programmer, dump } = await setup({ ownership: { cookie: 0xab00n, cookieMask: 0xff00n } })
    const mk = (port: number, out: number, cookie = 0xab01n): Flow => flow({ table: 0, priority: 10, cookie, match: { in_port: port }, instructions: apply(output(out)) })
    await programmer.setDesired([mk(1, 2), mk(2, 1), mk(3, 4), mk(4, 3)])
    const report = await programmer.setDesired([mk(1, 9), mk(2, 1, 0xab02n), mk(3, 4), mk(5, 6)])
    expect(report).toMatchObject({ full: false, added: 2, modified: 1, removed: 1 })
    expect(await dump()).toEqual(expected([mk(1, 9), mk(2, 1, 0xab02n), mk(3, 4), mk(5, 6)]))
    const noop = await programmer.setDesired([mk(1, 9), mk(2, 1, 0xab02n), mk(3, 4), mk(5, 6)])
    expect(noop).toMatchObject({ added: 0, modified: 0, removed: 0 })
  })

  it('patchDesired diffs only the touched keys', async () => {
    const { programmer, dump } = await setup()
    const mk = (port: number, out: number): Flow => flow({ table: 0, priority: 10, cookie: 1n, match: { in_port: port }, instructions: apply(output(out)) })
    await programmer.setDesired([mk(1, 2), mk(2, 1), mk(3, 4)])
    const report = await programmer.patchDesired({ upsert: [mk(1, 7), mk(9, 9), mk(3, 4)], remove: [mk(2, 0)] })
    expect(report).toMatchObject({ full: false, added: 1, modified: 1, removed: 1 })
    expect(await dump()).toEqual(expected([mk(1, 7), mk(3, 4), mk(9, 9)]))
    expect([...programmer.desired!.values()].map((e) => e.flow.match)).toEqual([{ in_port: 1 }, { in_port: 3 }, { in_port: 9 }])
    expect(await programmer.verify()).toEqual({ missing: [], extra: [], changed: [] })
  })

  it('full sync replaces only our cookie space, in one bundle', async () => {
    const { br, programmer, dump } = await setup({ ownership: { cookie: 0xab00n, cookieMask: 0xff00n } })
    await ovs.ofctl('-O', 'OpenFlow15', 'add-flow', br, 'cookie=0xab77,table=0,priority=5,in_port=9,actions=drop') // ours, stale
    await ovs.ofctl('-O', 'OpenFlow15', 'add-flow', br, 'cookie=0xcd01,table=0,priority=5,in_port=8,actions=drop') // someone else's
    const mine = flow({ table: 0, priority: 10, cookie: 0xab01n, match: { in_port: 1 }, instructions: apply(output(2)) })
    await programmer.setDesired([mine])
    const flows = await dump()
    expect(flows.map((f) => f.cookie)).toEqual([0xcd01n, 0xab01n])
  })

  it('verify() reports drift and does not re-push', async () => {
    const { br, programmer, dump } = await setup()
    await installThenDrift(br, programmer, 0x1)
    const drift = await programmer.verify()
    expect(drift.missing.map((e) => e.flow.match)).toEqual([{ in_port: 1 }])
    expect(drift.changed.map(([mine, seen]) => [renderFlow(mine.flow), renderFlow(seen.flow)])).toEqual([
      ['cookie=0x1, table=0, priority=10,in_port=2 actions=output:1', 'cookie=0x1, table=0, priority=10,in_port=2 actions=output:7'],
    ])
    expect(drift.extra.map((e) => renderFlow(e.flow))).toEqual(['cookie=0x1, table=1, priority=1 actions=drop'])
    expect((await dump()).length).toBe(3) // untouched
  })

  it('reread() repairs drift by reading the switch back and sending only the difference', async () => {
    const { br, programmer, dump } = await setup({ adoptInstalled: true })
    const [a, b, c] = await installThenDrift(br, programmer, 0x9)
    const report = await programmer.reread()
    expect(report).toMatchObject({ full: false, added: 1, modified: 1, removed: 1 })
    expect(await dump()).toEqual(expected([a, b, c]))
    expect(await programmer.verify()).toEqual({ missing: [], extra: [], changed: [] })
    expect(programmer.busy).toBe(false)
  })

  it('installs a desired set given while vswitchd was down on the reconnect, without waiting for another', async () => {
    const { conn, programmer, dump } = await setup({ adoptInstalled: true })
    const f = flow({ table: 0, priority: 10, match: { in_port: 1 }, instructions: apply(output(2)) })
    const g = flow({ table: 0, priority: 10, match: { in_port: 2 }, instructions: apply(output(1)) })
    await programmer.setDesired([f])
    const down = new Promise<void>((r) => conn.once('disconnected', () => r()))
    await ovs.killVswitchd()
    await down
    const restored = new Promise<{ ms: number; flows: number }>((r) => programmer.once('restored', r))
    const applied = programmer.setDesired([f, g])
    await ovs.startVswitchd()
    const report = await applied
    expect(report.added).toBe(2) // adopted an empty table after the restart: everything re-sent, as a diff
    expect((await restored).flows).toBe(2)
    expect(await dump()).toEqual(expected([f, g]))
  })

  it('a desired set with an invalid flow is rejected whole, naming the flow and the OpenFlow error', async () => {
    const { programmer, dump } = await setup()
    const good = flow({ table: 0, priority: 10, match: { in_port: 1 }, instructions: apply(output(2)) })
    await programmer.setDesired([good])
    const bad = flow({ table: 0, priority: 11, match: { tcp_dst: 80 }, instructions: apply(output(2)) })
    const other = flow({ table: 0, priority: 12, match: { in_port: 5 }, instructions: apply(output(2)) })
    const err = await programmer.setDesired([good, bad, other]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenFlowRejectedError)
    expect((err as OpenFlowRejectedError).message).toMatch(/OFPET_BAD_MATCH\/OFPBMC_BAD_PREREQ for cookie=0x0, table=0, priority=11,tp_dst=80 actions=output:2/)
    expect(await dump()).toEqual(expected([good]))
    expect([...programmer.installed.values()].map((e) => e.flow)).toEqual([good])
  })

  it.each([false, true])('a flow that cannot be encoded rejects only its own call (adoptInstalled %s)', async (adoptInstalled) => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    cleanups.push(() => void process.off('unhandledRejection', onUnhandled))
    const { programmer, dump } = await setup({ adoptInstalled })
    const mk = (port: number, match: Flow['match'] = { in_port: port }): Flow => flow({ table: 0, priority: 10 + port, match, instructions: apply(output(2)) })
    const kept = mk(1)
    const bad = mk(2, { eth_dst: '2:0:0:0:0:1' })
    // The very first set bad: nothing is installed, and the error names the field.
    await expect(programmer.setDesired([kept, bad])).rejects.toThrow(/eth_dst/)
    expect(await dump()).toEqual([])
    await programmer.setDesired([kept])
    // Bad after good, as a whole set and as a patch: each rejects, the installed flow stays.
    await expect(programmer.setDesired([kept, bad])).rejects.toThrow(/eth_dst/)
    await expect(programmer.patchDesired({ upsert: [bad] })).rejects.toThrow(/eth_dst/)
    expect(await dump()).toEqual(expected([kept]))
    const later = mk(3)
    const report = await programmer.patchDesired({ upsert: [later] })
    // Only the new flow is sent: desired went back to what the switch holds, not to the rejected set.
    expect(report).toMatchObject({ added: 1, modified: 0, removed: 0 })
    expect(await dump()).toEqual(expected([kept, later]))
    expect(programmer.installedGeneration).toBe(report.generation)
    await new Promise((r) => setImmediate(r))
    expect(unhandled).toEqual([])
  })

  it('coalesces desired sets given while a batch is in flight', async () => {
    const { programmer, dump } = await setup()
    const applied: ApplyReport[] = []
    programmer.on('applied', (r) => applied.push(r))
    const set = (port: number) => [flow({ table: 0, priority: 10, match: { in_port: 1 }, instructions: apply(output(port)) })]
    const results = await Promise.all([programmer.setDesired(set(2)), programmer.setDesired(set(3)), programmer.setDesired(set(4))])
    expect(results.map((r) => r.generation)).toEqual([1, 3, 3])
    expect(applied.length).toBe(2)
    expect((await dump())[0]?.actions).toBe('output:4')
  })

  it('restores the desired flows after ovs-vswitchd restarts (owner hook), and reports the time', async () => {
    const flows = FLOW_CASES.map((c) => c.flow)
    const { programmer, dump } = await setup({ onReconnect: () => flows })
    await programmer.setDesired(flows)
    const restored = new Promise<{ ms: number; flows: number }>((r) => programmer.once('restored', r))
    await ovs.killVswitchd()
    const t0 = performance.now()
    await ovs.startVswitchd()
    const ev = await restored
    const total = performance.now() - t0
    expect(ev.flows).toBe(flows.length)
    expect(await dump()).toEqual(expected(flows))
    console.log(`flows restored ${total.toFixed(0)} ms after startVswitchd() (${ev.ms.toFixed(1)} ms from reconnect to barrier)`)
  })

  it('without a hook it waits for the owner after a reconnect, then full-syncs on resync()', async () => {
    const { programmer, dump } = await setup()
    const f = flow({ table: 0, priority: 10, match: { in_port: 1 }, instructions: apply(output(2)) })
    await programmer.setDesired([f])
    const needs = new Promise<void>((r) => programmer.once('needs-desired', () => r()))
    await ovs.killVswitchd()
    await ovs.startVswitchd()
    await needs
    expect(await dump()).toEqual([]) // nothing pushed before the owner answers
    const report = await programmer.resync()
    expect(report.full).toBe(true)
    expect(await dump()).toEqual(expected([f]))
  })

  it('works the same over OF1.4 (flows keyed apart from the wire bytes) and when desired comes before the connection', async () => {
    const br = `brp${n++}`
    await ovs.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail_mode=secure')
    const conn = new OpenFlowConnection({ socketPath: ovs.mgmtSocket(br), versions: [5] })
    const programmer = new FlowProgrammer({ conn, ownership: 'bridge' })
    cleanups.push(
      () => programmer.close(),
      () => conn.close(),
    )
    const flows = FLOW_CASES.map((c) => c.flow)
    const applied = programmer.setDesired(flows) // not connected yet: waits
    conn.start()
    expect(await applied).toMatchObject({ full: true, added: flows.length })
    expect(conn.version).toBe(5)
    expect(await programmer.verify()).toEqual({ missing: [], extra: [], changed: [] })
    const report = await programmer.patchDesired({ upsert: [{ ...flows[9]!, instructions: apply(output(3)) }] })
    expect(report).toMatchObject({ modified: 1, added: 0, removed: 0 })
  })

  it('a bulk install keys its flows from the bytes sent (OF1.5) or apart (OF1.4): the next diffs are minimal', async () => {
    // >= 2,000 flows: the programmer keys them in the background while the switch parses and commits the bundle.
    const bulk = (i: number, out = 2): Flow => ({
      table: i % 3,
      priority: 100 + (i % 7),
      cookie: 1n,
      match: i % 2 ? { eth_type: 0x0800, ipv4_dst: `10.1.${(i >> 8) & 255}.${i & 255}`, reg1: i } : { reg0: { value: i, mask: 0xffff }, in_port: 1 + (i % 5) },
      // Every third flow gives its instructions out of canonical order (sent as given, keyed canonical).
      instructions: i % 3 ? [applyActions(setField('reg2', i), output(out))] : [gotoTable(5), applyActions(output(out))],
    })
    for (const versions of [[6], [5]] as const) {
      const br = `brp${n++}`
      await ovs.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail_mode=secure')
      const conn = new OpenFlowConnection({ socketPath: ovs.mgmtSocket(br), versions: [...versions] }).start()
      await conn.waitConnected()
      const programmer = new FlowProgrammer({ conn, ownership: 'bridge' })
      cleanups.push(
        () => programmer.close(),
        () => conn.close(),
      )
      const flows = Array.from({ length: 3000 }, (_, i) => bulk(i))
      expect(await programmer.setDesired(flows)).toMatchObject({ full: true, added: 3000 })
      await new Promise((resolve) => setTimeout(resolve, 100)) // lets the background keying finish (not required)
      const want = buildFlowTable(flows)
      const keys = (t: FlowTable): [string, string][] => [...t].map(([k, e]) => [k, e.actionsKey])
      expect(keys(programmer.installed)).toEqual(keys(want))
      expect(keys(programmer.desired!)).toEqual(keys(want))
      const noop = await programmer.patchDesired({ upsert: [flows[0]!, bulk(3)] })
      expect(noop).toMatchObject({ added: 0, modified: 0, removed: 0 })
      const changed = await programmer.patchDesired({ upsert: [bulk(1, 9), bulk(3, 9)], remove: [flows[2]!] })
      expect(changed).toMatchObject({ full: false, added: 0, modified: 2, removed: 1 })
      expect(programmer.installed.size).toBe(2999)
      expect(await programmer.verify()).toEqual({ missing: [], extra: [], changed: [] })
      expect(conn.version).toBe(versions[0])
    }
  })

  it('reads packet and byte counters per cookie', async () => {
    const { conn, programmer } = await setup()
    await programmer.setDesired([
      flow({ table: 0, priority: 10, cookie: 0x51n, match: { in_port: 1 }, instructions: apply(output(2)) }),
      flow({ table: 0, priority: 10, cookie: 0x51n, match: { in_port: 2 }, instructions: apply(output(1)) }),
      flow({ table: 0, priority: 10, cookie: 0x52n, match: { in_port: 3 }, instructions: apply(output(1)) }),
    ])
    const stats = await readStatsByCookie(conn)
    expect([...stats.values()].map((s) => [s.cookie, s.flows, s.packets])).toEqual([
      [0x51n, 2, 0n],
      [0x52n, 1, 0n],
    ])
  })
})
