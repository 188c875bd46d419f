import { describe, expect, it } from 'vitest'
import type { StoredObject } from '../../api/meta.js'
import { computeDesiredPorts, SERVICE_NETNS_ANNOTATION } from './ports.js'

const bridges = { sfc: 'br-sfc', hbn: 'br-hbn', ovn: 'br-ovn' }
const serviceInterface = (name: string, annotations?: Record<string, string>): StoredObject =>
  ({
    apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
    kind: 'ServiceInterface',
    metadata: { name, namespace: 'ns', ...(annotations ? { annotations } : {}) },
    spec: { interfaceType: 'service', service: { serviceID: 'fw', network: 'mybrsfc', interfaceName: 'fw_in' } },
    status: {},
  }) as unknown as StoredObject

const netnsOf = (si: StoredObject, serviceNetnsPrefix?: string) =>
  computeDesiredPorts([si], [], { bridges, ...(serviceNetnsPrefix ? { serviceNetnsPrefix } : {}) }, new Map())[0]!.ports[0]!.veth!.netns

describe('service interface network namespace', () => {
  it('is svc-<serviceID> by default, prefixed when several appliances share a host', () => {
    expect(netnsOf(serviceInterface('a'))).toBe('svc-fw')
    expect(netnsOf(serviceInterface('a'), 'dpu-a-')).toBe('dpu-a-svc-fw')
  })

  it('is the annotation when given, prefix or not', () => {
    expect(netnsOf(serviceInterface('a', { [SERVICE_NETNS_ANNOTATION]: 'mine' }), 'dpu-a-')).toBe('mine')
  })
})

describe("DPF's HBN port model", () => {
  it('gives a service interface on br-hbn its patch pair, with the keys HBN and the chains read', () => {
    const si = {
      apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
      kind: 'ServiceInterface',
      metadata: { name: 'p0-sf', namespace: 'ns' },
      spec: { interfaceType: 'service', service: { serviceID: 'doca-hbn', network: 'mybrhbn', interfaceName: 'p0_if' } },
      status: {},
    } as unknown as StoredObject
    const [plan] = computeDesiredPorts([si], [], { bridges }, new Map())
    const [rep, onHbn, onSfc] = plan!.ports
    expect(rep).toMatchObject({ bridge: 'br-hbn', type: '', ifaceIds: { 'dpf-id': 'ns/p0-sf' }, veth: { innerName: 'p0_if' } })
    expect(onHbn).toMatchObject({
      name: `p${rep!.name}brhbn`,
      bridge: 'br-hbn',
      type: 'patch',
      options: { peer: `p${rep!.name}brsfc` },
      ifaceIds: { 'dpf-peer-of': 'ns/p0-sf', hbn_rep_ofport: rep!.name, hbn_netdev: 'p0_if' },
    })
    expect(onHbn!.ifaceIds['dpf-id']).toBeUndefined()
    expect(onSfc).toMatchObject({
      name: `p${rep!.name}brsfc`,
      bridge: 'br-sfc',
      type: 'patch',
      options: { peer: `p${rep!.name}brhbn` },
      ifaceIds: { 'dpf-id': 'ns/p0-sf', 'iface-id': rep!.name },
      macOf: rep!.name,
    })
  })
})
