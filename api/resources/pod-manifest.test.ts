import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ApplianceError } from '../errors.js'
import { parseDocuments } from './parse-documents.js'
import { isConsumedConfigMap, NETWORKS_ANNOTATION, parseManifestObject, parseNetworksAnnotation, serviceFromPod, serviceFromPodTemplate } from './pod-manifest.js'
import { ignoredPodFields, SERVICE_ID_LABEL, type ServiceSpec } from './service.js'

type Json = any // test tables poke at raw objects

const NETS = `metadata.annotations["${NETWORKS_ANNOTATION}"]`
const LABEL = `metadata.labels["${SERVICE_ID_LABEL}"]`

const pod = (): Json => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'fwd', namespace: 'svc', labels: { [SERVICE_ID_LABEL]: 'fwd', app: 'fwd' }, annotations: { [NETWORKS_ANNOTATION]: 'sfc@in0, dpf-operator-system/sfc@out0' } },
  spec: { containers: [{ name: 'fwd', image: 'localhost/busybox:test', command: ['/bin/sh', '-c', 'sleep 1000'] }] },
  status: { phase: 'Running' },
})
const configMap = (name = 'fwd-config', namespace = 'svc'): Json => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { 'start.sh': 'echo hi\n' } })
const withVolume = (p: Json, name = 'fwd-config'): Json => {
  p.spec.volumes = [{ name: 'config', configMap: { name } }]
  p.spec.containers[0].volumeMounts = [{ name: 'config', mountPath: '/config' }]
  return p
}

function caught(fn: () => unknown): ApplianceError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ApplianceError)
    expect((err as ApplianceError).code).toBe('api.validation')
    return err as ApplianceError
  }
  throw new Error('expected a validation error, nothing was thrown')
}

describe('parseNetworksAnnotation', () => {
  it.each<[string, string, Array<{ network: string; interfaceName: string }>]>([
    [
      'text form',
      'net-a@if1, ns/net-b@if2',
      [
        { network: 'net-a', interfaceName: 'if1' },
        { network: 'ns/net-b', interfaceName: 'if2' },
      ],
    ],
    ['text form, one entry', 'sfc@p0_if', [{ network: 'sfc', interfaceName: 'p0_if' }]],
    [
      'JSON form',
      '[{"name": "net-a", "interface": "if1"}, {"name": "net-b", "namespace": "ns", "interface": "if2"}]',
      [
        { network: 'net-a', interfaceName: 'if1' },
        { network: 'ns/net-b', interfaceName: 'if2' },
      ],
    ],
    ['JSON form over lines', '[\n  {"name": "a", "interface": "x"}\n]\n', [{ network: 'a', interfaceName: 'x' }]],
  ])('%s', (_name, text, want) => {
    expect(parseNetworksAnnotation(text)).toEqual(want)
  })

  it.each<[string, string, string]>([
    ['text entry without interface', 'net-a@if1, net-b', 'entry 1 (net-b): no interface name (write net-b@<interface>)'],
    ['empty text entry', 'net-a@if1,,', 'entry 1: empty'],
    ['text entry with empty interface', 'net-a@', 'entry 0 (net-a@): write [namespace/]network@interface'],
    ['JSON entry without interface', '[{"name": "net-a"}]', 'entry 0 (net-a): needs "interface"'],
    ['JSON entry without name', '[{"interface": "x"}]', 'entry 0: needs "name"'],
    ['JSON entry asking IPAM', '[{"name": "iprequest", "interface": "ip_lo", "cni-args": {"poolNames": ["loopback"]}}]', 'entry 0 (iprequest): the appliance cannot honour "cni-args"'],
    ['JSON entry with unknown member', '[{"name": "a", "interface": "x", "ifname": "y"}]', 'unknown member "ifname"'],
    ['JSON not a list', '{"name": "a", "interface": "x"}', 'must be a list'],
    ['malformed JSON', '[{"name": "a",]', 'malformed JSON'],
  ])('%s is refused naming the annotation', (_name, text, message) => {
    const err = caught(() => parseNetworksAnnotation(text))
    expect(err.issues).toContainEqual({ path: NETS, message: expect.stringContaining(message) })
  })
})

describe('serviceFromPod', () => {
  it('makes a Service: name, namespace and labels from the pod, serviceID from its label, interfaces from its annotation', () => {
    const obj = serviceFromPod(pod())
    expect(obj).toMatchObject({
      apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
      kind: 'Service',
      metadata: { name: 'fwd', namespace: 'svc', labels: pod().metadata.labels },
      spec: {
        serviceID: 'fwd',
        interfaces: [
          { network: 'sfc', interfaceName: 'in0' },
          { network: 'dpf-operator-system/sfc', interfaceName: 'out0' },
        ],
        template: { metadata: { labels: pod().metadata.labels, annotations: pod().metadata.annotations }, spec: { containers: pod().spec.containers, restartPolicy: 'Always' } },
      },
    })
    expect(obj.spec).not.toHaveProperty('configMaps')
  })

  it('defaults the namespace and needs no networks annotation', () => {
    const p = pod()
    delete p.metadata.namespace
    delete p.metadata.annotations
    const obj = serviceFromPod(p)
    expect(obj.metadata.namespace).toBe('default')
    expect(obj.spec).not.toHaveProperty('interfaces')
  })

  it('inlines the ConfigMaps of the same file that its configMap volumes name (same namespace only)', () => {
    const p = withVolume(pod())
    const obj = serviceFromPod(p, [configMap('fwd-config', 'other'), p, configMap(), configMap('unrelated')])
    expect((obj.spec as ServiceSpec).configMaps).toEqual({ 'fwd-config': { 'start.sh': 'echo hi\n' } })
  })

  it.each<[string, (p: Json) => void, readonly unknown[] | undefined, string, string]>([
    ['no serviceID label', (p) => delete p.metadata.labels[SERVICE_ID_LABEL], undefined, LABEL, `required: the label ${SERVICE_ID_LABEL}`],
    ['no labels at all', (p) => delete p.metadata.labels, undefined, LABEL, 'required'],
    ['serviceID label not usable', (p) => (p.metadata.labels[SERVICE_ID_LABEL] = '-x'), undefined, LABEL, 'label value'],
    ['network entry without interface', (p) => (p.metadata.annotations[NETWORKS_ANNOTATION] = 'sfc'), undefined, NETS, 'no interface name'],
    ['bad network name', (p) => (p.metadata.annotations[NETWORKS_ANNOTATION] = 'Sfc_Net@in0'), undefined, NETS, 'network must be'],
    ['interface name too long', (p) => (p.metadata.annotations[NETWORKS_ANNOTATION] = 'sfc@a-very-long-ifname'), undefined, NETS, 'at most 15 bytes'],
    ['two entries with one interface name', (p) => (p.metadata.annotations[NETWORKS_ANNOTATION] = 'sfc@in0, sfc@in0'), undefined, NETS, 'duplicate interfaceName in0'],
    ['ConfigMap not in the file', (p) => withVolume(p), [], 'spec.volumes[0].configMap.name', 'ConfigMap svc/fwd-config is not in the same file'],
    ['ConfigMap with binaryData', (p) => withVolume(p), [{ ...configMap(), binaryData: { x: 'AA==' } }], 'spec.volumes[0].configMap.name', 'cannot honour binaryData'],
    ['ConfigMap with a bad key', (p) => withVolume(p), [{ ...configMap(), data: { 'a/b': 'x' } }], 'ConfigMap["fwd-config"]["a/b"]', 'ConfigMap key'],
    ['initContainers', (p) => (p.spec.initContainers = [{ name: 'i', image: 'i' }]), undefined, 'spec.initContainers', 'the appliance cannot honour initContainers'],
    ['hostNetwork: true', (p) => (p.spec.hostNetwork = true), undefined, 'spec.hostNetwork', 'the appliance cannot honour hostNetwork: true'],
    ['lifecycle hook', (p) => (p.spec.containers[0].lifecycle = { postStart: { exec: { command: ['x'] } } }), undefined, 'spec.containers[0].lifecycle', 'the appliance cannot honour lifecycle'],
    [
      'env valueFrom',
      (p) => (p.spec.containers[0].env = [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }]),
      undefined,
      'spec.containers[0].env[0].valueFrom',
      'cannot honour valueFrom',
    ],
    ['unknown pod field', (p) => (p.spec.replicas = 1), undefined, 'spec.replicas', 'unknown field replicas'],
    ['no image', (p) => delete p.spec.containers[0].image, undefined, 'spec.containers[0].image', 'required'],
    ['no spec', (p) => delete p.spec, undefined, 'spec', 'required'],
    ['bad pod name', (p) => (p.metadata.name = 'Fwd'), undefined, 'metadata.name', 'DNS-1123'],
    ['bad template label', (p) => (p.metadata.labels['a b'] = 'x'), undefined, 'metadata.labels["a b"]', 'label key'],
  ])('%s: refused at %s', (_name, edit, sameFile, path, message) => {
    const p = pod()
    edit(p)
    const err = caught(() => serviceFromPod(p, sameFile === undefined ? [p] : [p, ...sameFile], 'pod.yaml'))
    expect(err.issues).toContainEqual({ path, message: expect.stringContaining(message) })
    expect(err.message).toMatch(/^pod\.yaml: Pod \w+\/\S+: /)
    expect(err.context).toMatchObject({ source: 'pod.yaml', kind: 'Pod', apiVersion: 'v1' })
  })

  it('reports every problem of one pod at once', () => {
    const p = pod()
    delete p.metadata.labels[SERVICE_ID_LABEL]
    p.spec.initContainers = []
    p.metadata.annotations[NETWORKS_ANNOTATION] = 'sfc'
    const paths = caught(() => serviceFromPod(p)).issues.map((i) => i.path)
    expect(paths).toEqual(expect.arrayContaining([LABEL, NETS, 'spec.initContainers']))
    expect(paths.filter((x) => x === LABEL)).toHaveLength(1)
  })
})

describe('NVIDIA-shaped DOCA HBN pod (testdata/doca-hbn-pod.yaml)', () => {
  const docs = parseDocuments(readFileSync(join(import.meta.dirname, 'testdata/doca-hbn-pod.yaml'), 'utf8'))

  it('converts with its ConfigMap inlined and its scheduling fields listed as ignored', () => {
    const objs = docs.map((d) => parseManifestObject(d, docs))
    expect(objs[1]).toBeUndefined()
    const svc = objs[0]!
    const spec = svc.spec as ServiceSpec
    expect(svc.metadata).toMatchObject({ name: 'doca-hbn', namespace: 'dpf-operator-system' })
    expect(spec.serviceID).toBe('doca-hbn')
    expect(spec.interfaces?.map((i) => i.interfaceName)).toEqual(['p0_if', 'p1_if', 'pf0hpf_if'])
    expect(Object.keys(spec.configMaps ?? {})).toEqual(['doca-hbn-startup'])
    expect(ignoredPodFields(spec)).toEqual([
      'spec.template.spec.hostNetwork',
      'spec.template.spec.dnsPolicy',
      'spec.template.spec.priorityClassName',
      'spec.template.spec.nodeSelector',
      'spec.template.spec.tolerations',
    ])
  })

  it('is refused only for a named field when it asks for the host network', () => {
    const changed = structuredClone(docs) as Json[]
    changed[0].spec.hostNetwork = true
    const err = caught(() => parseManifestObject(changed[0], changed))
    expect(err.issues).toEqual([{ path: 'spec.hostNetwork', message: 'the appliance cannot honour hostNetwork: true (only false)' }])
  })
})

describe('parseManifestObject', () => {
  it('passes other kinds to parseObject', () => {
    const chain = { apiVersion: 'svc.dpu.nvidia.com/v1alpha1', kind: 'ServiceChain', metadata: { name: 'c' }, spec: { switches: [{ ports: [{ serviceInterface: { matchLabels: { a: 'b' } } }] }] } }
    expect(parseManifestObject(chain, [chain])?.kind).toBe('ServiceChain')
    expect(() => parseManifestObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }, [])).toThrow(/unknown kind Secret/)
  })

  it('refuses a Kubernetes v1 Service saying what the appliance Service is', () => {
    let err: unknown
    try {
      parseManifestObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } }, [])
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ApplianceError)
    expect((err as ApplianceError).code).toBe('api.wrong-api-version')
    expect((err as ApplianceError).issues).toEqual([{ path: 'apiVersion', message: expect.stringContaining("the appliance's Service is svc.dpu.nvidia.com/v1alpha1, a pod template") }])
  })

  it('consumes a ConfigMap a Pod of the same file mounts, and refuses one alone', () => {
    const p = withVolume(pod())
    const cm = configMap()
    expect(isConsumedConfigMap(cm, [p, cm])).toBe(true)
    expect(parseManifestObject(cm, [p, cm])).toBeUndefined()
    expect(isConsumedConfigMap(configMap('fwd-config', 'other'), [p])).toBe(false)
    const err = caught(() => parseManifestObject(cm, [cm], 'cm.yaml'))
    expect(err.message).toContain('cm.yaml: ConfigMap svc/fwd-config: kind: a v1 ConfigMap is applied only with a v1 Pod in the same file')
  })
})

describe('serviceFromPodTemplate', () => {
  const template = () => ({ metadata: { labels: { app: 'x' }, annotations: { [NETWORKS_ANNOTATION]: 'sfc@p0_if' } }, spec: { containers: [{ name: 'x', image: 'i' }] } })

  it('takes interfaces from the template annotation unless given', () => {
    const a = serviceFromPodTemplate({ name: 'hbn', namespace: 'dpf', serviceID: 'doca-hbn', template: template(), labels: { from: 'hub' } })
    expect(a.metadata).toMatchObject({ name: 'hbn', namespace: 'dpf', labels: { from: 'hub' } })
    expect((a.spec as ServiceSpec).interfaces).toEqual([{ network: 'sfc', interfaceName: 'p0_if' }])
    const b = serviceFromPodTemplate({
      name: 'hbn',
      namespace: 'dpf',
      serviceID: 'doca-hbn',
      template: template(),
      interfaces: [{ network: 'x', interfaceName: 'y' }],
      runtime: 'podman',
      configMaps: { c: { k: 'v' } },
    })
    expect(b.spec).toMatchObject({ interfaces: [{ network: 'x', interfaceName: 'y' }], runtime: 'podman', configMaps: { c: { k: 'v' } } })
  })

  it('names fields in the Service terms', () => {
    const t: Json = template()
    t.spec.initContainers = []
    t.metadata.annotations[NETWORKS_ANNOTATION] = 'sfc'
    const err = caught(() => serviceFromPodTemplate({ name: 'hbn', namespace: 'dpf', serviceID: 'doca-hbn', template: t }))
    expect(err.issues).toEqual(
      expect.arrayContaining([
        { path: 'spec.template.spec.initContainers', message: expect.stringContaining('cannot honour initContainers') },
        { path: `spec.template.metadata.annotations["${NETWORKS_ANNOTATION}"]`, message: expect.stringContaining('no interface name') },
      ]),
    )
    expect(err.message).toMatch(/^Service dpf\/hbn: /)
  })
})
