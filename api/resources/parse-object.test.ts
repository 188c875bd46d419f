import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ApplianceError } from '../errors.js'
import { parseDocuments } from './parse-documents.js'
import { parseObject } from './parse-object.js'
import * as objects from './testdata/objects.js'

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/dpf')

function caught(fn: () => unknown): ApplianceError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ApplianceError)
    return err as ApplianceError
  }
  throw new Error('expected an ApplianceError, nothing was thrown')
}

/** Applies `edit` to a fresh valid object. */
function edited<T>(make: () => T, edit: (o: any) => void): T {
  const o = make()
  edit(o)
  return o
}

describe('DPF reference samples (test/fixtures/dpf)', () => {
  const files = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
  it('has every sample of reference/dpf.md §2 (plus the §4.2 reference flavor, written out as a manifest, and DPF docs hbn template/configuration)', () => {
    expect(files).toEqual([
      'bfb.yaml',
      'dpudeployment-ovn-hbn.yaml',
      'dpuflavor-hbn-ovn.yaml',
      'dpuservicechain-hbn-to-fabric.yaml',
      'dpuservicechain-ovn-to-hbn.yaml',
      'dpuserviceconfig-hbn.yaml',
      'dpuserviceinterfaces.yaml',
      'dpuservicenad.yaml',
      'dpuservicetemplate-hbn.yaml',
      'dpuset.yaml',
    ])
  })
  it.each(files)('%s parses unchanged', (f) => {
    const path = join(FIXTURES, f)
    const raws = parseDocuments(readFileSync(path, 'utf8'), path)
    expect(raws.length).toBeGreaterThan(0)
    for (const raw of raws) {
      const obj = parseObject(raw, path)
      expect(obj.kind).toBe((raw as { kind: string }).kind)
      expect(obj.metadata.namespace).toBe((raw as { metadata: { namespace: string } }).metadata.namespace)
    }
  })
  it('keeps every field of the DPUServiceChain sample', () => {
    const [raw] = parseDocuments(readFileSync(join(FIXTURES, 'dpuservicechain-hbn-to-fabric.yaml'), 'utf8'))
    expect(parseObject(raw)).toEqual(raw)
  })
  it('reads the DPUServiceInterfaces of the multi-document sample in order', () => {
    const raws = parseDocuments(readFileSync(join(FIXTURES, 'dpuserviceinterfaces.yaml'), 'utf8'))
    expect(raws.map((r) => parseObject(r).metadata.name)).toEqual(['p0', 'p1', 'app-sf', 'p0-sf', 'p1-sf', 'ovn'])
  })
  it('normalises the DPUServiceNAD doc spelling mtu to serviceMTU', () => {
    const [raw] = parseDocuments(readFileSync(join(FIXTURES, 'dpuservicenad.yaml'), 'utf8'))
    const spec = parseObject(raw).spec
    expect(spec.serviceMTU).toBe(1500)
    expect(spec).not.toHaveProperty('mtu')
  })
})

describe('parseObject accepts', () => {
  it.each([
    ['ServiceChain', objects.chain],
    ['DPUServiceChain with matchExpressions', objects.dpuServiceChain],
    ['DPUServiceInterface of type pf', objects.dpuServiceInterfacePf],
    ['DPUServiceIPAM ipv4Network', objects.ipamPool],
    ['DPUServiceIPAM loopback /32', objects.ipamLoopback],
    ['DPUService with interfaces', objects.dpuService],
    ['DPUFlavor (reference HBN+OVN flavor)', objects.dpuFlavor],
    ['DPUDeployment in the latest serviceChains.switches shape', objects.dpuDeploymentLatest],
  ])('%s', (_name, make) => {
    const raw = make()
    expect(parseObject(raw)).toEqual(raw)
  })

  it('defaults metadata.namespace to default and drops status', () => {
    const raw = edited(objects.chain, (o) => {
      delete o.metadata.namespace
      o.status = { phase: 'Ready' }
    })
    const obj = parseObject(raw)
    expect(obj.metadata.namespace).toBe('default')
    expect(obj).not.toHaveProperty('status')
  })

  it('keeps spec fields it does not model (DPF adds fields between releases)', () => {
    const raw = edited(objects.dpuServiceChain, (o) => {
      o.spec.futureField = { x: 1 }
      o.spec.template.spec.template.spec.switches[0].futureSwitchField = true
    })
    expect(parseObject(raw)).toEqual(raw)
  })

  it('accepts serviceMTU and an equal mtu together', () => {
    const raw = { apiVersion: 'svc.dpu.nvidia.com/v1alpha1', kind: 'DPUServiceNAD', metadata: { name: 'n' }, spec: { resourceType: 'veth', mtu: 9000, serviceMTU: 9000 } }
    expect(parseObject(raw).spec).toEqual({ resourceType: 'veth', serviceMTU: 9000 })
  })
})

const nad = (spec: Record<string, unknown>) => ({ apiVersion: 'svc.dpu.nvidia.com/v1alpha1', kind: 'DPUServiceNAD', metadata: { name: 'n' }, spec })
const bfb = (spec: Record<string, unknown>) => ({ apiVersion: 'provisioning.dpu.nvidia.com/v1alpha1', kind: 'BFB', metadata: { name: 'b' }, spec })
const TOO_MANY_LABELS = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']))
const inner = 'spec.template.spec.template.spec'

describe('parseObject rejects, naming the field', () => {
  it.each<[string, unknown, string, string]>([
    ['missing spec', edited(objects.chain, (o) => delete o.spec), 'api.validation', 'spec'],
    ['missing metadata.name', edited(objects.chain, (o) => delete o.metadata.name), 'api.validation', 'metadata.name'],
    ['missing template', edited(objects.dpuServiceChain, (o) => delete o.spec.template), 'api.validation', 'spec.template'],
    ['missing BFB url', bfb({}), 'api.validation', 'spec.url'],
    ['BFB url not http(s)', bfb({ url: 'ftp://x/y.bfb' }), 'api.validation', 'spec.url'],
    ['switches of the wrong type', edited(objects.dpuServiceChain, (o) => (o.spec.template.spec.template.spec.switches = 'p0')), 'api.validation', `${inner}.switches`],
    ['MTU of the wrong type', edited(objects.chain, (o) => (o.spec.switches[0].serviceMTU = '9000')), 'api.validation', 'spec.switches[0].serviceMTU'],
    ['empty ports', edited(objects.dpuServiceChain, (o) => (o.spec.template.spec.template.spec.switches[0].ports = [])), 'api.validation', `${inner}.switches[0].ports`],
    ['name with /', edited(objects.chain, (o) => (o.metadata.name = 'a/b')), 'api.validation', 'metadata.name'],
    ['name ..', edited(objects.chain, (o) => (o.metadata.name = '..')), 'api.validation', 'metadata.name'],
    ['upper-case name', edited(objects.chain, (o) => (o.metadata.name = 'HbnToFabric')), 'api.validation', 'metadata.name'],
    ['unicode name', edited(objects.chain, (o) => (o.metadata.name = 'café')), 'api.validation', 'metadata.name'],
    ['64-character name', edited(objects.chain, (o) => (o.metadata.name = 'a'.repeat(64))), 'api.validation', 'metadata.name'],
    ['bad namespace', edited(objects.chain, (o) => (o.metadata.namespace = 'DPF_System')), 'api.validation', 'metadata.namespace'],
    ['switch MTU 99999', edited(objects.chain, (o) => (o.spec.switches[0].serviceMTU = 99999)), 'api.validation', 'spec.switches[0].serviceMTU'],
    ['switch MTU 1279', edited(objects.chain, (o) => (o.spec.switches[0].serviceMTU = 1279)), 'api.validation', 'spec.switches[0].serviceMTU'],
    ['NAD mtu 99999', nad({ resourceType: 'sf', mtu: 99999 }), 'api.validation', 'spec.mtu'],
    ['NAD mtu contradicting serviceMTU', nad({ resourceType: 'sf', mtu: 1500, serviceMTU: 9000 }), 'api.validation', 'spec.mtu'],
    ['NAD unknown resourceType', nad({ resourceType: 'pci' }), 'api.validation', 'spec.resourceType'],
    ['51 switches', edited(objects.chain, (o) => (o.spec.switches = Array(51).fill(o.spec.switches[0]))), 'api.validation', 'spec.switches'],
    ['51 ports', edited(objects.chain, (o) => (o.spec.switches[0].ports = Array(51).fill(o.spec.switches[0].ports[0]))), 'api.validation', 'spec.switches[0].ports'],
    ['empty matchLabels', edited(objects.chain, (o) => (o.spec.switches[0].ports[1].serviceInterface.matchLabels = {})), 'api.validation', 'spec.switches[0].ports[1].serviceInterface.matchLabels'],
    [
      '51 matchLabels',
      edited(objects.chain, (o) => (o.spec.switches[0].ports[0].serviceInterface.matchLabels = TOO_MANY_LABELS)),
      'api.validation',
      'spec.switches[0].ports[0].serviceInterface.matchLabels',
    ],
    [
      'empty ipam matchLabels',
      edited(objects.chain, (o) => (o.spec.switches[0].ports[0].serviceInterface.ipam = { matchLabels: {} })),
      'api.validation',
      'spec.switches[0].ports[0].serviceInterface.ipam.matchLabels',
    ],
    [
      'In without values in nodeSelector',
      edited(objects.dpuServiceChain, (o) => (o.spec.template.spec.nodeSelector.matchExpressions[0].values = [])),
      'api.validation',
      'spec.template.spec.nodeSelector.matchExpressions[0].values',
    ],
    [
      'unknown selector operator',
      edited(objects.dpuServiceChain, (o) => (o.spec.template.spec.nodeSelector.matchExpressions[0].operator = 'Gt')),
      'api.validation',
      'spec.template.spec.nodeSelector.matchExpressions[0].operator',
    ],
    ['interface name of 16 chars', objects.serviceInterface({ interfaceType: 'physical', physical: { interfaceName: 'p0123456789abcde' } }), 'api.validation', 'spec.physical.interfaceName'],
    ['interface name with /', objects.serviceInterface({ interfaceType: 'physical', physical: { interfaceName: 'p0/1' } }), 'api.validation', 'spec.physical.interfaceName'],
    ['interface name with a space', objects.serviceInterface({ interfaceType: 'physical', physical: { interfaceName: 'p 0' } }), 'api.validation', 'spec.physical.interfaceName'],
    [
      'service interface name of 16 bytes (unicode)',
      objects.serviceInterface({ interfaceType: 'service', service: { serviceID: 'x', network: 'mybrsfc', interfaceName: 'ééééééééé' } }),
      'api.validation',
      'spec.service.interfaceName',
    ],
    ['sub-struct missing for interfaceType', objects.serviceInterface({ interfaceType: 'vf' }), 'api.validation', 'spec.vf'],
    ['sub-struct of another interfaceType', objects.serviceInterface({ interfaceType: 'physical', physical: { interfaceName: 'p0' }, pf: { pfID: 0 } }), 'api.validation', 'spec.pf'],
    ['ovn with a physical sub-struct', objects.serviceInterface({ interfaceType: 'ovn', physical: { interfaceName: 'p0' } }), 'api.validation', 'spec.physical'],
    ['unknown interfaceType', objects.serviceInterface({ interfaceType: 'bond' }), 'api.validation', 'spec.interfaceType'],
    ['vlanID 4095', objects.serviceInterface({ interfaceType: 'vlan', vlan: { vlanID: 4095, parentInterfaceRef: 'p0' } }), 'api.validation', 'spec.vlan.vlanID'],
    ['negative vfID', objects.serviceInterface({ interfaceType: 'vf', vf: { pfID: 0, vfID: -1 } }), 'api.validation', 'spec.vf.vfID'],
    [
      'service network with two slashes',
      objects.serviceInterface({ interfaceType: 'service', service: { serviceID: 'x', network: 'a/b/c', interfaceName: 'eth1' } }),
      'api.validation',
      'spec.service.network',
    ],
    ['node that is not a DNS name', objects.serviceInterface({ node: 'DPU_1', interfaceType: 'pf', pf: { pfID: 0 } }), 'api.validation', 'spec.node'],
    ['IPAM with both pool shapes', edited(objects.ipamPool, (o) => (o.spec.ipv4Subnet = { subnet: '10.1.0.0/16', gateway: '10.1.0.1', perNodeIPCount: 8 })), 'api.validation', 'spec.ipv4Subnet'],
    ['IPAM prefixSize shorter than the network', edited(objects.ipamPool, (o) => (o.spec.ipv4Network.prefixSize = 16)), 'api.validation', 'spec.ipv4Network.prefixSize'],
    ['IPAM bad CIDR', edited(objects.ipamPool, (o) => (o.spec.ipv4Network.network = '10.0.300.0/22')), 'api.validation', 'spec.ipv4Network.network'],
    ['DPUService interfaces without serviceID', edited(objects.dpuService, (o) => delete o.spec.serviceID), 'api.validation', 'spec.serviceID'],
    ['DPUService oci-less repoURL', edited(objects.dpuService, (o) => (o.spec.helmChart.source.repoURL = 'http://x')), 'api.validation', 'spec.helmChart.source.repoURL'],
    ['DPUFlavor port 2', edited(objects.dpuFlavor, (o) => (o.spec.hostNetworkInterfaceConfigs[0].portNumber = 2)), 'api.validation', 'spec.hostNetworkInterfaceConfigs[0].portNumber'],
    [
      'DPUDeployment port with neither serviceInterface nor service',
      edited(objects.dpuDeploymentLatest, (o) => (o.spec.serviceChains.switches[0].ports[0] = {})),
      'api.validation',
      'spec.serviceChains.switches[0].ports[0].serviceInterface',
    ],
    ['DPUDeployment without bfb', edited(objects.dpuDeploymentLatest, (o) => delete o.spec.dpus.bfb), 'api.validation', 'spec.dpus.bfb'],
    [
      'DPUSet with two node effects',
      {
        apiVersion: 'provisioning.dpu.nvidia.com/v1alpha1',
        kind: 'DPUSet',
        metadata: { name: 's' },
        spec: { dpuTemplate: { spec: { nodeEffect: { taint: { key: 'dpu', effect: 'NoSchedule' }, noEffect: true } } } },
      },
      'api.validation',
      'spec.dpuTemplate.spec.nodeEffect.noEffect',
    ],
    ['missing kind', edited(objects.chain, (o) => delete o.kind), 'api.validation', 'kind'],
    ['missing apiVersion', edited(objects.chain, (o) => delete o.apiVersion), 'api.validation', 'apiVersion'],
    ['not an object', ['a'], 'api.validation', ''],
    ['unknown kind', edited(objects.chain, (o) => (o.kind = 'ServiceChainSet')), 'api.unknown-kind', 'kind'],
    ['wrong-case kind', edited(objects.chain, (o) => (o.kind = 'servicechain')), 'api.unknown-kind', 'kind'],
    ['wrong apiVersion (version)', edited(objects.chain, (o) => (o.apiVersion = 'svc.dpu.nvidia.com/v1beta1')), 'api.wrong-api-version', 'apiVersion'],
    ['wrong apiVersion (group)', edited(objects.dpuFlavor, (o) => (o.apiVersion = 'svc.dpu.nvidia.com/v1alpha1')), 'api.wrong-api-version', 'apiVersion'],
  ])('%s', (_name, raw, code, path) => {
    const err = caught(() => parseObject(raw))
    expect(err.code).toBe(code)
    expect(err.issues.map((i) => i.path)).toContain(path)
    for (const i of err.issues) expect(i.message).not.toBe('')
  })

  it('names the object and the field in the message', () => {
    const raw = edited(objects.dpuServiceChain, (o) => (o.spec.template.spec.template.spec.switches[0].ports = []))
    const err = caught(() => parseObject(raw, 'chain.yaml'))
    expect(err.message).toMatch(/^chain\.yaml: DPUServiceChain dpf-operator-system\/hbn-to-fabric: spec\.template\.spec\.template\.spec\.switches\[0\]\.ports: /)
    expect(err.context).toMatchObject({ kind: 'DPUServiceChain', namespace: 'dpf-operator-system', name: 'hbn-to-fabric', source: 'chain.yaml' })
  })

  it('says "required" for a missing field', () => {
    const err = caught(() => parseObject(bfb({})))
    expect(err.issues).toEqual([{ path: 'spec.url', message: 'required (expected string)' }])
  })

  it('quotes label keys that are not identifiers in paths', () => {
    const raw = edited(objects.chain, (o) => (o.spec.switches[0].ports[0].serviceInterface.matchLabels = { 'svc.dpu.nvidia.com/service': 'bad value!' }))
    const err = caught(() => parseObject(raw))
    expect(err.issues[0]?.path).toBe('spec.switches[0].ports[0].serviceInterface.matchLabels["svc.dpu.nvidia.com/service"]')
  })

  it('reports every failing field, not only the first', () => {
    const raw = edited(objects.chain, (o) => {
      o.metadata.name = 'Bad'
      o.spec.switches[0].serviceMTU = 1
    })
    const paths = caught(() => parseObject(raw)).issues.map((i) => i.path)
    expect(paths).toEqual(expect.arrayContaining(['metadata.name', 'spec.switches[0].serviceMTU']))
  })

  it('suggests the registered spelling of a mis-cased kind', () => {
    const err = caught(() => parseObject(edited(objects.chain, (o) => (o.kind = 'Servicechain'))))
    expect(err.message).toContain('did you mean ServiceChain?')
  })
})

describe('every interfaceType with its sub-struct', () => {
  it.each<[string, Record<string, unknown>]>([
    ['physical', { physical: { interfaceName: 'p0' } }],
    ['pf', { pf: { pfID: 1 } }],
    ['vf', { vf: { pfID: 0, vfID: 10, parentInterfaceRef: 'pf0hpf' } }],
    ['vlan', { vlan: { vlanID: 100, parentInterfaceRef: 'p0' } }],
    ['service', { service: { serviceID: 'doca-hbn', network: 'dpf-operator-system/mybrhbn', interfaceName: 'p0_if' } }],
    ['ovn', {}],
    ['ovn', { ovn: {} }],
    ['patch', { patch: { peerBridge: 'br-hbn' } }],
    ['patch', { patch: { peerBridge: 'br-hbn', bridge: 'br-sfc', portName: 'pbrhbn', peerPortName: 'pbrsfc' } }],
  ])('%s %j', (interfaceType, sub) => {
    const raw = objects.serviceInterface({ node: 'dpu-node-1', interfaceType, ...sub })
    expect(parseObject(raw)).toEqual(raw)
  })
})
