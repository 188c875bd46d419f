/**
 * Observing chains on a real switch: `dpuctl flows` against ovs-ofctl's own dump, `dpuctl trace` through
 * ofproto/trace, packet counters in chain status (refresher) and in /metrics after real pings, the wide chain
 * table, and `apply?wait=installed` answering only once the flows are in the switch.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { runDpuctl } from '../support/appliance-process.js'
import { chain, parseFlows, physicalInterface, startChainRig, until, type ChainRig, type Uplink } from '../support/chain-rig.js'
import { ping } from '../../bin/demo/netns.js'
import { chainCookie, formatCookie } from '../../appliance/sfc/cookie.js'

describe('chain observability (real switch, real packets)', () => {
  let rig: ChainRig
  let a: Uplink
  let b: Uplink
  const cookie = formatCookie(chainCookie('default', 'c1'))
  const dpuctl = async (args: string[]) => runDpuctl(args, { env: rig.app.clientEnv })
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${rig.app.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${rig.app.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    return { status: res.status, text: await res.text() }
  }

  beforeAll(async () => {
    rig = await startChainRig({ appOptions: { extraArgs: ['--counters-interval', '0.5'] } })
    a = await rig.uplink('pa', '10.79.0.1/24')
    b = await rig.uplink('pb', '10.79.0.2/24')
    await rig.apply([physicalInterface('pa', 'pa', { port: 'a' }), physicalInterface('pb', 'pb', { port: 'b' }), chain('c1', [[{ port: 'a' }, { port: 'b' }]])])
    await rig.waitReady('ServiceChain', ['c1'])
    expect((await ping(a.netns, b.ip, { count: 5, interval: 0.2, timeoutS: 3 })).received).toBe(5)
  }, 60_000)
  afterEach(({ task }) => {
    if (rig && task.result?.state === 'fail') console.error(rig.tail())
  })
  afterAll(() => rig?.dispose())

  it('dpuctl flows prints what ovs-ofctl dump-flows shows, with counters under --stats', async () => {
    const r = await dpuctl(['flows', '--bridge', 'br-sfc', '--stats'])
    expect(r.code, r.stderr).toBe(0)
    const ours = parseFlows(r.stdout)
    const theirs = await rig.flows('br-sfc')
    const key = (f: { cookie: string; priority: number; match: string; actions: string }) => `${f.cookie} ${f.priority} ${f.match} actions=${f.actions}`
    expect(ours.map(key).sort()).toEqual(theirs.map(key).sort())
    const chainFlows = ours.filter((f) => f.cookie === cookie)
    expect(chainFlows).toHaveLength(2)
    for (const f of chainFlows) expect(f.packets).toBeGreaterThan(0)

    const all = await dpuctl(['flows'])
    expect(all.code, all.stderr).toBe(0)
    expect(all.stdout).toMatch(/^br-sfc: \d+ flows$/m)
    expect(all.stdout).not.toMatch(/n_packets=/)
  })

  it('dpuctl trace follows a sample packet from a port to the other port of the chain', async () => {
    const r = await dpuctl(['trace', 'c1', '--from', 'pa', '-o', 'json'])
    expect(r.code, r.stderr).toBe(0)
    const t = JSON.parse(r.stdout) as {
      from: { interface: string; ofport: number }
      outputs: Array<{ interface: string | null; ofport: number }>
      dropped: boolean
      datapathActions: string[]
      flow: string
    }
    const pbOfport = Number((await rig.ovs.vsctl('get', 'Interface', 'pb', 'ofport')).trim())
    expect(t.from.interface).toBe('default/pa')
    expect(t.flow).toMatch(/^in_port=\d+,arp,/)
    expect(t.outputs).toEqual([{ bridge: 'br-sfc', ofport: pbOfport, interface: 'default/pb' }])
    expect(t.dropped).toBe(false)
    expect(t.datapathActions.length).toBeGreaterThan(0)

    // By the port's selector, with a custom packet, as text.
    const text = await dpuctl(['trace', 'c1', '--from', 'port=b', '--packet', 'dl_src=02:00:00:00:00:0b,dl_dst=02:00:00:00:00:0a'])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/^path: default\/pb -> default\/pa \(br-sfc ofport \d+\)$/m)
    expect(text.stdout).toMatch(/^datapath actions: (?!drop)/m)

    const notMember = await dpuctl(['trace', 'c1', '--from', 'nosuch'])
    expect(notMember.code).toBe(1)
    expect(notMember.stderr).toMatch(/not a port of chain default\/c1/)
    const bad = await call('POST', '/apis/appliance/v1/trace', { chain: 'c1', from: 'pa', packet: 'in_port=7,arp' })
    expect(bad.status).toBe(400)
  })

  it('puts packet and byte counters into chain status, /metrics and get sc -o wide', async () => {
    const status = await until('counters in status', async () => {
      const c = await rig.get('ServiceChain', 'c1')
      const counters = c?.status.counters as { packets: number; bytes: number; flows: number } | undefined
      return counters && counters.packets >= 10 ? counters : undefined
    })
    expect(status.flows).toBe(2)
    expect(status.bytes).toBeGreaterThan(status.packets * 40)

    const onDemand = JSON.parse((await call('GET', '/apis/appliance/v1/chain-counters?name=c1')).text) as { items: Array<{ packets: number; cookie: string }> }
    expect(onDemand.items).toHaveLength(1)
    expect(onDemand.items[0]!.cookie).toBe(cookie)
    expect(onDemand.items[0]!.packets).toBeGreaterThanOrEqual(status.packets)

    const metrics = (await fetch(`${rig.app.url}/metrics`, { headers: { authorization: `Bearer ${rig.app.token}` } }).then((r) => r.text())).split('\n')
    const value = (prefix: string) =>
      Number(
        metrics
          .find((l) => l.startsWith(prefix))
          ?.split(' ')
          .pop(),
      )
    expect(value('dpu_appliance_chain_ready{namespace="default",name="c1"}')).toBe(1)
    expect(value('dpu_appliance_chain_flows{namespace="default",name="c1"}')).toBe(2)
    expect(value('dpu_appliance_chain_packets_total{namespace="default",name="c1"}')).toBeGreaterThanOrEqual(10)
    expect(value('dpu_appliance_chain_bytes_total{namespace="default",name="c1"}')).toBeGreaterThan(0)
    expect(value('dpu_appliance_reconcile_passes_total{loop="chains",result="ok"}')).toBeGreaterThan(0)
    expect(value('dpu_appliance_flow_mods_total{bridge="br-sfc",op="added"}')).toBeGreaterThanOrEqual(2)
    expect(value('dpu_appliance_ovsdb_connected')).toBe(1)
    expect(value('dpu_appliance_openflow_connected{bridge="br-sfc"}')).toBe(1)
    expect(value('dpu_appliance_chains_installed_resource_version')).toBeGreaterThan(0)

    const wide = await dpuctl(['get', 'sc', '-o', 'wide'])
    expect(wide.code, wide.stderr).toBe(0)
    const [header, row] = wide.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s{2,}/))
    const col = (name: string) => row![header!.indexOf(name)]
    expect(header).toEqual(expect.arrayContaining(['SWITCHES', 'PORTS', 'FLOWS', 'PACKETS', 'BYTES', 'READY']))
    expect([col('NAME'), col('SWITCHES'), col('PORTS'), col('FLOWS'), col('READY')]).toEqual(['c1', '1', '2/2', '2', 'True'])
    expect(Number(col('PACKETS'))).toBeGreaterThanOrEqual(10)
  })

  it('apply?wait=installed answers after the new flows are in the switch', async () => {
    const c2 = formatCookie(chainCookie('default', 'c2'))
    // Free the ports, then chain them again under another name (another cookie): the answer to that write
    // must come after its barrier, so the switch already holds the new flows when we look, without polling.
    await rig.delete('ServiceChain', ['c1'])
    const r = await call('POST', '/apis/appliance/v1/apply?wait=installed', [chain('c2', [[{ port: 'b' }, { port: 'a' }]])])
    expect(r.status, r.text).toBe(200)
    expect((JSON.parse(r.text) as { flows: { installed: boolean } }).flows.installed).toBe(true)
    const flows = await rig.flows('br-sfc')
    expect(flows.filter((f) => f.cookie === c2)).toHaveLength(2)
    expect(flows.filter((f) => f.cookie === cookie)).toHaveLength(0)
    expect((await ping(a.netns, b.ip, { count: 2, interval: 0.2, timeoutS: 2 })).received).toBe(2)
  })
})
