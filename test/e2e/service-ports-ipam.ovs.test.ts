/**
 * The CNI role's details with real OVS, real namespaces and real packets (issue #15, "Interface plumbing"):
 * - a service port's `ofport_request` is DPF's FNV-1a 32 slot, so a re-created veth, a replaced namespace or a
 *   re-applied interface comes back under the same ofport; two names with one slot probe linearly;
 * - a NAD with `ipam: true` and a chain port with `ipam` give each service interface an address from the selected
 *   DPUServiceIPAM inside its namespace, the two ping each other through the chain, and the addresses survive an
 *   appliance restart.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { exec, ping } from '../../bin/demo/netns.js'
import { hashToOfport } from '../../appliance/reconcile/service-ofport.js'
import { serviceVethName } from '../../appliance/runtime/ports/index.js'
import { serviceInterface, startChainRig, SVC, until, type ChainRig } from '../support/chain-rig.js'

const ofportOf = async (rig: ChainRig, name: string) => (await rig.get('ServiceInterface', name))?.status.ofport as number | undefined
const innerIfindex = async (netns: string, dev: string) => {
  try {
    return (JSON.parse((await exec(netns, 'ip', ['-j', 'link', 'show', 'dev', dev])).stdout) as Array<{ ifindex: number }>)[0]?.ifindex
  } catch {
    return undefined
  }
}
/** Deletes a service veth by its outer end, which lives where vswitchd runs (the sandbox's namespace). */
async function deleteOuterEnd(rig: ChainRig, port: string): Promise<void> {
  if (rig.ovs.netns === undefined) throw new Error('the chain rig runs vswitchd in its own namespace')
  await exec(undefined, 'ip', ['-n', rig.ovs.netns, 'link', 'del', port])
}

describe('service ports and IPAM (real OVS)', () => {
  let rig: ChainRig
  beforeAll(async () => {
    rig = await startChainRig()
  })
  afterEach(({ task }) => {
    if (rig && task.result?.state === 'fail') console.error(rig.tail(80))
  })
  afterAll(async () => {
    await rig?.dispose()
  })

  it("gives a service port DPF's hash slot and keeps it when the veth, the namespace or the interface is re-created", async () => {
    const netns = rig.serviceNetns('of')
    const port = serviceVethName('default/ofa')
    const slot = hashToOfport(port)
    await rig.apply([serviceInterface('ofa', { serviceId: 'ofa', ifName: 'eth1', netns, labels: { of: 'a' } })])
    await rig.waitReady('ServiceInterface', ['ofa'], 30_000)
    expect(await ofportOf(rig, 'ofa')).toBe(slot)

    // The veth goes away under OVS (its outer end deleted, as when a service's runtime tears it down).
    const before = await innerIfindex(netns, 'eth1')
    await deleteOuterEnd(rig, port)
    await until(
      'veth re-created',
      async () => {
        const now = await innerIfindex(netns, 'eth1')
        return now !== undefined && now !== before
      },
      30_000,
    )
    await until('port re-opened under its slot', async () => (await ofportOf(rig, 'ofa')) === slot && (await rig.ready('ServiceInterface', 'ofa'))?.status === 'True', 30_000)

    // The service's namespace replaced: the veth dies with it and is made again in the new one.
    await exec(undefined, 'ip', ['netns', 'del', netns])
    await until('veth back in a new namespace', async () => (await innerIfindex(netns, 'eth1')) !== undefined, 30_000)
    await until('port re-opened under its slot', async () => (await ofportOf(rig, 'ofa')) === slot && (await rig.ready('ServiceInterface', 'ofa'))?.status === 'True', 30_000)

    // The interface deleted and applied again: a new port, the same number.
    await rig.delete('ServiceInterface', ['ofa'])
    await until('port removed', async () => (await rig.ovs.vsctl('--if-exists', 'get', 'Interface', port, 'ofport')).trim() === '', 30_000)
    await rig.apply([serviceInterface('ofa', { serviceId: 'ofa', ifName: 'eth1', netns, labels: { of: 'a' } })])
    await rig.waitReady('ServiceInterface', ['ofa'], 30_000)
    expect(await ofportOf(rig, 'ofa')).toBe(slot)
    await rig.delete('ServiceInterface', ['ofa'])
  })

  it('probes linearly when two service ports hash to one slot, and each keeps its number across a re-created veth', async () => {
    // Two interface names whose ports share a slot (found, not hard-coded: the port name is a hash of the dpf-id).
    const bySlot = new Map<number, string>()
    let pair: [string, string] | undefined
    for (let i = 0; !pair; i++) {
      const name = `col${i}`
      const slot = hashToOfport(serviceVethName(`default/${name}`))
      const other = bySlot.get(slot)
      if (other !== undefined) pair = [other, name]
      bySlot.set(slot, name)
    }
    const [first, second] = pair
    const slot = hashToOfport(serviceVethName(`default/${first}`))
    const next = slot === 65279 ? 32768 : slot + 1
    const nsFirst = rig.serviceNetns('c1')
    const nsSecond = rig.serviceNetns('c2')
    await rig.apply([serviceInterface(first, { serviceId: first, ifName: 'eth1', netns: nsFirst, labels: { col: '1' } })])
    await rig.waitReady('ServiceInterface', [first], 30_000)
    await rig.apply([serviceInterface(second, { serviceId: second, ifName: 'eth1', netns: nsSecond, labels: { col: '2' } })])
    await rig.waitReady('ServiceInterface', [second], 30_000)
    expect([await ofportOf(rig, first), await ofportOf(rig, second)]).toEqual([slot, next])

    const before = await innerIfindex(nsFirst, 'eth1')
    await deleteOuterEnd(rig, serviceVethName(`default/${first}`))
    await until(
      'veth re-created',
      async () => {
        const now = await innerIfindex(nsFirst, 'eth1')
        return now !== undefined && now !== before
      },
      30_000,
    )
    await until('first port back under its slot', async () => (await ofportOf(rig, first)) === slot && (await rig.ready('ServiceInterface', first))?.status === 'True', 30_000)
    expect(await ofportOf(rig, second)).toBe(next)
    await rig.delete('ServiceInterface', [first, second])
  })

  it('gives two service interfaces addresses from the selected pool in their namespaces; they ping through the chain, across an appliance restart', async () => {
    const nsA = rig.serviceNetns('ia')
    const nsB = rig.serviceNetns('ib')
    const pool = {
      apiVersion: SVC,
      kind: 'DPUServiceIPAM',
      metadata: { name: 'pool' },
      spec: { metadata: { labels: { pool: 'e2e' } }, ipv4Network: { network: '10.66.0.0/22', gatewayIndex: 3, prefixSize: 29 } },
    }
    const nad = { apiVersion: SVC, kind: 'DPUServiceNAD', metadata: { name: 'ipnad' }, spec: { resourceType: 'veth', bridge: 'br-sfc', ipam: true } }
    const chain = {
      apiVersion: SVC,
      kind: 'ServiceChain',
      metadata: { name: 'ipchain' },
      spec: {
        switches: [
          {
            ports: [
              { serviceInterface: { matchLabels: { ip: 'a' }, ipam: { matchLabels: { pool: 'e2e' }, setDefaultRoute: true } } },
              { serviceInterface: { matchLabels: { ip: 'b' }, ipam: { matchLabels: { pool: 'e2e' } } } },
            ],
          },
        ],
      },
    }
    await rig.apply([
      pool,
      nad,
      serviceInterface('ipa', { serviceId: 'ipa', ifName: 'net1', netns: nsA, labels: { ip: 'a' }, network: 'ipnad' }),
      serviceInterface('ipb', { serviceId: 'ipb', ifName: 'net1', netns: nsB, labels: { ip: 'b' }, network: 'ipnad' }),
      chain,
    ])
    await rig.waitReady('ServiceInterface', ['ipa', 'ipb'], 30_000)
    await rig.waitReady('ServiceChain', ['ipchain'], 30_000)
    const ipamOf = async (name: string) => (await rig.get('ServiceInterface', name))?.status.ipam as { address: string; gateway?: string; pool: string } | undefined
    expect(await ipamOf('ipa')).toMatchObject({ pool: 'default/pool', address: '10.66.0.1/29', gateway: '10.66.0.3' })
    expect(await ipamOf('ipb')).toMatchObject({ address: '10.66.0.2/29' })
    const addrs = async (ns: string) =>
      (JSON.parse((await exec(ns, 'ip', ['-j', '-4', 'addr', 'show', 'dev', 'net1'])).stdout) as Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>)
        .flatMap((l) => l.addr_info)
        .map((a) => `${a.local}/${a.prefixlen}`)
    expect(await addrs(nsA)).toEqual(['10.66.0.1/29'])
    expect(await addrs(nsB)).toEqual(['10.66.0.2/29'])
    expect((await exec(nsA, 'ip', ['-4', 'route', 'show', 'default'])).stdout).toContain('default via 10.66.0.3 dev net1')
    expect((await exec(nsB, 'ip', ['-4', 'route', 'show', 'default'])).stdout.trim()).toBe('')

    expect((await ping(nsA, '10.66.0.2', { count: 3, interval: 0.2, timeoutS: 5 })).received).toBe(3)

    // A restarted appliance reads its allocations back: same addresses, nothing to change in the namespaces.
    await rig.restartApp()
    await rig.waitReady('ServiceInterface', ['ipa', 'ipb'], 30_000)
    expect(await ipamOf('ipa')).toMatchObject({ address: '10.66.0.1/29' })
    expect(await ipamOf('ipb')).toMatchObject({ address: '10.66.0.2/29' })
    expect(rig.tail(400)).not.toContain('IPAM address applied')
    expect((await ping(nsB, '10.66.0.1', { count: 3, interval: 0.2, timeoutS: 5 })).received).toBe(3)

    // Deleting an interface gives its address back: the next interface gets it.
    await rig.delete('ServiceInterface', ['ipa'])
    const nsC = rig.serviceNetns('ic')
    await rig.apply([serviceInterface('ipc', { serviceId: 'ipc', ifName: 'net1', netns: nsC, labels: { ip: 'a' }, network: 'ipnad' })])
    await rig.waitReady('ServiceInterface', ['ipc'], 30_000)
    expect(await ipamOf('ipc')).toMatchObject({ address: '10.66.0.1/29' })
    expect(await addrs(nsC)).toEqual(['10.66.0.1/29'])
  })
})
