import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ApplianceError } from '../errors.js'
import { parseDocuments, parseObject } from '../resources/registry.js'
import type { ParsedObject } from '../resources/kind.js'
import * as objects from '../resources/testdata/objects.js'
import { RENDERED_FROM_ANNOTATION, renderForNode } from './render-for-node.js'

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/dpf')
const fixture = (f: string): ParsedObject[] => parseDocuments(readFileSync(join(FIXTURES, f), 'utf8')).map((r) => parseObject(r))
const dpu1 = { name: 'dpu-node-1', labels: { rack: 'a', 'feature.node.kubernetes.io/dpu-enabled': 'true' } }

describe('renderForNode: DPUServiceChain -> ServiceChain', () => {
  it('renders the DPF hbn-to-fabric sample for any node (no nodeSelector)', () => {
    const [dsc] = fixture('dpuservicechain-hbn-to-fabric.yaml')
    const out = renderForNode(dsc!, { name: 'dpu-a', labels: {} })
    expect(out).toEqual([
      {
        apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
        kind: 'ServiceChain',
        metadata: {
          name: 'hbn-to-fabric',
          namespace: 'dpf-operator-system',
          annotations: { [RENDERED_FROM_ANNOTATION]: 'DPUServiceChain/dpf-operator-system/hbn-to-fabric' },
        },
        spec: { node: 'dpu-a', switches: (dsc!.spec as any).template.spec.template.spec.switches },
      },
    ])
    // The rendered object is a valid node object.
    expect(parseObject(out[0])).toEqual(out[0])
  })

  it('takes labels and annotations from the inner template.metadata, not the outer one', () => {
    const raw = objects.dpuServiceChain() as any
    raw.spec.template.metadata = { labels: { outer: 'x' } }
    raw.spec.template.spec.template.metadata = { labels: { chain: 'fabric' }, annotations: { note: 'n', [RENDERED_FROM_ANNOTATION]: 'forged' } }
    const [sc] = renderForNode(parseObject(raw), dpu1)
    expect(sc!.metadata.labels).toEqual({ chain: 'fabric' })
    expect(sc!.metadata.annotations).toEqual({ note: 'n', [RENDERED_FROM_ANNOTATION]: 'DPUServiceChain/dpf-operator-system/hbn-to-fabric' })
  })

  it('overrides a node written in the template', () => {
    const raw = objects.dpuServiceChain() as any
    raw.spec.template.spec.template.spec.node = 'someone-else'
    expect(renderForNode(parseObject(raw), dpu1)[0]!.spec.node).toBe('dpu-node-1')
  })

  it.each<[string, Record<string, string>, number]>([
    ['In: rack a', { rack: 'a' }, 1],
    ['In: rack b', { rack: 'b' }, 1],
    ['not In: rack c', { rack: 'c' }, 0],
    ['not In: no rack label', {}, 0],
  ])('honours nodeSelector matchExpressions (%s)', (_name, labels, n) => {
    expect(renderForNode(parseObject(objects.dpuServiceChain()), { name: 'dpu-x', labels })).toHaveLength(n)
  })

  it('honours nodeSelector matchLabels, NotIn and DoesNotExist together', () => {
    const raw = objects.dpuServiceChain() as any
    raw.spec.template.spec.nodeSelector = {
      matchLabels: { pool: 'edge' },
      matchExpressions: [
        { key: 'rack', operator: 'NotIn', values: ['quarantine'] },
        { key: 'maintenance', operator: 'DoesNotExist' },
      ],
    }
    const dsc = parseObject(raw)
    const render = (labels: Record<string, string>) => renderForNode(dsc, { name: 'dpu-x', labels }).length
    expect(render({ pool: 'edge', rack: 'a' })).toBe(1)
    expect(render({ pool: 'edge' })).toBe(1)
    expect(render({ pool: 'core', rack: 'a' })).toBe(0)
    expect(render({ pool: 'edge', rack: 'quarantine' })).toBe(0)
    expect(render({ pool: 'edge', maintenance: '' })).toBe(0)
  })
})

describe('renderForNode: DPUServiceInterface -> ServiceInterface', () => {
  it('renders each of the DPF samples (uplinks, HBN ports, OVN) with its labels and sub-struct', () => {
    const rendered = fixture('dpuserviceinterfaces.yaml').flatMap((o) => renderForNode(o, dpu1))
    const hbn = (name: string, label: string, interfaceName: string) => [
      'ServiceInterface',
      name,
      { 'svc.dpu.nvidia.com/interface': label, 'svc.dpu.nvidia.com/service': 'doca-hbn' },
      { node: 'dpu-node-1', interfaceType: 'service', service: { serviceID: 'doca-hbn', network: 'mybrhbn', interfaceName } },
    ]
    expect(rendered.map((o) => [o.kind, o.metadata.name, o.metadata.labels, o.spec])).toEqual([
      ['ServiceInterface', 'p0', { uplink: 'p0' }, { node: 'dpu-node-1', interfaceType: 'physical', physical: { interfaceName: 'p0' } }],
      ['ServiceInterface', 'p1', { uplink: 'p1' }, { node: 'dpu-node-1', interfaceType: 'physical', physical: { interfaceName: 'p1' } }],
      hbn('app-sf', 'app_sf', 'pf2dpu2_if'),
      hbn('p0-sf', 'p0_sf', 'p0_if'),
      hbn('p1-sf', 'p1_sf', 'p1_if'),
      ['ServiceInterface', 'ovn', { port: 'ovn' }, { node: 'dpu-node-1', interfaceType: 'ovn' }],
    ])
    for (const o of rendered) expect(parseObject(o)).toEqual(o)
  })

  it('honours Exists in the PF example', () => {
    const dsi = parseObject(objects.dpuServiceInterfacePf())
    expect(renderForNode(dsi, dpu1)).toHaveLength(1)
    expect(renderForNode(dsi, { name: 'host-only', labels: { rack: 'a' } })).toEqual([])
  })
})

describe('renderForNode: other kinds', () => {
  it('passes node kinds through unchanged (DPUServiceNAD, DPUFlavor)', () => {
    const nad = fixture('dpuservicenad.yaml')[0]!
    const flavor = parseObject(objects.dpuFlavor())
    expect(renderForNode(nad, dpu1)).toEqual([nad])
    expect(renderForNode(flavor, dpu1)).toEqual([flavor])
  })

  it('passes ServiceInterface/ServiceChain through for this node or no node, drops them for another node', () => {
    const mine = parseObject(objects.serviceInterface({ node: 'dpu-node-1', interfaceType: 'pf', pf: { pfID: 0 } }))
    const anyNode = parseObject(objects.chain())
    const other = parseObject(objects.serviceInterface({ node: 'dpu-node-2', interfaceType: 'pf', pf: { pfID: 0 } }))
    expect(renderForNode(mine, dpu1)).toEqual([mine])
    expect(renderForNode(anyNode, dpu1)).toEqual([anyNode])
    expect(renderForNode(other, dpu1)).toEqual([])
  })

  it.each(['bfb.yaml', 'dpuset.yaml', 'dpudeployment-ovn-hbn.yaml'])('renders nothing for fleet-only %s', (f) => {
    for (const o of fixture(f)) expect(renderForNode(o, dpu1)).toEqual([])
  })

  it('renders nothing for DPUService (the hub renders its chart: federation/hub/helm-render.ts)', () => {
    expect(renderForNode(parseObject(objects.dpuService()), dpu1)).toEqual([])
  })

  it.each<[string, Record<string, unknown> | undefined, string, boolean]>([
    ['no nodeSelector', undefined, 'dpu-node-1', true],
    ['a term its labels match', { nodeSelectorTerms: [{ matchExpressions: [{ key: 'rack', operator: 'In', values: ['a'] }] }] }, 'dpu-node-1', true],
    ['a term its labels do not match', { nodeSelectorTerms: [{ matchExpressions: [{ key: 'rack', operator: 'NotIn', values: ['a'] }] }] }, 'dpu-node-1', false],
    ['matchFields naming it', { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['dpu-node-1'] }] }] }, 'dpu-node-1', true],
    ['matchFields naming another node', { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['dpu-node-1'] }] }] }, 'dpu-node-2', false],
    ['no terms', { nodeSelectorTerms: [] }, 'dpu-node-1', false],
  ])('passes DPUServiceIPAM through unchanged to a node its nodeSelector selects (%s)', (_name, nodeSelector, name, delivered) => {
    const raw = objects.ipamPool()
    const pool = parseObject({ ...raw, spec: { ...raw.spec, ...(nodeSelector ? { nodeSelector } : {}) } })
    expect(renderForNode(pool, { name, labels: { rack: 'a' } })).toEqual(delivered ? [pool] : [])
  })
})

describe('renderForNode is pure and deterministic', () => {
  it('gives byte-identical output for the same input and never aliases it', () => {
    const dsc = parseObject(objects.dpuServiceChain())
    const before = JSON.stringify(dsc)
    const a = renderForNode(dsc, dpu1)
    const b = renderForNode(dsc, dpu1)
    expect(JSON.stringify(a)).toBe(JSON.stringify(b))
    ;(a[0]!.spec as any).switches[0].ports.pop()
    a[0]!.metadata.labels!.chain = 'mutated'
    expect(JSON.stringify(dsc)).toBe(before)
    expect(JSON.stringify(renderForNode(dsc, dpu1))).toBe(JSON.stringify(b))
  })

  it('does not depend on the order of node labels', () => {
    const dsc = parseObject(objects.dpuServiceChain())
    const x = renderForNode(dsc, { name: 'n', labels: { rack: 'a', z: '1' } })
    const y = renderForNode(dsc, { name: 'n', labels: { z: '1', rack: 'a' } })
    expect(JSON.stringify(x)).toBe(JSON.stringify(y))
  })
})

describe('renderForNode refuses', () => {
  const code = (fn: () => unknown): string => {
    try {
      fn()
    } catch (err) {
      expect(err).toBeInstanceOf(ApplianceError)
      return (err as ApplianceError).code
    }
    return 'nothing thrown'
  }
  it('a node name that is not a DNS subdomain', () => {
    expect(code(() => renderForNode(parseObject(objects.dpuServiceChain()), { name: 'DPU_1', labels: {} }))).toBe('api.render')
  })
  it('an unvalidated fleet object whose template is broken, naming the field', () => {
    const bad = { ...parseObject(objects.dpuServiceChain()), spec: { template: { spec: { template: { spec: { switches: [] } } } } } }
    try {
      renderForNode(bad, dpu1)
      expect.unreachable()
    } catch (err) {
      expect((err as ApplianceError).code).toBe('api.render')
      expect((err as ApplianceError).issues[0]?.path).toBe('spec.template.spec.template.spec.switches')
    }
  })
  it('a kind that is not registered', () => {
    expect(code(() => renderForNode({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} }, dpu1))).toBe('api.render')
  })
})
