/**
 * Bump in the wire (the DPF `p0 -> firewall -> HBN` pattern), with real packets: chain 1 joins uplink p0 with
 * the firewall's `in` interface, chain 2 joins its `out` interface with uplink p1. The firewall is a Linux
 * bridge inside the service's namespace; traffic from the p0 side reaches the p1 side only through it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { chain, physicalInterface, serviceInterface, startChainRig, until, type ChainRig, type Uplink } from '../support/chain-rig.js'
import { exec, ping } from '../../bin/demo/netns.js'

describe('bump in the wire: p0 -> svc-fw -> p1 (real packets)', () => {
  let rig: ChainRig
  let west: Uplink
  let east: Uplink
  let fw: string

  beforeAll(async () => {
    rig = await startChainRig()
    west = await rig.uplink('p0', '10.61.0.1/24')
    east = await rig.uplink('p1', '10.61.0.2/24')
    fw = rig.serviceNetns('fw')
    await rig.apply([
      physicalInterface('p0', 'p0', { uplink: 'p0' }),
      physicalInterface('p1', 'p1', { uplink: 'p1' }),
      serviceInterface('fw-in', { serviceId: 'fw', ifName: 'in', netns: fw, labels: { svc: 'fw', dir: 'in' } }),
      serviceInterface('fw-out', { serviceId: 'fw', ifName: 'out', netns: fw, labels: { svc: 'fw', dir: 'out' } }),
      chain('wire-in', [[{ uplink: 'p0' }, { svc: 'fw', dir: 'in' }]]),
      chain('wire-out', [[{ svc: 'fw', dir: 'out' }, { uplink: 'p1' }]]),
    ])
    await rig.waitReady('ServiceInterface', ['p0', 'p1', 'fw-in', 'fw-out'])
    await rig.waitReady('ServiceChain', ['wire-in', 'wire-out'])
  }, 60_000)
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') console.error(rig?.tail())
  })
  afterAll(() => rig?.dispose())

  it('programs two patches and no flow joins p0 and p1 directly', async () => {
    const ifaces = await Promise.all(['p0', 'p1', 'fw-in', 'fw-out'].map(async (n) => [n, (await rig.get('ServiceInterface', n))!.status.ofport as number] as const))
    const ofport = Object.fromEntries(ifaces)
    const flows = await rig.flows()
    expect(flows).toHaveLength(4)
    const out = (f: { actions: string }) => Number(/output:(\d+)/.exec(f.actions)![1])
    const inPort = (f: { match: string }) => Number(/in_port=(\d+)/.exec(f.match)![1])
    const pairs = flows.map((f) => `${inPort(f)}->${out(f)}`).sort()
    expect(pairs).toEqual([`${ofport.p0}->${ofport['fw-in']}`, `${ofport['fw-in']}->${ofport.p0}`, `${ofport['fw-out']}->${ofport.p1}`, `${ofport.p1}->${ofport['fw-out']}`].sort())
  })

  it('passes traffic only while the firewall forwards between its interfaces', async () => {
    // No forwarding inside the service: the two chains are separate islands.
    expect((await ping(west.netns, east.ip, { count: 3, interval: 0.2, timeoutS: 2 })).received).toBe(0)

    await exec(fw, 'ip', ['link', 'add', 'fwbr', 'type', 'bridge'])
    await exec(fw, 'ip', ['link', 'set', 'in', 'master', 'fwbr'])
    await exec(fw, 'ip', ['link', 'set', 'out', 'master', 'fwbr'])
    await exec(fw, 'ip', ['link', 'set', 'fwbr', 'up'])
    const up = await until('ping through the firewall', async () => {
      const r = await ping(west.netns, east.ip, { count: 1, interval: 0.2, timeoutS: 1 })
      return r.received === 1 ? r : undefined
    })
    expect(up.received).toBe(1)
    const steady = await ping(west.netns, east.ip, { count: 10, interval: 0.05, timeoutS: 3 })
    expect(steady.received).toBe(10)
    // Every packet crossed the service: the fw-in -> p0 flow counts the echo replies.
    const counted = (await rig.flows()).reduce((n, f) => n + f.packets, 0)
    expect(counted).toBeGreaterThanOrEqual(4 * 10)

    // The firewall stops forwarding: nothing gets across, although both chains are still installed.
    await exec(fw, 'ip', ['link', 'set', 'fwbr', 'down'])
    expect((await ping(west.netns, east.ip, { count: 3, interval: 0.2, timeoutS: 2 })).received).toBe(0)
    expect(await rig.flows()).toHaveLength(4)

    await exec(fw, 'ip', ['link', 'set', 'fwbr', 'up'])
    await until('ping again', async () => (await ping(west.netns, east.ip, { count: 1, interval: 0.2, timeoutS: 1 })).received === 1)
    await exec(fw, 'ip', ['link', 'del', 'fwbr'])
    expect((await ping(west.netns, east.ip, { count: 3, interval: 0.2, timeoutS: 2 })).received).toBe(0)
  })

  it('stops at the firewall when the second chain is deleted', async () => {
    await exec(fw, 'ip', ['link', 'add', 'fwbr', 'type', 'bridge'])
    await exec(fw, 'ip', ['link', 'set', 'in', 'master', 'fwbr'])
    await exec(fw, 'ip', ['link', 'set', 'out', 'master', 'fwbr'])
    await exec(fw, 'ip', ['link', 'set', 'fwbr', 'up'])
    await until('ping through the firewall', async () => (await ping(west.netns, east.ip, { count: 1, interval: 0.2, timeoutS: 1 })).received === 1)
    await rig.delete('ServiceChain', ['wire-out'])
    await until('wire-out flows removed', async () => (await rig.flows()).length === 2)
    expect((await ping(west.netns, east.ip, { count: 3, interval: 0.2, timeoutS: 2 })).received).toBe(0)
  })
})
