import { describe, expect, it } from 'vitest'
import type { StoredObject } from '../../api/meta.js'
import { objectRows } from './output.js'
import { renderTrace, type ChainTrace } from './trace.js'

const obj = (kind: string, name: string, status: Record<string, unknown>) =>
  ({
    apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
    kind,
    metadata: { name, namespace: 'default', generation: 1, origin: 'local', uid: 'u', resourceVersion: '1', creationTimestamp: new Date().toISOString() },
    spec: { switches: [{ ports: [{}, {}] }] },
    status,
  }) as unknown as StoredObject

describe('get -o wide columns', () => {
  it('adds switches, resolved ports, flows and counters for ServiceChains', () => {
    const rows = objectRows(
      [
        obj('ServiceChain', 'c1', {
          conditions: [{ type: 'Ready', status: 'True', reason: 'FlowsInstalled' }],
          switches: [{ interfaces: ['default/a', 'default/b'], ofports: [1, 2], flows: 2 }],
          counters: { flows: 2, packets: 12, bytes: 1176 },
        }),
        obj('ServiceChain', 'c2', { switches: [{ interfaces: ['default/a', null], ofports: [1, null], flows: 0 }] }),
      ],
      { wide: true, allNamespaces: false },
    )
    const header = rows[0]!
    const pick = (row: string[], ...names: string[]) => names.map((n) => row[header.indexOf(n)])
    expect(pick(rows[1]!, 'NAME', 'READY', 'SWITCHES', 'PORTS', 'FLOWS', 'PACKETS', 'BYTES')).toEqual(['c1', 'True', '1', '2/2', '2', '12', '1176'])
    expect(pick(rows[2]!, 'NAME', 'SWITCHES', 'PORTS', 'FLOWS', 'PACKETS')).toEqual(['c2', '1', '1/2', '0', '-'])
  })

  it('keeps the common columns for other kinds and for mixed lists', () => {
    const rows = objectRows([obj('DPUServiceNAD', 'n', {})], { wide: true, allNamespaces: false })
    expect(rows[0]).not.toContain('PORTS')
    expect(rows[0]).not.toContain('BRIDGE')
    expect(objectRows([obj('ServiceChain', 'c', {})], { wide: false, allNamespaces: false })[0]).not.toContain('PACKETS')
  })

  it('adds the bridge, port, ofport and MAC the ports loop wrote for ServiceInterfaces', () => {
    const rows = objectRows([obj('ServiceInterface', 'p0', { bridge: 'br-sfc', port: 'p0', ofport: 3, mac: '02:00:00:00:00:01' }), obj('ServiceInterface', 'vf1', {})], {
      wide: true,
      allNamespaces: false,
    })
    const header = rows[0]!
    const pick = (row: string[]) => ['NAME', 'BRIDGE', 'PORT', 'OFPORT', 'MAC'].map((n) => row[header.indexOf(n)])
    expect(pick(rows[1]!)).toEqual(['p0', 'br-sfc', 'p0', '3', '02:00:00:00:00:01'])
    expect(pick(rows[2]!)).toEqual(['vf1', '-', '-', '-', '-'])
    expect(objectRows([obj('ServiceInterface', 'p0', {})], { wide: false, allNamespaces: false })[0]).not.toContain('BRIDGE')
  })
})

describe('get table columns', () => {
  it('shows UID for fleet objects (get dsc) and not for node objects; wide shows it once for every kind', () => {
    expect(objectRows([obj('DPUServiceChain', 'd', {})], { wide: false, allNamespaces: false })[0]).toEqual(['NAME', 'GENERATION', 'READY', 'REASON', 'UID', 'AGE'])
    expect(objectRows([obj('ServiceChain', 'c', {})], { wide: false, allNamespaces: false })[0]).toEqual(['NAME', 'GENERATION', 'READY', 'REASON', 'AGE'])
    const wide = objectRows([obj('DPUServiceChain', 'd', {})], { wide: true, allNamespaces: true })[0]!
    expect(wide.filter((h) => h === 'UID')).toHaveLength(1)
  })

  it('prefixes names with kind.group/ when several kinds are listed', () => {
    const rows = objectRows([obj('ServiceChain', 'c', {})], { wide: false, allNamespaces: false, namePrefix: 'servicechain.svc.dpu.nvidia.com/' })
    expect(rows[1]![0]).toBe('servicechain.svc.dpu.nvidia.com/c')
  })
})

describe('renderTrace', () => {
  it('prints the steps, the path by interface name and the datapath actions', () => {
    const t: ChainTrace = {
      chain: 'default/c1',
      from: { interface: 'default/a', bridge: 'br-sfc', ofport: 1, switch: 0 },
      flow: 'in_port=1,arp',
      steps: [{ bridge: 'br-sfc', table: 0, rule: 'in_port=1, priority 100, cookie 0x1', actions: ['output:2'] }],
      outputs: [{ ofport: 2, interface: 'default/b' }],
      datapathActions: ['3'],
      dropped: false,
      text: '',
    }
    expect(renderTrace(t)).toBe(
      [
        'chain default/c1: from default/a (br-sfc ofport 1, switch 0)',
        'packet: in_port=1,arp',
        '  br-sfc table 0: in_port=1, priority 100, cookie 0x1',
        '      output:2',
        'path: default/a -> default/b (ofport 2)',
        'datapath actions: 3',
        '',
      ].join('\n'),
    )
  })
})
