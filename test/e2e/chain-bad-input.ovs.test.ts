/**
 * Bad input next to a healthy chain, with real packets: a chain whose selector matches nothing, one whose
 * selector matches two interfaces, a service interface whose DPUServiceNAD names a bridge the appliance does not
 * own, a physical interface whose netdev does not exist, and an interface name longer than a netdev name may be.
 * Each gets a clear condition (or a 4xx naming the field); none of them changes a single byte of the healthy
 * chain's flows or stops its traffic.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { chain, linkMac, physicalInterface, serviceInterface, startChainRig, SVC, until, type ChainRig, type Condition, type Uplink } from '../support/chain-rig.js'
import { createVethPair, exec, ping } from '../../bin/demo/netns.js'

describe('bad input beside a healthy chain (real packets)', () => {
  let rig: ChainRig
  let ext: Uplink
  let svc: string
  let goodCookie: string
  let goodFlows: string[]
  let goodSince: number

  const pingOk = async (count = 5) => (await ping(ext.netns, '10.64.0.2', { count, interval: 0.05, timeoutS: 2 })).received === count
  const notReady = (kind: 'ServiceChain' | 'ServiceInterface', name: string, reason: string) =>
    until(`${kind} ${name} NotReady/${reason}`, async () => {
      const c = await rig.ready(kind, name)
      return c?.status === 'False' && c.reason === reason ? c : undefined
    })
  const goodStable = async () =>
    (await rig.flows())
      .filter((f) => f.cookie === goodCookie)
      .map((f) => f.stable)
      .sort()

  beforeAll(async () => {
    rig = await startChainRig()
    ext = await rig.uplink('p0', '10.64.0.1/24')
    svc = rig.serviceNetns('a')
    // A spare uplink with nothing behind it, for the broken chains to select.
    await createVethPair(rig.cleanup, { name: 'p9', netns: rig.ovs.netns, peer: 'p9peer', peerNetns: rig.ovs.netns })
    await rig.apply([
      physicalInterface('p0', 'p0', { uplink: 'p0' }),
      physicalInterface('p9', 'p9', { uplink: 'p9' }),
      serviceInterface('svc-a', { serviceId: 'a', ifName: 'eth1', netns: svc, labels: { svc: 'a' } }),
      chain('good', [[{ uplink: 'p0' }, { svc: 'a' }]]),
    ])
    await rig.waitReady('ServiceInterface', ['p0', 'p9', 'svc-a'])
    await rig.waitReady('ServiceChain', ['good'])
    await exec(svc, 'ip', ['addr', 'add', '10.64.0.2/24', 'dev', 'eth1'])
    await until('ping through the good chain', () => pingOk(1))
    goodCookie = (await rig.get('ServiceChain', 'good'))!.status.cookie as string
    goodFlows = await goodStable()
    goodSince = performance.now()
    expect(goodFlows).toHaveLength(2)
  }, 60_000)
  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail') console.error(rig?.tail())
  })
  afterAll(() => rig?.dispose())

  it('refuses an interface name longer than 15 bytes with a 400 naming the field, storing nothing', async () => {
    const tooLong = serviceInterface('svc-long', { serviceId: 'long', ifName: 'eth1-much-too-long', netns: svc, labels: { svc: 'long' } })
    const innocent = chain('innocent', [[{ uplink: 'p9' }, { svc: 'long' }]])
    const r = await rig.applyRaw([innocent, tooLong])
    expect(r.status).toBe(400)
    expect(JSON.stringify(r.body)).toContain('spec.service.interfaceName')
    expect(await rig.get('ServiceInterface', 'svc-long')).toBeUndefined()
    expect(await rig.get('ServiceChain', 'innocent')).toBeUndefined()
    const physical = await rig.applyRaw([physicalInterface('p-long', 'uplink0123456789', { uplink: 'long' })])
    expect(physical.status).toBe(400)
    expect(JSON.stringify(physical.body)).toContain('spec.physical.interfaceName')
  })

  it('reports a selector that matches nothing', async () => {
    await rig.apply([chain('missing', [[{ uplink: 'p9' }, { svc: 'nope' }]])])
    const c = await notReady('ServiceChain', 'missing', 'PortsUnresolved')
    expect(c.message).toContain('no ServiceInterface matches {svc=nope}')
  })

  it('reports a selector that matches two interfaces', async () => {
    await rig.apply([physicalInterface('dup1', 'p9', { dup: 'x', n: '1' }), physicalInterface('dup2', 'p9', { dup: 'x', n: '2' }), chain('ambiguous', [[{ dup: 'x' }, { svc: 'a' }]])])
    const c = await notReady('ServiceChain', 'ambiguous', 'PortsUnresolved')
    expect(c.message).toContain('{dup=x} matches 2 ServiceInterfaces (default/dup1, default/dup2)')
    // svc-a stays the good chain's port: the broken chain does not take it over.
    expect(c.message).toContain('ServiceInterface default/svc-a is already a port of default/good switch 0')
    // Both also name p9's netdev: the interface that holds the port keeps it, the newcomers get a conflict.
    for (const n of ['dup1', 'dup2']) {
      const si = await notReady('ServiceInterface', n, 'PortNameConflict')
      expect(si.message).toBe('port p9 is already wanted by ServiceInterface default/p9')
    }
    expect((await rig.ready('ServiceInterface', 'p9'))?.status).toBe('True')
    expect(await rig.ovs.vsctl('get', 'Interface', 'p9', 'external_ids:dpf-id')).toBe('"default/p9"\n')
    await rig.delete('ServiceInterface', ['dup1', 'dup2'])
  })

  it('refuses a DPUServiceNAD bridge the appliance does not own, and leaves that bridge alone', async () => {
    await rig.ovs.vsctl('add-br', 'br-foreign', '--', 'set', 'bridge', 'br-foreign', 'datapath_type=netdev')
    const foreignBefore = await rig.ovs.vsctl('list-ports', 'br-foreign')
    const svcB = rig.serviceNetns('b')
    await rig.apply([
      { apiVersion: SVC, kind: 'DPUServiceNAD', metadata: { name: 'foreign-nad' }, spec: { resourceType: 'veth', bridge: 'br-foreign' } },
      serviceInterface('svc-b', { serviceId: 'b', ifName: 'eth1', netns: svcB, labels: { svc: 'b' }, network: 'foreign-nad' }),
      chain('on-foreign', [[{ uplink: 'p9' }, { svc: 'b' }]]),
    ])
    const si = await notReady('ServiceInterface', 'svc-b', 'BridgeNotOwned')
    expect(si.message).toContain('br-foreign')
    expect(si.message).toContain('does not own')
    const c = await notReady('ServiceChain', 'on-foreign', 'PortsUnresolved')
    expect(c.message).toContain('ServiceInterface default/svc-b has no OpenFlow port yet')
    expect(await rig.ovs.vsctl('list-ports', 'br-foreign')).toBe(foreignBefore)
    expect(await linkMac(svcB, 'eth1')).toBeUndefined()
  })

  it('reports a physical interface whose netdev does not exist', async () => {
    await rig.apply([physicalInterface('ghost', 'nodev0', { uplink: 'ghost' }), chain('to-ghost', [[{ uplink: 'ghost' }, { uplink: 'p9' }]])])
    const si = await until('ghost reports its vswitchd error', async () => {
      const c = await rig.ready('ServiceInterface', 'ghost')
      return c?.status === 'False' && c.reason === 'InterfaceError' ? c : undefined
    })
    expect(si.message).toContain('could not open network device nodev0')
    const c = await notReady('ServiceChain', 'to-ghost', 'PortsUnresolved')
    expect(c.message).toContain('default/ghost has no OpenFlow port yet')
  })

  it('kept the healthy chain byte-identical and forwarding through all of it', async () => {
    // Taken before the dump, so the flows (installed before goodSince) are at least this old however slow the
    // dump is; a re-added flow restarts its duration at 0.
    const elapsedS = (performance.now() - goodSince) / 1000
    const all = await rig.flows()
    // Only the good chain's flows exist: none of the broken chains programmed a partial switch.
    expect(all.map((f) => f.cookie)).toEqual([goodCookie, goodCookie])
    expect(await goodStable()).toEqual(goodFlows)
    // Never removed and re-added in between either (1 ms: dump-flows prints milliseconds).
    for (const f of all) expect(f.durationS).toBeGreaterThanOrEqual(elapsedS - 0.001)
    expect(await pingOk(10)).toBe(true)
    const good = (await rig.ready('ServiceChain', 'good')) as Condition
    expect(good.status).toBe('True')
  })
})
