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
