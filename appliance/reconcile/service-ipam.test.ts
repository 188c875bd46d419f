import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { StoredObject } from '../../api/meta.js'
import { openStore, type Store } from '../store/index.js'
import { commitIpamAllocations, computeIpamWants, type IpamInputs } from './service-ipam.js'

const SVC = 'svc.dpu.nvidia.com/v1alpha1'
const obj = (kind: string, name: string, spec: unknown, labels?: Record<string, string>): StoredObject =>
  ({ apiVersion: SVC, kind, metadata: { name, namespace: 'ns', ...(labels ? { labels } : {}) }, spec, status: {} }) as unknown as StoredObject
const si = (name: string, network = 'nad') => obj('ServiceInterface', name, { interfaceType: 'service', service: { serviceID: name, network, interfaceName: 'net1' } }, { if: name })
const nad = (ipam: boolean) => obj('DPUServiceNAD', 'nad', { resourceType: 'veth', bridge: 'br-sfc', ipam })
const pool = (name: string, labels: Record<string, string>, net = { network: '10.0.120.0/22', gatewayIndex: 3, prefixSize: 29 }) =>
  obj('DPUServiceIPAM', name, { metadata: { labels }, ipv4Network: net })
const chain = (...ports: Array<[string, Record<string, unknown>?]>) =>
  obj('ServiceChain', 'c', { switches: [{ ports: ports.map(([iface, ipam]) => ({ serviceInterface: { matchLabels: { if: iface }, ...(ipam ? { ipam } : {}) } })) }] })
const node = { name: 'dpu-a' }

let dir: string
let store: Store
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'svc-ipam-test-'))
  store = openStore(join(dir, 'state.db'))
})
afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

const inputs = (over: Partial<IpamInputs> = {}): IpamInputs => ({
  interfaces: [si('a'), si('b')],
  chains: [chain(['a', { matchLabels: { pool: 'p' }, setDefaultRoute: true }], ['b', { matchLabels: { pool: 'p' } }])],
  nads: [nad(true)],
  pools: [pool('p', { pool: 'p' })],
  ...over,
})
const commit = (i: IpamInputs) => commitIpamAllocations(store.ipamAllocations, computeIpamWants(i, node))

describe('service interface IPAM', () => {
  it('gives each interface an address from the pool the chain port selects, with the gateway and default route', () => {
    const { results } = commit(inputs())
    expect(results.get('ns/a')).toEqual({
      assignment: { pool: 'ns/p', address: '10.0.120.1/29', subnet: '10.0.120.0/29', gateway: '10.0.120.3', routes: [], defaultRoute: true },
    })
    expect(results.get('ns/b')).toMatchObject({ assignment: { address: '10.0.120.2/29', defaultRoute: false } })
  })

  it('keeps addresses stable across passes and a reopened store, and releases the address of a deleted interface', () => {
    commit(inputs())
    store.close()
    store = openStore(join(dir, 'state.db'))
    const onlyB = inputs({ interfaces: [si('b')] })
    const { results, released } = commit(onlyB)
    expect(results.get('ns/b')).toMatchObject({ assignment: { address: '10.0.120.2/29' } })
    expect(released).toEqual([{ interface: 'ns/a', address: '10.0.120.1' }])
    // The freed address is the lowest free one again.
    expect(commit(inputs()).results.get('ns/a')).toMatchObject({ assignment: { address: '10.0.120.1/29' } })
  })

  it('does nothing for a NAD without ipam, and says so when a NAD asks but no chain port does', () => {
    expect(computeIpamWants(inputs({ nads: [nad(false)] }), node).size).toBe(0)
    const wants = computeIpamWants(inputs({ chains: [chain(['a'], ['b'])] }), node)
    expect(wants.get('ns/a')).toMatchObject({ problem: { reason: 'IpamNotRequested' } })
  })

  it('reports a missing or ambiguous pool on the interface that selects it', () => {
    expect(computeIpamWants(inputs({ pools: [] }), node).get('ns/a')).toMatchObject({ problem: { reason: 'IpamPoolNotFound' } })
    const two = computeIpamWants(inputs({ pools: [pool('p', { pool: 'p' }), pool('q', { pool: 'p' })] }), node)
    expect(two.get('ns/a')).toMatchObject({ problem: { reason: 'IpamPoolAmbiguous', message: expect.stringContaining('ns/p, ns/q') } })
  })

  it('is bounded by the block: the interface past the last address gets IpamPoolExhausted, the others keep theirs', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f']
    const many = inputs({
      interfaces: names.map((n) => si(n)),
      chains: [chain(...names.map((n): [string, Record<string, unknown>] => [n, { matchLabels: { pool: 'p' } }]))],
    })
    const { results } = commit(many)
    expect(names.map((n) => ('assignment' in results.get(`ns/${n}`)! ? 'ok' : 'exhausted'))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'exhausted'])
    expect(results.get('ns/f')).toMatchObject({ problem: { reason: 'IpamPoolExhausted', message: expect.stringContaining('all 5 addresses') } })
  })

  it('moves an interface whose pool changed to the new pool and gives the old address back', () => {
    commit(inputs())
    const moved = inputs({
      chains: [chain(['a', { matchLabels: { pool: 'q' } }], ['b', { matchLabels: { pool: 'p' } }])],
      pools: [pool('p', { pool: 'p' }), pool('q', { pool: 'q' }, { network: '10.9.0.0/24', gatewayIndex: 1, prefixSize: 24 })],
    })
    const { results, released } = commit(moved)
    expect(released).toEqual([{ interface: 'ns/a', address: '10.0.120.1' }])
    expect(results.get('ns/a')).toMatchObject({ assignment: { pool: 'ns/q', address: '10.9.0.2/24' } })
  })

  it("evaluates a pool's DPF nodeSelector (a corev1.NodeSelector) against this node's labels and name", () => {
    const rackA = { nodeSelectorTerms: [{ matchExpressions: [{ key: 'rack', operator: 'In', values: ['a'] }] }] }
    const byName = { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['dpu-a'] }] }] }
    const selected = (nodeSelector: unknown, on: { name: string; labels?: Record<string, string> }) =>
      computeIpamWants(inputs({ pools: [obj('DPUServiceIPAM', 'p', { ...(pool('p', { pool: 'p' }).spec as object), nodeSelector })] }), on).get('ns/a')
    expect(selected(rackA, { name: 'dpu-a', labels: { rack: 'a' } })).toMatchObject({ pool: 'ns/p' })
    expect(selected(rackA, { name: 'dpu-a', labels: { rack: 'b' } })).toMatchObject({ problem: { reason: 'IpamPoolNotFound' } })
    expect(selected(byName, { name: 'dpu-a', labels: {} })).toMatchObject({ pool: 'ns/p' })
    expect(selected(byName, { name: 'dpu-b', labels: {} })).toMatchObject({ problem: { reason: 'IpamPoolNotFound' } })
    // Labels unknown (no --node-label): the hub already chose which DPUs get the pool.
    expect(selected(rackA, { name: 'dpu-b' })).toMatchObject({ pool: 'ns/p' })
  })
})
