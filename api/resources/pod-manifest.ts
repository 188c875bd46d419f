/**
 * Plain Kubernetes input that becomes a Service: a `v1 Pod` manifest (what NVIDIA ships for standalone DOCA
 * services, `dpuctl apply -f pod.yaml`) and the pod templates a Helm chart renders (the hub, `serviceFromPodTemplate`).
 *
 *   Pod metadata.name / namespace                    -> Service metadata.name / namespace (labels kept too)
 *   metadata.labels["svc.dpu.nvidia.com/service"]    -> spec.serviceID (required)
 *   metadata.annotations["k8s.v1.cni.cncf.io/networks"] -> spec.interfaces (Multus' two forms, interface names required)
 *   metadata.labels, metadata.annotations, spec      -> spec.template
 *   v1 ConfigMaps in the same file named by a configMap volume -> spec.configMaps
 *
 * Errors are the `ValidationError` of `parseObject`, with paths in the Pod's own terms (`spec.initContainers`,
 * not `spec.template.spec.initContainers`), so the author finds the line they wrote.
 */
import type { z } from 'zod'
import { ValidationError, WrongApiVersionError } from './errors.js'
import { formatPath, toFieldIssues } from './issues.js'
import type { ParsedObject } from './kind.js'
import { parseObject } from './parse-object.js'
import { SVC_API_VERSION } from './common.js'
import { SERVICE_ID_LABEL, ServiceSchema, type ServiceAttachment } from './service.js'
import { DEFAULT_NAMESPACE } from '../meta.js'
import type { FieldIssue } from '../errors.js'
import { isRecord } from '../is-record.js'

/** Multus' pod annotation naming the extra networks (`k8s.cni.cncf.io/v1` NetworkSelectionElement list). */
export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks'
const NETWORKS_PATH = formatPath(['metadata', 'annotations', NETWORKS_ANNOTATION])
const SERVICE_ID_PATH = formatPath(['metadata', 'labels', SERVICE_ID_LABEL])

/** NetworkSelectionElement members the appliance does not act on (IPAM requests, MACs, ...): refused, not dropped. */
const UNHONOURED_NETWORK_KEYS = ['ips', 'mac', 'cni-args', 'portMappings', 'bandwidth', 'default-route', 'infiniband-guid', 'deviceID', 'ipam-claim-reference']

/** Whether `raw` is a core `v1` object of `kind` (`apiVersion: v1`, no group). */
export function isCoreV1(raw: unknown, kind: 'Pod' | 'ConfigMap'): raw is Record<string, unknown> {
  return isRecord(raw) && raw.apiVersion === 'v1' && raw.kind === kind
}

function metaOf(raw: Record<string, unknown>): Record<string, unknown> {
  return isRecord(raw.metadata) ? raw.metadata : {}
}

function namespaceOf(raw: Record<string, unknown>): string {
  const ns = metaOf(raw).namespace
  return typeof ns === 'string' ? ns : DEFAULT_NAMESPACE
}

function stringMap(x: unknown): Record<string, string> | undefined {
  return isRecord(x) ? (x as Record<string, string>) : undefined
}

/** Issues of a Multus networks annotation: each names the entry, all under the annotation's path. */
class NetworksError extends Error {
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((i) => i.message).join('; '))
  }
}

/**
 * Multus' `k8s.v1.cni.cncf.io/networks`, either form: `net-a@if1, ns/net-b@if2` or the JSON list
 * `[{"name": "net-b", "namespace": "ns", "interface": "if2"}]`. Every entry must name its interface: the appliance
 * creates the link under that name, and a service interface without one has nothing to match.
 * Throws `api.validation` with the annotation's path.
 * @example parseNetworksAnnotation('sfc@in0, ns/sfc@out0') // [{network: 'sfc', interfaceName: 'in0'}, {network: 'ns/sfc', interfaceName: 'out0'}]
 */
export function parseNetworksAnnotation(text: string, path: string = NETWORKS_PATH): ServiceAttachment[] {
  try {
    return readNetworks(text)
  } catch (err) {
    if (!(err instanceof NetworksError)) throw err
    const issues = err.issues.map((i) => ({ path, message: i.message }))
    throw new ValidationError(`${path}: ${err.message}`, { annotation: NETWORKS_ANNOTATION }, issues)
  }
}

function readNetworks(text: string): ServiceAttachment[] {
  const issues: FieldIssue[] = []
  const out: ServiceAttachment[] = []
  const trimmed = text.trim()
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let list: unknown
    try {
      list = JSON.parse(trimmed)
    } catch (err) {
      throw new NetworksError([{ path: '', message: `malformed JSON: ${err instanceof Error ? err.message : String(err)}` }])
    }
    if (!Array.isArray(list)) throw new NetworksError([{ path: '', message: 'the JSON form must be a list of {"name", "namespace", "interface"}' }])
    list.forEach((e, i) => {
      const at = `entry ${i}`
      if (!isRecord(e) || typeof e.name !== 'string' || e.name === '') return issues.push({ path: '', message: `${at}: needs "name" (a string)` })
      for (const key of Object.keys(e)) {
        if (key === 'name' || key === 'namespace' || key === 'interface') continue
        const why = UNHONOURED_NETWORK_KEYS.includes(key) ? `the appliance cannot honour "${key}"` : `unknown member "${key}"`
        issues.push({ path: '', message: `${at} (${e.name}): ${why}` })
      }
      if (e.namespace !== undefined && (typeof e.namespace !== 'string' || e.namespace === '')) issues.push({ path: '', message: `${at} (${e.name}): "namespace" must be a non-empty string` })
      if (typeof e.interface !== 'string' || e.interface === '') return issues.push({ path: '', message: `${at} (${e.name}): needs "interface", the interface name inside the pod` })
      out.push({ network: typeof e.namespace === 'string' ? `${e.namespace}/${e.name}` : e.name, interfaceName: e.interface })
    })
  } else {
    trimmed
      .split(',')
      .map((s) => s.trim())
      .forEach((entry, i) => {
        const at = `entry ${i}`
        if (entry === '') return issues.push({ path: '', message: `${at}: empty (write [namespace/]network@interface)` })
        const atSign = entry.lastIndexOf('@')
        if (atSign < 0) return issues.push({ path: '', message: `${at} (${entry}): no interface name (write ${entry}@<interface>)` })
        const network = entry.slice(0, atSign)
        const interfaceName = entry.slice(atSign + 1)
        if (network === '' || interfaceName === '') return issues.push({ path: '', message: `${at} (${entry}): write [namespace/]network@interface` })
        out.push({ network, interfaceName })
      })
  }
  if (issues.length > 0) throw new NetworksError(issues)
  return out
}

/** The v1 ConfigMap of `sameFile` named `name` in `namespace`. */
function findConfigMap(sameFile: readonly unknown[], namespace: string, name: string): Record<string, unknown> | undefined {
  return sameFile.find((d): d is Record<string, unknown> => isCoreV1(d, 'ConfigMap') && metaOf(d).name === name && namespaceOf(d) === namespace)
}

/** The ConfigMap names the configMap volumes of a pod spec read. */
function configMapVolumeNames(spec: unknown): Array<{ index: number; name: string }> {
  const volumes = isRecord(spec) && Array.isArray(spec.volumes) ? spec.volumes : []
  return volumes.flatMap((v: unknown, index) => (isRecord(v) && isRecord(v.configMap) && typeof v.configMap.name === 'string' ? [{ index, name: v.configMap.name }] : []))
}

/** Whether a v1 Pod of `sameFile` mounts this v1 ConfigMap (then it is inlined, not applied by itself). */
export function isConsumedConfigMap(configMap: unknown, sameFile: readonly unknown[]): boolean {
  if (!isCoreV1(configMap, 'ConfigMap')) return false
  const name = metaOf(configMap).name
  const ns = namespaceOf(configMap)
  return sameFile.some((d) => isCoreV1(d, 'Pod') && namespaceOf(d) === ns && configMapVolumeNames(d.spec).some((v) => v.name === name))
}

/** A Service-side path as the Pod author wrote it. */
function podPath(path: string): string {
  const swap = (from: string, to: string) => (path === from || path.startsWith(`${from}.`) || path.startsWith(`${from}[`) ? to + path.slice(from.length) : undefined)
  return (
    swap('spec.template.spec', 'spec') ??
    swap('spec.template.metadata', 'metadata') ??
    swap('spec.serviceID', SERVICE_ID_PATH) ??
    swap('spec.configMaps', 'ConfigMap') ??
    (path.startsWith('spec.interfaces') ? NETWORKS_PATH : undefined) ??
    path
  )
}

function fail(label: string, context: Record<string, unknown>, issues: readonly FieldIssue[], source: string | undefined): never {
  const where = source === undefined ? '' : `${source}: `
  const detail = issues.map((i) => `${i.path === '' ? '(object)' : i.path}: ${i.message}`).join('; ')
  throw new ValidationError(`${where}${label}: ${detail}`, { source, ...context }, issues)
}

function parseService(
  raw: Record<string, unknown>,
  label: string,
  context: Record<string, unknown>,
  source: string | undefined,
  mapPath: (p: string) => string,
  pre: readonly FieldIssue[],
): ParsedObject {
  const result = ServiceSchema.safeParse(raw, { reportInput: true })
  if (result.success && pre.length === 0) return result.data as ParsedObject
  const seen = new Set(pre.map((i) => i.path))
  const issues = [...pre, ...(result.success ? [] : mapIssues(result.error, mapPath).filter((i) => !seen.has(i.path)))]
  return fail(label, context, issues, source)
}

function mapIssues(error: z.ZodError, mapPath: (p: string) => string): FieldIssue[] {
  return toFieldIssues(error).map((i) => ({ path: mapPath(i.path), message: i.message }))
}

/**
 * A `v1 Pod` manifest as a Service; v1 ConfigMaps of `sameFile` that its configMap volumes name are inlined.
 * Throws `api.validation` (the error of `parseObject`) with paths in the Pod's terms.
 * @example serviceFromPod(parseDocuments(text)[0], parseDocuments(text))
 */
export function serviceFromPod(pod: unknown, sameFile: readonly unknown[] = [], source?: string): ParsedObject {
  if (!isCoreV1(pod, 'Pod')) return fail('Pod', { kind: 'Pod' }, [{ path: '', message: 'expected an object with apiVersion: v1 and kind: Pod' }], source)
  const meta = metaOf(pod)
  const name = typeof meta.name === 'string' ? meta.name : undefined
  const namespace = namespaceOf(pod)
  const label = `Pod ${namespace}/${name ?? '<unnamed>'}`
  const context = { kind: 'Pod', apiVersion: 'v1', namespace, name }
  const labels = stringMap(meta.labels)
  const annotations = stringMap(meta.annotations)
  const pre: FieldIssue[] = []

  const serviceID = labels?.[SERVICE_ID_LABEL]
  if (serviceID === undefined) pre.push({ path: SERVICE_ID_PATH, message: `required: the label ${SERVICE_ID_LABEL} gives the Pod's serviceID` })

  let interfaces: ServiceAttachment[] | undefined
  const networks = annotations?.[NETWORKS_ANNOTATION]
  if (typeof networks === 'string') {
    try {
      interfaces = readNetworks(networks)
    } catch (err) {
      if (!(err instanceof NetworksError)) throw err
      pre.push(...err.issues.map((i) => ({ path: NETWORKS_PATH, message: i.message })))
    }
  }

  const configMaps: Record<string, unknown> = {}
  for (const v of configMapVolumeNames(pod.spec)) {
    const cm = findConfigMap(sameFile, namespace, v.name)
    const path = `spec.volumes[${v.index}].configMap.name`
    if (cm === undefined) {
      pre.push({ path, message: `ConfigMap ${namespace}/${v.name} is not in the same file (the appliance keeps no ConfigMaps: apply it with the Pod)` })
      continue
    }
    if (cm.binaryData !== undefined) pre.push({ path, message: `ConfigMap ${v.name}: the appliance cannot honour binaryData` })
    configMaps[v.name] = cm.data ?? {}
  }

  const raw = {
    apiVersion: SVC_API_VERSION,
    kind: 'Service',
    metadata: { name, namespace, ...(labels === undefined ? {} : { labels }) },
    spec: {
      serviceID,
      ...(interfaces === undefined ? {} : { interfaces }),
      ...(Object.keys(configMaps).length === 0 ? {} : { configMaps }),
      template: { metadata: { ...(labels === undefined ? {} : { labels }), ...(annotations === undefined ? {} : { annotations }) }, spec: pod.spec },
    },
  }
  return parseService(raw, label, context, source, podPath, pre)
}

export interface PodTemplateInput {
  name: string
  namespace: string
  serviceID: string
  /** A core/v1 PodTemplateSpec: `{metadata?, spec}`, as a DaemonSet, Deployment or Pod carries it. */
  template: unknown
  /** Absent: read from the template's `k8s.v1.cni.cncf.io/networks` annotation, if any. */
  interfaces?: ReadonlyArray<{ network: string; interfaceName: string }>
  configMaps?: Readonly<Record<string, Readonly<Record<string, string>>>>
  runtime?: 'podman' | 'process'
  /** Of the Service object itself. */
  labels?: Readonly<Record<string, string>>
  annotations?: Readonly<Record<string, string>>
}

/**
 * A pod template (out of `helm template` output, for the hub) as a Service. Throws `api.validation` with paths
 * in the Service's terms (`spec.template.spec.containers[0].image`).
 */
export function serviceFromPodTemplate(input: PodTemplateInput): ParsedObject {
  const label = `Service ${input.namespace}/${input.name}`
  const context = { kind: 'Service', apiVersion: SVC_API_VERSION, namespace: input.namespace, name: input.name }
  let interfaces = input.interfaces
  const pre: FieldIssue[] = []
  const templateMeta = isRecord(input.template) ? metaOf(input.template) : {}
  const networks = stringMap(templateMeta.annotations)?.[NETWORKS_ANNOTATION]
  if (interfaces === undefined && typeof networks === 'string') {
    try {
      interfaces = readNetworks(networks)
    } catch (err) {
      if (!(err instanceof NetworksError)) throw err
      pre.push(...err.issues.map((i) => ({ path: formatPath(['spec', 'template', 'metadata', 'annotations', NETWORKS_ANNOTATION]), message: i.message })))
    }
  }
  const raw = {
    apiVersion: SVC_API_VERSION,
    kind: 'Service',
    metadata: { name: input.name, namespace: input.namespace, ...(input.labels ? { labels: input.labels } : {}), ...(input.annotations ? { annotations: input.annotations } : {}) },
    spec: {
      serviceID: input.serviceID,
      ...(input.runtime ? { runtime: input.runtime } : {}),
      ...(interfaces ? { interfaces } : {}),
      ...(input.configMaps ? { configMaps: input.configMaps } : {}),
      template: input.template,
    },
  }
  return parseService(raw, label, context, undefined, (p) => p, pre)
}

/**
 * One document of an apply request as an object: a v1 Pod becomes a Service; a v1 ConfigMap that a Pod of the same
 * request mounts is consumed by it (`undefined`); a v1 ConfigMap alone, or a v1 (networking) Service, is an error;
 * anything else is `parseObject`.
 */
export function parseManifestObject(raw: unknown, sameFile: readonly unknown[], source?: string): ParsedObject | undefined {
  if (isCoreV1(raw, 'Pod')) return serviceFromPod(raw, sameFile, source)
  if (isCoreV1(raw, 'ConfigMap')) {
    if (isConsumedConfigMap(raw, sameFile)) return undefined
    const meta = metaOf(raw)
    const label = `ConfigMap ${namespaceOf(raw)}/${typeof meta.name === 'string' ? meta.name : '<unnamed>'}`
    return fail(
      label,
      { kind: 'ConfigMap', apiVersion: 'v1', namespace: namespaceOf(raw), name: meta.name },
      [{ path: 'kind', message: 'a v1 ConfigMap is applied only with a v1 Pod in the same file whose configMap volume names it (it is inlined into the Service)' }],
      source,
    )
  }
  if (isRecord(raw) && raw.apiVersion === 'v1' && raw.kind === 'Service') {
    // A chart's networking Service, not ours: say what ours is rather than only "apiVersion must be ...".
    const meta = metaOf(raw)
    const message = `a Kubernetes v1 Service (a cluster virtual IP) has no meaning on one DPU; the appliance's Service is ${SVC_API_VERSION}, a pod template`
    const where = source === undefined ? '' : `${source}: `
    throw new WrongApiVersionError(
      `${where}Service ${namespaceOf(raw)}/${typeof meta.name === 'string' ? meta.name : '<unnamed>'}: ${message}`,
      { source, kind: 'Service', apiVersion: 'v1', namespace: namespaceOf(raw), name: meta.name },
      [{ path: 'apiVersion', message }],
    )
  }
  return parseObject(raw, source)
}
