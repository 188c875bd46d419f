import { describe, expect, it } from 'vitest'
import type { StoredObject } from '../../api/meta.js'
import type { TableCache } from '../ovs/ovsdb/index.js'
import { TransactionBuilder } from '../ovs/ovsdb/index.js'
import { fnv1a32 } from '../sfc/cookie.js'
import { computeDesiredPorts } from './ports.js'
import { computeServiceOfportRequests, guardOfportRequests, hashToOfport, OFPORT_REQUEST_MAX, OFPORT_REQUEST_MIN, readUsedOfports, resolveOfport } from './service-ofport.js'

type Iface = { name: string; ofport: number | null; ofport_request: number | null }
function cacheOf(ifaces: Iface[]): Pick<TableCache, 'port' | 'interfaces'> {
  return {
    interfaces: () => ifaces as unknown as ReturnType<TableCache['interfaces']>,
    port: (name: string) => (ifaces.some((i) => i.name === name) ? ({ name } as unknown as ReturnType<TableCache['port']>) : undefined),
  }
}

const si = (name: string, network = 'mybrsfc'): StoredObject =>
  ({
    apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
    kind: 'ServiceInterface',
    metadata: { name, namespace: 'ns' },
    spec: { interfaceType: 'service', service: { serviceID: name, network, interfaceName: 'net1' } },
    status: {},
  }) as unknown as StoredObject
const bridges = { sfc: 'br-sfc', hbn: 'br-hbn', ovn: 'br-ovn' }

describe('FNV-1a 32', () => {
  // Known answers from the FNV reference test suite (test_fnv.c, FNV-1a 32 column), checked with a separate
  // Python implementation.
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('of %j is the published value', (input, expected) => {
    expect(fnv1a32(Buffer.from(input, 'utf8'))).toBe(expected)
  })
})

describe("DPF's ofport_request scheme", () => {
  // Collisions DPF's own ovs-cni test lists (ovsdb_test.go, TestHashToOFPort_ReportCollisions, "DPFFlavorExtended"):
  // both names of each row map to the ofport given there. Re-checked with a separate Python FNV-1a 32.
  it.each([
    ['pf1vf50', 'pf1vf25', 58887],
    ['pf1vf51', 'pf1vf24', 57460],
    ['pen3f0pf0sf73brhbn', 'pen3f0pf0sf17brsfc', 60920],
    ['en3f0pf0sf88', 'en3f0pf0sf13', 52688],
    ['pen3f1pf1sf28brhbn', 'pf0vf12', 32814],
    ['en3f1pf1sf109', 'pen3f1pf1sf42brhbn', 61110],
  ])('maps %s and %s to %d, as DPF does', (a, b, ofport) => {
    expect(hashToOfport(a)).toBe(ofport)
    expect(hashToOfport(b)).toBe(ofport)
  })

  it('stays within the controller range for any name', () => {
    for (const name of ['', 'a', 'p0', 'sv0123456789', 'x'.repeat(300)]) {
      expect(hashToOfport(name)).toBeGreaterThanOrEqual(OFPORT_REQUEST_MIN)
      expect(hashToOfport(name)).toBeLessThanOrEqual(OFPORT_REQUEST_MAX)
    }
  })

  it('probes linearly past used slots and wraps to the start of the range', () => {
    const c = hashToOfport('pf1vf50')
    expect(resolveOfport('pf1vf50', new Set())).toBe(c)
    expect(resolveOfport('pf1vf25', new Set([c]))).toBe(c + 1)
    expect(resolveOfport('pf1vf25', new Set([c, c + 1, c + 2]))).toBe(c + 3)
    const tail = new Set<number>()
    for (let p = c; p <= OFPORT_REQUEST_MAX; p++) tail.add(p)
    expect(resolveOfport('pf1vf50', tail)).toBe(OFPORT_REQUEST_MIN)
  })

  it('gives up (vswitchd chooses) only when every slot is used', () => {
    const all = new Set<number>()
    for (let p = OFPORT_REQUEST_MIN; p <= OFPORT_REQUEST_MAX; p++) all.add(p)
    expect(resolveOfport('p0', all)).toBeUndefined()
  })

  it('counts ofports vswitchd assigned and the requests ports claim, honoured or not', () => {
    const used = readUsedOfports(
      cacheOf([
        { name: 'a', ofport: 40000, ofport_request: 40000 },
        { name: 'b', ofport: -1, ofport_request: 40001 },
        { name: 'c', ofport: 3, ofport_request: null },
        { name: 'd', ofport: null, ofport_request: null },
        { name: 'e', ofport: 4, ofport_request: 40002 },
      ]),
      new Set(['a']),
    )
    expect([...used].sort()).toEqual([3, 4, 40001, 40002])
  })
})

describe('computeServiceOfportRequests', () => {
  it('requests the hash slot for a new service port, and nothing for a port OVS already has', () => {
    const plans = computeDesiredPorts([si('a'), si('b')], [], { bridges }, new Map())
    const [a, b] = plans.map((p) => p.ports[0]!.name)
    const requests = computeServiceOfportRequests(plans, cacheOf([{ name: b!, ofport: 7, ofport_request: null }]))
    expect(requests).toEqual(new Map([[a!, hashToOfport(a!)]]))
  })

  it('keeps the number a re-opened port had; a re-opened port without one gets its hash slot', () => {
    const plans = computeDesiredPorts([si('a'), si('b')], [], { bridges }, new Map())
    const [a, b] = plans.map((p) => p.ports[0]!.name)
    const cache = cacheOf([
      { name: a!, ofport: 5, ofport_request: null },
      { name: b!, ofport: -1, ofport_request: null },
    ])
    expect(
      computeServiceOfportRequests(
        plans,
        cache,
        new Map([
          [a!, 5],
          [b!, undefined],
        ]),
      ),
    ).toEqual(
      new Map([
        [a!, 5],
        [b!, hashToOfport(b!)],
      ]),
    )
  })

  it('covers the HBN patch pair of a service interface on br-hbn, and no other interface type', () => {
    const uplink = { ...si('p0'), spec: { interfaceType: 'physical', physical: { interfaceName: 'p0' } } } as unknown as StoredObject
    const plans = computeDesiredPorts([si('h', 'mybrhbn'), uplink], [], { bridges }, new Map())
    const requests = computeServiceOfportRequests(plans, cacheOf([]))
    expect([...requests.keys()].sort()).toEqual(plans[0]!.ports.map((p) => p.name).sort())
    expect(new Set(requests.values()).size).toBe(3)
  })

  it('skips a slot held by any interface on any bridge', () => {
    const plans = computeDesiredPorts([si('a')], [], { bridges }, new Map())
    const a = plans[0]!.ports[0]!.name
    const taken = hashToOfport(a)
    const requests = computeServiceOfportRequests(plans, cacheOf([{ name: 'foreign', ofport: taken, ofport_request: taken }]))
    expect(requests.get(a)).toBe(taken + 1 > OFPORT_REQUEST_MAX ? OFPORT_REQUEST_MIN : taken + 1)
  })

  it('guards the transaction with a wait per requested number', () => {
    const txn = new TransactionBuilder()
    guardOfportRequests(txn, new Map([['x', 40000]]))
    expect(txn.ops).toEqual([{ op: 'wait', table: 'Interface', where: [['ofport_request', '==', 40000]], columns: ['ofport_request'], until: '==', rows: [], timeout: 0 }])
  })
})
