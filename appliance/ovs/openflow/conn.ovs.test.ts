/**
 * The OpenFlow client against a real ovs-vswitchd (private sandbox, netdev datapath).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startOvsSandbox, type OvsSandbox } from '../../../bin/demo/ovs-sandbox.js'
import { commitFlowMods } from './bundle.js'
import { OpenFlowConnection, type ConnectedEvent } from './conn.js'
import { OpenFlowRejectedError } from './errors.js'
import type { FlowMod, Instruction, Match } from './model.js'
import { readCookieStats, readFlowStats } from './stats.js'

const addFlow = (priority: number, match: Match, instructions: Instruction[], cookie = 0x10n, table = 0): FlowMod => ({
  command: 'add',
  cookie,
  cookieMask: 0n,
  table,
  idleTimeout: 0,
  hardTimeout: 0,
  priority,
  bufferId: 0xffffffff,
  outPort: 0xffffffff,
  outGroup: 0xffffffff,
  flags: 0,
  importance: 0,
  match,
  instructions,
})
const out = (port: number): Instruction[] => [{ type: 'apply_actions', actions: [{ type: 'output', port, maxLen: 0 }] }]

let ovs: OvsSandbox
const conns: OpenFlowConnection[] = []
let bridgeN = 0

async function bridge(): Promise<string> {
  const name = `brc${bridgeN++}`
  await ovs.vsctl('add-br', name, '--', 'set', 'bridge', name, 'datapath_type=netdev', 'fail_mode=secure')
  return name
}
function open(br: string, versions?: (5 | 6)[]): OpenFlowConnection {
  const c = new OpenFlowConnection({ socketPath: ovs.mgmtSocket(br), versions })
  conns.push(c)
  return c.start()
}

beforeAll(async () => {
  ovs = await startOvsSandbox({ privateNetns: true })
})
afterEach(async () => {
  await Promise.all(conns.splice(0).map((c) => c.close()))
})
afterAll(async () => {
  await ovs?.stop()
})

describe('OpenFlow connection to ovs-vswitchd', () => {
  it('negotiates OF1.5 by default and OF1.4 when that is all we offer, and reads features', async () => {
    const br = await bridge()
    const c15 = open(br)
    const c14 = open(br, [5])
    await Promise.all([c15.waitConnected(), c14.waitConnected()])
    expect(c15.version).toBe(6)
    expect(c14.version).toBe(5)
    expect(c15.features?.nTables).toBe(254)
    expect(c15.features?.datapathId).toBe(c14.features?.datapathId)
    const echo = await c15.request({ type: 'echo_request', data: Buffer.from('ping') })
    expect(echo).toEqual({ type: 'echo_reply', data: Buffer.from('ping') })
  })

  it.each([5, 6] as const)('installs a bundle and reads it back through flow stats (version %s)', async (version) => {
    const br = await bridge()
    const c = open(br, [version])
    await c.waitConnected()
    const mods = [
      addFlow(100, { in_port: 1, eth_type: 0x0800, ipv4_dst: { value: '10.1.0.0', mask: '255.255.0.0' }, reg3: 9 }, [
        { type: 'apply_actions', actions: [{ type: 'set_field', field: 'reg1', value: 5 }] },
        { type: 'goto_table', table: 3 },
      ]),
      addFlow(50, { eth_src: 'aa:bb:cc:00:00:01' }, out(2), 0x20n, 3),
    ]
    await commitFlowMods(c, mods)
    const stats = await readFlowStats(c)
    const seen = stats.map((s) => ({ table: s.table, priority: s.priority, cookie: s.cookie, match: s.match, instructions: s.instructions }))
    expect(seen.sort((a, b) => a.table - b.table)).toEqual(mods.map((m) => ({ table: m.table, priority: m.priority, cookie: m.cookie, match: m.match, instructions: m.instructions })))
    expect(await readCookieStats(c, 0x20n)).toEqual({ cookie: 0x20n, flows: 1, packets: 0n, bytes: 0n })
  })

  it('commits bundles whose xids cross 2^32, and a request sent meanwhile keeps its own xid', async () => {
    const br = await bridge()
    // The handshake takes a few xids; the first bundle (open, 40 adds, commit, barrier) then crosses the top.
    const c = new OpenFlowConnection({ socketPath: ovs.mgmtSocket(br), firstXid: 0xffffffff - 20 })
    conns.push(c.start())
    await c.waitConnected()
    const first = Array.from({ length: 40 }, (_, i) => addFlow(100 + i, { in_port: 1, reg0: i }, out(2)))
    const second = Array.from({ length: 40 }, (_, i) => addFlow(200 + i, { in_port: 1, reg1: i }, out(2)))
    // Both in flight at once: the second range must not reuse xids the first still waits on.
    const echo = c.request({ type: 'echo_request', data: Buffer.from('mid') })
    await Promise.all([commitFlowMods(c, first), commitFlowMods(c, second), echo])
    expect(c.connected).toBe(true)
    expect(await readFlowStats(c)).toHaveLength(80)
    const third = Array.from({ length: 5 }, (_, i) => addFlow(300 + i, { in_port: 1, reg2: i }, out(2)))
    await commitFlowMods(c, third)
    expect(await readFlowStats(c)).toHaveLength(85)
  })

  it('a bundle with one invalid flow installs nothing and names the flow and the error', async () => {
    const br = await bridge()
    const c = open(br)
    await c.waitConnected()
    const good = addFlow(10, { in_port: 1 }, out(2))
    const bad = addFlow(11, { ipv4_dst: '10.0.0.1' }, out(2)) // no eth_type=ip: OFPBMC_BAD_PREREQ
    const err = await commitFlowMods(c, [good, bad], { describe: (fm) => `priority=${fm.priority}` }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenFlowRejectedError)
    const rejected = err as OpenFlowRejectedError
    expect(rejected.code).toBe('openflow.rejected')
    expect(rejected.errors).toEqual([expect.objectContaining({ typeName: 'OFPET_BAD_MATCH', codeName: 'OFPBMC_BAD_PREREQ', index: 1, offending: 'priority=11' })])
    expect(rejected.message).toMatch(/OFPET_BAD_MATCH\/OFPBMC_BAD_PREREQ for priority=11/)
    expect(await readFlowStats(c)).toEqual([])
    expect(await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', br)).not.toMatch(/priority=10/)
    // The connection stays usable.
    await commitFlowMods(c, [good])
    expect(await readFlowStats(c)).toHaveLength(1)
  })

  it('a commit-time failure (missing group) also installs nothing', async () => {
    const br = await bridge()
    const c = open(br)
    await c.waitConnected()
    const good = addFlow(10, { in_port: 1 }, out(2))
    const bad = addFlow(11, { in_port: 2 }, [{ type: 'apply_actions', actions: [{ type: 'group', groupId: 99 }] }])
    const err = (await commitFlowMods(c, [good, bad]).catch((e: unknown) => e)) as OpenFlowRejectedError
    expect(err).toBeInstanceOf(OpenFlowRejectedError)
    expect(err.errors.map((e) => e.codeName)).toContain('OFPBAC_BAD_OUT_GROUP')
    expect(await readFlowStats(c)).toEqual([])
  })

  it('decodes flows with actions it does not model (Nicira resubmit, ct) as raw actions that re-encode', async () => {
    const br = await bridge()
    const c = open(br)
    await c.waitConnected()
    await ovs.ofctl('-O', 'OpenFlow15', 'add-flow', br, 'cookie=0x77,table=0,priority=5,ip,actions=ct(commit),resubmit(,3)')
    const [seen] = await readFlowStats(c)
    const actions = seen!.instructions[0]!.type === 'apply_actions' ? seen!.instructions[0]!.actions : []
    expect(actions.map((a) => a.type)).toEqual(['raw', 'raw'])
    expect(actions.every((a) => a.type === 'raw' && a.actionType === 0xffff)).toBe(true)
    // Re-installing the decoded flow gives the switch the same flow back.
    await commitFlowMods(c, [{ ...addFlow(seen!.priority, seen!.match, seen!.instructions, 0x78n), table: seen!.table }])
    const dump = await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', br)
    expect(dump).toMatch(/cookie=0x78, .*priority=5,ip actions=ct\(commit\),resubmit\(,3\)/)
  })

  it('reports PORT_STATUS when a port is added and removed', async () => {
    const br = await bridge()
    const c = open(br)
    await c.waitConnected()
    const events: { reason: string; name: string }[] = []
    c.on('port-status', (e) => events.push({ reason: e.reason, name: e.port.name }))
    await ovs.vsctl('add-port', br, 'p1', '--', 'set', 'interface', 'p1', 'type=internal')
    await c.barrier()
    await ovs.vsctl('del-port', br, 'p1')
    const deadline = Date.now() + 5000
    while (!events.some((e) => e.reason === 'delete') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(events).toContainEqual({ reason: 'add', name: 'p1' })
    expect(events).toContainEqual({ reason: 'delete', name: 'p1' })
  })

  it('reconnects after ovs-vswitchd is killed and restarted', async () => {
    const br = await bridge()
    const c = open(br)
    await c.waitConnected()
    await commitFlowMods(c, [addFlow(10, { in_port: 1 }, out(2))])
    const gone = new Promise<void>((r) => c.once('disconnected', () => r()))
    const back = new Promise<ConnectedEvent>((r) => c.once('connected', r))
    await ovs.killVswitchd()
    await gone
    expect(c.connected).toBe(false)
    await expect(readFlowStats(c)).rejects.toMatchObject({ code: 'openflow.unavailable', retryable: true })
    const t0 = performance.now()
    await ovs.startVswitchd()
    const ev = await back
    const ms = performance.now() - t0
    expect(ev.generation).toBe(2)
    // vswitchd lost its flows; the client works on the new connection.
    expect(await readFlowStats(c)).toEqual([])
    console.log(`reconnect after vswitchd restart: ${ms.toFixed(0)} ms from startVswitchd() to connected`)
  })
})
