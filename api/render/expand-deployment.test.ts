import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { LabelSelector, NodeSelector } from '../resources/common.js'
import type { ParsedObject } from '../resources/kind.js'
import { parseDocuments, parseObject } from '../resources/registry.js'
import { computeDeploymentNodeSelector, expandDeploymentServices, type DeploymentExpansion, type FleetLookup } from './expand-deployment.js'

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/dpf')
const fixture = (f: string) => parseDocuments(readFileSync(join(FIXTURES, f), 'utf8')).map((r) => parseObject(r))
const NS = 'dpf-operator-system'
const SVC = 'svc.dpu.nvidia.com/v1alpha1'

const template = (name: string, svc = name, values: Record<string, unknown> = { image: { tag: 'template' }, fromTemplate: true }): ParsedObject =>
  parseObject({
    apiVersion: SVC,
    kind: 'DPUServiceTemplate',
    metadata: { name, namespace: NS },
    spec: { deploymentServiceName: svc, helmChart: { source: { repoURL: 'https://charts.example.com', chart: name, version: '1.0.0' }, values } },
  })
const configuration = (name: string, svc = name, extra: Record<string, unknown> = {}): ParsedObject =>
  parseObject({
    apiVersion: SVC,
    kind: 'DPUServiceConfiguration',
    metadata: { name, namespace: NS },
    spec: { deploymentServiceName: svc, serviceConfiguration: { helmChart: { values: { image: { tag: 'configuration' } } } }, ...extra },
  })
const deployment = (services: Record<string, { serviceTemplate: string; serviceConfiguration: string }>, dpuSets?: unknown[]): ParsedObject =>
  parseObject({
    apiVersion: SVC,
    kind: 'DPUDeployment',
    metadata: { name: 'edge', namespace: NS },
    spec: { dpus: { bfb: 'bf-bundle', flavor: 'flavor', ...(dpuSets ? { dpuSets } : {}) }, services },
  })
const lookupIn =
  (objs: ParsedObject[]): FleetLookup =>
  (kind, namespace, name) =>
    objs.find((o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name)
const names = (x: DeploymentExpansion) => ('services' in x ? x.services.map((s) => s.metadata.name) : x.problems.map((p) => p.reason))

describe('expandDeploymentServices', () => {
  it("expands DPF's ovn-hbn sample: DPUService ovn-hbn-hbn, DPF's serviceID and owner label, merged values (configuration wins)", () => {
    const objs = [...fixture('dpudeployment-ovn-hbn.yaml'), ...fixture('dpuservicetemplate-hbn.yaml'), ...fixture('dpuserviceconfig-hbn.yaml')]
    const dep = objs[0]!
    const withOnlyHbn = { ...dep, spec: { ...dep.spec, services: { hbn: { serviceTemplate: 'hbn', serviceConfiguration: 'hbn' } } } }
    const x = expandDeploymentServices(withOnlyHbn, lookupIn(objs))
    expect('services' in x).toBe(true)
    const [svc] = (x as { services: ParsedObject[] }).services
    expect(svc!.metadata).toMatchObject({
      name: 'ovn-hbn-hbn',
      namespace: NS,
      labels: { 'svc.dpu.nvidia.com/owned-by-dpudeployment': 'dpf-operator-system_ovn-hbn' },
      annotations: { 'dpu.appliance/rendered-from': 'DPUDeployment/dpf-operator-system/ovn-hbn' },
    })
    expect(svc!.spec).toMatchObject({
      serviceID: 'dpudeployment_ovn-hbn_hbn',
      helmChart: {
        source: { repoURL: 'https://helm.ngc.nvidia.com/nvidia/doca', chart: 'doca-hbn', version: '1.0.1' },
        values: { image: { repository: 'nvcr.io/nvidia/doca/doca_hbn', tag: '2.4.1-doca2.9.1' }, configuration: { perDPUValuesYAML: expect.any(String) } },
      },
      serviceDaemonSet: {
        annotations: { 'k8s.v1.cni.cncf.io/networks': expect.stringContaining('iprequest') },
        nodeSelector: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'feature.node.kubernetes.io/dpu-enabled', operator: 'In', values: ['true'] }] }] },
      },
    })
    // XXX(#17): the configuration's interfaces become DPUServiceInterfaces there; none are named yet.
    expect((svc!.spec as { interfaces?: unknown }).interfaces).toBeUndefined()
  })

  it.each<[string, ParsedObject, ParsedObject[], string[], RegExp?]>([
    [
      'one service per entry, sorted',
      deployment({ b: { serviceTemplate: 'b', serviceConfiguration: 'b' }, a: { serviceTemplate: 'a', serviceConfiguration: 'a' } }),
      [template('a'), configuration('a'), template('b'), configuration('b')],
      ['edge-a', 'edge-b'],
    ],
    ['no services', deployment({}), [], []],
    [
      'template and configuration named differently from the key',
      deployment({ fw: { serviceTemplate: 'fw-tpl-v2', serviceConfiguration: 'fw-cfg' } }),
      [template('fw-tpl-v2', 'fw'), configuration('fw-cfg', 'fw')],
      ['edge-fw'],
    ],
    [
      'a missing template',
      deployment({ fw: { serviceTemplate: 'fw', serviceConfiguration: 'fw' } }),
      [configuration('fw')],
      ['TemplateNotFound'],
      /DPUServiceTemplate dpf-operator-system\/fw not found/,
    ],
    [
      'a missing configuration',
      deployment({ fw: { serviceTemplate: 'fw', serviceConfiguration: 'fw' } }),
      [template('fw')],
      ['ConfigurationNotFound'],
      /DPUServiceConfiguration dpf-operator-system\/fw not found/,
    ],
    ['both missing', deployment({ fw: { serviceTemplate: 'fw', serviceConfiguration: 'fw' } }), [], ['TemplateNotFound', 'ConfigurationNotFound']],
    [
      'one entry broken fails the whole deployment (DPF prerequisites)',
      deployment({ a: { serviceTemplate: 'a', serviceConfiguration: 'a' }, b: { serviceTemplate: 'b', serviceConfiguration: 'b' } }),
      [template('a'), configuration('a'), configuration('b')],
      ['TemplateNotFound'],
    ],
    [
      'a template for another service',
      deployment({ fw: { serviceTemplate: 'fw', serviceConfiguration: 'fw' } }),
      [template('fw', 'dts'), configuration('fw')],
      ['ServiceNameMismatch'],
      /DPUServiceTemplate\/dpf-operator-system\/fw has deploymentServiceName "dts"/,
    ],
    [
      'a generated name that is not a DNS name',
      deployment({ my_svc: { serviceTemplate: 'x', serviceConfiguration: 'x' } }),
      [template('x', 'my_svc'), configuration('x', 'my_svc')],
      ['SpecInvalid'],
      /metadata.name/,
    ],
  ])('%s', (_name, dep, fleet, want, message) => {
    const x = expandDeploymentServices(dep, lookupIn(fleet))
    expect(names(x)).toEqual(want)
    if (message) expect('problems' in x && x.problems.map((p) => p.message).join('\n')).toMatch(message)
  })

  it('merges template and configuration values with the configuration winning, and names DPF serviceIDs', () => {
    const x = expandDeploymentServices(deployment({ fw: { serviceTemplate: 'fw', serviceConfiguration: 'fw' } }), lookupIn([template('fw'), configuration('fw')]))
    expect('services' in x && x.services[0]!.spec).toMatchObject({ serviceID: 'dpudeployment_edge_fw', helmChart: { values: { image: { tag: 'configuration' }, fromTemplate: true } } })
  })

  it('looks templates up in its own namespace only', () => {
    const elsewhere = { ...template('fw'), metadata: { ...template('fw').metadata, namespace: 'other' } }
    expect(names(expandDeploymentServices(deployment({ fw: { serviceTemplate: 'fw', serviceConfiguration: 'fw' } }), lookupIn([elsewhere, configuration('fw')])))).toEqual(['TemplateNotFound'])
  })

  it('changes none of its inputs', () => {
    const fleet = [template('fw'), configuration('fw')]
    const dep = deployment({ fw: { serviceTemplate: 'fw', serviceConfiguration: 'fw' } }, [{ nameSuffix: 's', nodeSelector: { matchLabels: { rack: 'a' } } }])
    const before = JSON.stringify([dep, fleet])
    const x = expandDeploymentServices(dep, lookupIn(fleet))
    ;((x as { services: ParsedObject[] }).services[0]!.spec as { helmChart: { values: { image: { tag: string } } } }).helmChart.values.image.tag = 'mutated'
    expect(JSON.stringify([dep, fleet])).toBe(before)
  })
})

describe('computeDeploymentNodeSelector (dpuSets -> which DPUs get the services)', () => {
  const sets = (...selectors: Array<LabelSelector | undefined>) => selectors.map((nodeSelector, i) => ({ nameSuffix: `s${i}`, ...(nodeSelector ? { nodeSelector } : {}) }))
  it.each<[string, ReturnType<typeof sets> | undefined, NodeSelector | undefined]>([
    ['no dpuSets: no DPU', undefined, { nodeSelectorTerms: [] }],
    ['a dpuSet without a selector: every DPU', sets(undefined), undefined],
    ['an empty selector: every DPU', sets({}), undefined],
    [
      'matchLabels become In terms',
      sets({ matchLabels: { rack: 'a', tier: 'edge' } }),
      {
        nodeSelectorTerms: [
          {
            matchExpressions: [
              { key: 'rack', operator: 'In', values: ['a'] },
              { key: 'tier', operator: 'In', values: ['edge'] },
            ],
          },
        ],
      },
    ],
    [
      'matchExpressions carried over',
      sets({ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }),
      { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }] },
    ],
    [
      'several dpuSets are ORed',
      sets({ matchLabels: { rack: 'a' } }, { matchLabels: { rack: 'b' } }),
      {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'rack', operator: 'In', values: ['a'] }] }, { matchExpressions: [{ key: 'rack', operator: 'In', values: ['b'] }] }],
      },
    ],
    ['one selecting every DPU wins', sets({ matchLabels: { rack: 'a' } }, undefined), undefined],
  ])('%s', (_name, dpuSets, want) => {
    expect(computeDeploymentNodeSelector(dpuSets)).toEqual(want)
  })
})
