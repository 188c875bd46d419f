import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ApplianceError } from '../errors.js'
import { parseDocuments, parseObject } from '../resources/registry.js'
import type { DPUServiceConfigurationSpec, DPUServiceTemplateSpec } from '../resources/dpu-service-template.js'
import { DPUServiceSpecSchema } from '../resources/dpu-service.js'
import { mergeHelmValues, mergeServiceTemplate } from './merge-service-template.js'

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/dpf')
const fixture = (f: string) => parseDocuments(readFileSync(join(FIXTURES, f), 'utf8')).map((r) => parseObject(r))

type Values = Record<string, unknown> | undefined
// Facts from Helm's coalesceTables as DPF calls it (MergeMaps(configuration, template)): configuration first.
describe.each<[string, Values, Values, Values]>([
  ['neither', undefined, undefined, undefined],
  ['configuration only', { a: 1 }, undefined, { a: 1 }],
  ['template only', undefined, { a: 1 }, { a: 1 }],
  ['disjoint keys are united', { a: 1 }, { b: 2 }, { a: 1, b: 2 }],
  ['configuration wins a scalar conflict', { a: 1 }, { a: 2 }, { a: 1 }],
  ['tables merge deeply', { image: { tag: 'v2' } }, { image: { repository: 'r', tag: 'v1' } }, { image: { repository: 'r', tag: 'v2' } }],
  ['three levels deep', { a: { b: { c: 1 } } }, { a: { b: { d: 2 }, e: 3 } }, { a: { b: { c: 1, d: 2 }, e: 3 } }],
  ['lists are replaced whole, not concatenated', { l: [1] }, { l: [2, 3] }, { l: [1] }],
  ['an explicit null in the configuration stays', { a: null }, { a: { b: 1 } }, { a: null }],
  ['a configuration scalar is not replaced by a template table', { a: 'x' }, { a: { b: 1 } }, { a: 'x' }],
  ['a configuration table is not replaced by a template scalar', { a: { b: 1 } }, { a: 'x' }, { a: { b: 1 } }],
  ['a template list under a new key is taken', {}, { l: [{ k: 1 }] }, { l: [{ k: 1 }] }],
])('mergeHelmValues: %s', (_name, configuration, template, want) => {
  it('gives the merged values and leaves both inputs unchanged', () => {
    const before = structuredClone([configuration, template])
    expect(mergeHelmValues(configuration, template)).toEqual(want)
    expect([configuration, template]).toEqual(before)
  })
})

const source = { repoURL: 'https://helm.example/charts', chart: 'svc', version: '1.0.0' }
const tpl = (t: Partial<DPUServiceTemplateSpec> = {}): DPUServiceTemplateSpec => ({ deploymentServiceName: 'svc', helmChart: { source }, ...t })
const cfg = (c: Partial<DPUServiceConfigurationSpec> = {}): DPUServiceConfigurationSpec => ({ deploymentServiceName: 'svc', ...c })

describe.each<[string, DPUServiceTemplateSpec, DPUServiceConfigurationSpec, Parameters<typeof mergeServiceTemplate>[2], ReturnType<typeof mergeServiceTemplate>]>([
  ['bare pair: the source only', tpl(), cfg(), undefined, { helmChart: { source } }],
  [
    'values: configuration over template',
    tpl({ helmChart: { source, values: { replicas: 1, image: { tag: 'a', repository: 'r' } } } }),
    cfg({ serviceConfiguration: { helmChart: { values: { image: { tag: 'b' } } } } }),
    undefined,
    { helmChart: { source, values: { replicas: 1, image: { tag: 'b', repository: 'r' } } } },
  ],
  [
    'serviceDaemonSet labels and annotations come from the configuration',
    tpl(),
    cfg({ serviceConfiguration: { serviceDaemonSet: { labels: { l: '1' }, annotations: { a: '2' } } } }),
    undefined,
    { helmChart: { source }, serviceDaemonSet: { labels: { l: '1' }, annotations: { a: '2' } } },
  ],
  ['deployInCluster comes from the configuration', tpl(), cfg({ serviceConfiguration: { deployInCluster: true } }), undefined, { helmChart: { source }, deployInCluster: true }],
  [
    'serviceID and interfaces are the caller’s (they name DPUDeployment objects)',
    tpl(),
    cfg({ interfaces: [{ name: 'p0_if', network: 'mybrhbn' }] }),
    { serviceID: 'dpudeployment_d_svc', interfaces: ['d-svc-p0-if'] },
    { helmChart: { source }, serviceID: 'dpudeployment_d_svc', interfaces: ['d-svc-p0-if'] },
  ],
])('mergeServiceTemplate: %s', (_name, template, configuration, ids, want) => {
  it('builds the DPUService spec, which the DPUService schema accepts', () => {
    const merged = mergeServiceTemplate(template, configuration, ids)
    expect(merged).toEqual(want)
    expect(DPUServiceSpecSchema.safeParse(merged).success).toBe(true)
  })
})

describe('mergeServiceTemplate', () => {
  it('refuses a pair naming different deployment services', () => {
    expect(() => mergeServiceTemplate(tpl(), cfg({ deploymentServiceName: 'other' }))).toThrow(ApplianceError)
    expect(() => mergeServiceTemplate(tpl(), cfg({ deploymentServiceName: 'other' }))).toThrow(/"svc".*"other"/)
  })

  it('merges DPF’s own hbn template and configuration samples', () => {
    const [template] = fixture('dpuservicetemplate-hbn.yaml')
    const [configuration] = fixture('dpuserviceconfig-hbn.yaml')
    expect(template!.kind).toBe('DPUServiceTemplate')
    expect(configuration!.kind).toBe('DPUServiceConfiguration')
    const merged = mergeServiceTemplate(template!.spec as DPUServiceTemplateSpec, configuration!.spec as DPUServiceConfigurationSpec)
    expect(merged.helmChart.source).toEqual({ repoURL: 'https://helm.ngc.nvidia.com/nvidia/doca', version: '1.0.1', chart: 'doca-hbn' })
    expect(merged.helmChart.values).toMatchObject({ image: { repository: 'nvcr.io/nvidia/doca/doca_hbn', tag: '2.4.1-doca2.9.1' }, resources: { memory: '6Gi' } })
    expect(Object.keys(merged.helmChart.values!.configuration as object)).toEqual(['perDPUValuesYAML', 'startupYAMLJ2'])
    expect(Object.keys(merged.serviceDaemonSet!.annotations!)).toEqual(['k8s.v1.cni.cncf.io/networks'])
  })

  it('rejects a configuration interface whose name is not a netdev name, with its path', () => {
    expect(() =>
      parseObject({
        apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
        kind: 'DPUServiceConfiguration',
        metadata: { name: 'x' },
        spec: { deploymentServiceName: 'x', interfaces: [{ name: 'a-very-long-interface-name', network: 'n' }] },
      }),
    ).toThrow(/spec\.interfaces\[0\]\.name/)
  })
})
