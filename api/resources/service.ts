/**
 * Service, svc.dpu.nvidia.com/v1alpha1 (node level): one service the appliance runs on this DPU under a runtime
 * backend (`podman`, `process`), and the service interfaces it plugs (the CNI role: `interfaces[]` become links in
 * the pod's network namespace, named `interfaceName`, attached through the NAD `network`).
 *
 * The runnable form is a Kubernetes Pod template, the shape NVIDIA ships for standalone DOCA services and what a
 * DPUService's Helm chart renders to. `template.spec` is a strict subset of core/v1 PodSpec (see `k8s-fields.ts`):
 * what the appliance honours is typed; scheduling-only fields are accepted and listed by `ignoredPodFields`; a
 * Kubernetes field it cannot honour is a validation error naming it; a field Kubernetes does not have is unknown.
 *
 * ConfigMap volumes read their data from `spec.configMaps` (the appliance has no ConfigMap objects); a v1
 * ConfigMap applied beside a v1 Pod is inlined there by `pod-manifest.ts`.
 */
import { z } from 'zod'
import { DNS1123_SUBDOMAIN, NameSchema } from '../meta.js'
import { NetdevNameSchema, objectSchema, SVC_API_VERSION, TemplateMetaSchema } from './common.js'
import { ignoredFields, k8sObject, type FieldPolicy } from './k8s-fields.js'
import { parseQuantity, quantityProblem, type QuantityUnit } from './quantity.js'
import { ServiceInterfaceServiceSchema } from './service-interface.js'

/** The label that ties a Pod (and ServiceInterfaces of type `service`) to a serviceID, as in DPF. */
export const SERVICE_ID_LABEL = 'svc.dpu.nvidia.com/service'
/** DPF caps a service's interfaces at 50; the same bound holds per Service here. */
export const MAX_SERVICE_ATTACHMENTS = 50
export const MAX_CONTAINERS = 16
/** Total bytes (UTF-8 keys and values) of `spec.configMaps`: Kubernetes caps one ConfigMap at 1 MiB. */
export const MAX_CONFIG_MAP_BYTES = 1024 * 1024
const MAX_LIST = 64
const MAX_ARGV = 1024
const MAX_ENV = 256

export const RuntimeNameSchema = z.enum(['podman', 'process'])

/** A serviceID is a label value (`svc.dpu.nvidia.com/service=<serviceID>`) that is not empty. */
export const ServiceIDSchema = z
  .string()
  .min(1, 'serviceID must not be empty')
  .max(63, 'serviceID must be at most 63 characters')
  .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'serviceID must be a label value: alphanumerics, "-", "_" and ".", alphanumeric at both ends')

const AbsolutePathSchema = z.string().regex(/^\//, 'must be an absolute path').max(4096)
/** Kubernetes IANA_SVC_NAME: 1..15 lower-case alphanumerics and "-", at least one letter, no "--". */
const PortNameSchema = z
  .string()
  .max(15, 'port name must be at most 15 characters')
  .regex(/^(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'port name must be an IANA service name (a-z, 0-9, "-", with a letter)')
const PortNumberSchema = z.number().int().min(1, 'port must be 1..65535').max(65535, 'port must be 1..65535')
const ConfigMapNameSchema = z.string().max(253).regex(DNS1123_SUBDOMAIN, 'ConfigMap name must be a DNS-1123 subdomain')
const ConfigMapKeySchema = z
  .string()
  .max(253)
  .regex(/^[-._a-zA-Z0-9]+$/, 'ConfigMap key must be alphanumerics, "-", "_" or "."')
  .refine((k) => k !== '.' && k !== '..', 'ConfigMap key must not be "." or ".."')

function quantity(unit: QuantityUnit) {
  return z.union([z.string(), z.number()]).check(
    z.superRefine((v: string | number, ctx) => {
      const problem = quantityProblem(v, unit)
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: v })
    }),
  )
}

// ---- probes ------------------------------------------------------------------------------------------------

const ProbePortSchema = z.union([PortNumberSchema, PortNameSchema])

export const ExecActionSchema = k8sObject({ command: z.array(z.string()).min(1, 'exec.command must name a program').max(MAX_ARGV) }, { what: 'Kubernetes exec action' })
export const TCPSocketActionSchema = k8sObject({ port: ProbePortSchema, host: z.string().min(1).optional() }, { what: 'Kubernetes tcpSocket action' })
export const HTTPGetActionSchema = k8sObject(
  { path: z.string().regex(/^\//, 'path must start with "/"').optional(), port: ProbePortSchema, host: z.string().min(1).optional(), scheme: z.enum(['HTTP', 'HTTPS']).optional() },
  { what: 'Kubernetes httpGet action', unhonourable: ['httpHeaders'] },
)
const PROBE_HANDLERS = ['exec', 'tcpSocket', 'httpGet'] as const

export const ProbeSchema = k8sObject(
  {
    exec: ExecActionSchema.optional(),
    tcpSocket: TCPSocketActionSchema.optional(),
    httpGet: HTTPGetActionSchema.optional(),
    initialDelaySeconds: z.number().int().min(0, 'initialDelaySeconds must be >= 0').default(0),
    periodSeconds: z.number().int().min(1, 'periodSeconds must be >= 1').default(10),
    timeoutSeconds: z.number().int().min(1, 'timeoutSeconds must be >= 1').default(1),
    successThreshold: z.number().int().min(1, 'successThreshold must be >= 1').default(1),
    failureThreshold: z.number().int().min(1, 'failureThreshold must be >= 1').default(3),
  },
  { what: 'Kubernetes probe', unhonourable: ['grpc', 'terminationGracePeriodSeconds'] },
).superRefine((p, ctx) => {
  const set = PROBE_HANDLERS.filter((h) => p[h] !== undefined)
  if (set.length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'a probe needs exactly one of exec, tcpSocket or httpGet' })
  for (const h of set.slice(1)) ctx.addIssue({ code: 'custom', path: [h], message: `a probe has exactly one handler; ${set[0]} is already set` })
})

// ---- containers ---------------------------------------------------------------------------------------------

export const EnvVarSchema = k8sObject(
  {
    name: z
      .string()
      .min(1, 'env name must not be empty')
      .regex(/^[^=]*$/, 'env name must not contain "="'),
    value: z.string().optional(),
  },
  { what: 'Kubernetes env var', unhonourable: ['valueFrom'] },
)

export const ContainerPortSchema = k8sObject(
  { name: PortNameSchema.optional(), containerPort: PortNumberSchema, protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional() },
  // The pod has no network but its service interfaces (`--network none`): there is no host port to map.
  { what: 'Kubernetes container port', unhonourable: ['hostPort', 'hostIP'] },
)

/** The resources the appliance accounts against the flavor (`dpuResources`) and enforces as limits. */
export const RESOURCE_UNITS = { cpu: 'cpuMillis', memory: 'bytes', 'nvidia.com/bf_sf': 'count' } as const satisfies Record<string, QuantityUnit>
export const ResourceListSchema = k8sObject(
  { cpu: quantity('cpuMillis').optional(), memory: quantity('bytes').optional(), 'nvidia.com/bf_sf': quantity('count').optional() },
  { what: 'resource', othersUnhonourable: true },
)

export const ResourceRequirementsSchema = k8sObject(
  { requests: ResourceListSchema.optional(), limits: ResourceListSchema.optional() },
  { what: 'Kubernetes resource requirements', unhonourable: ['claims'] },
)

export const VolumeMountSchema = k8sObject(
  { name: NameSchema, mountPath: AbsolutePathSchema, readOnly: z.boolean().optional() },
  { what: 'Kubernetes volume mount', unhonourable: ['subPath', 'subPathExpr', 'mountPropagation', 'recursiveReadOnly'] },
)

const CapabilitySchema = z.string().regex(/^[A-Z_]+$/, 'a capability is upper-case, e.g. NET_ADMIN or ALL')
export const ContainerSecurityContextSchema = k8sObject(
  {
    privileged: z.boolean().optional(),
    capabilities: k8sObject({ add: z.array(CapabilitySchema).max(MAX_LIST).optional(), drop: z.array(CapabilitySchema).max(MAX_LIST).optional() }, { what: 'Kubernetes capabilities' }).optional(),
  },
  {
    what: 'Kubernetes container securityContext',
    unhonourable: [
      'allowPrivilegeEscalation',
      'appArmorProfile',
      'procMount',
      'readOnlyRootFilesystem',
      'runAsGroup',
      'runAsNonRoot',
      'runAsUser',
      'seLinuxOptions',
      'seccompProfile',
      'windowsOptions',
    ],
  },
)

const CONTAINER_POLICY: FieldPolicy = {
  what: 'Kubernetes container',
  ignored: ['terminationMessagePath', 'terminationMessagePolicy'],
  defaultOnly: { stdin: false, stdinOnce: false, tty: false },
  unhonourable: ['envFrom', 'lifecycle', 'volumeDevices', 'resizePolicy', 'restartPolicy'],
}
const PROBES = ['readinessProbe', 'livenessProbe', 'startupProbe'] as const

export const ContainerSchema = k8sObject(
  {
    name: NameSchema,
    image: z.string().min(1, 'image is required'),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
    command: z.array(z.string()).max(MAX_ARGV).optional(),
    args: z.array(z.string()).max(MAX_ARGV).optional(),
    env: z.array(EnvVarSchema).max(MAX_ENV).optional(),
    workingDir: AbsolutePathSchema.optional(),
    ports: z.array(ContainerPortSchema).max(MAX_LIST).optional(),
    resources: ResourceRequirementsSchema.optional(),
    volumeMounts: z.array(VolumeMountSchema).max(MAX_LIST).optional(),
    securityContext: ContainerSecurityContextSchema.optional(),
    readinessProbe: ProbeSchema.optional(),
    livenessProbe: ProbeSchema.optional(),
    startupProbe: ProbeSchema.optional(),
  },
  CONTAINER_POLICY,
).superRefine((c, ctx) => {
  const portNames = new Set<string>()
  c.ports?.forEach((p, i) => {
    if (p.name === undefined) return
    if (portNames.has(p.name)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'name'], message: `duplicate port name ${p.name}` })
    portNames.add(p.name)
  })
  const mountPaths = new Set<string>()
  c.volumeMounts?.forEach((m, i) => {
    if (mountPaths.has(m.mountPath)) ctx.addIssue({ code: 'custom', path: ['volumeMounts', i, 'mountPath'], message: `duplicate mountPath ${m.mountPath}` })
    mountPaths.add(m.mountPath)
  })
  for (const probe of PROBES) {
    const p = c[probe]
    if (p === undefined) continue
    for (const h of ['tcpSocket', 'httpGet'] as const) {
      const port = p[h]?.port
      if (typeof port === 'string' && !portNames.has(port)) ctx.addIssue({ code: 'custom', path: [probe, h, 'port'], message: `names no port of container ${c.name} (ports[].name)` })
    }
    if (probe !== 'readinessProbe' && p.successThreshold !== 1) ctx.addIssue({ code: 'custom', path: [probe, 'successThreshold'], message: `must be 1 for ${probe}` })
  }
  const { requests, limits } = c.resources ?? {}
  for (const [name, unit] of Object.entries(RESOURCE_UNITS)) {
    const req = requests?.[name as keyof typeof RESOURCE_UNITS]
    const lim = limits?.[name as keyof typeof RESOURCE_UNITS]
    if (req === undefined || lim === undefined) continue
    const r = quantityValue(req, unit)
    const l = quantityValue(lim, unit)
    if (r !== undefined && l !== undefined && r > l) ctx.addIssue({ code: 'custom', path: ['resources', 'requests', name], message: `must not exceed limits.${name} (${String(lim)})` })
  }
})

/** The value of a quantity, or undefined when it does not read (its own issue says so). */
function quantityValue(q: string | number, unit: QuantityUnit): number | undefined {
  return quantityProblem(q, unit) === undefined ? parseQuantity(q, unit, '') : undefined
}

// ---- volumes ------------------------------------------------------------------------------------------------

export const HostPathVolumeSourceSchema = k8sObject(
  { path: AbsolutePathSchema, type: z.enum(['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice']).optional() },
  { what: 'Kubernetes hostPath volume' },
)
export const EmptyDirVolumeSourceSchema = k8sObject({ medium: z.enum(['', 'Memory']).optional(), sizeLimit: quantity('bytes').optional() }, { what: 'Kubernetes emptyDir volume' })
export const ConfigMapVolumeSourceSchema = k8sObject(
  {
    /** An entry of the Service's `spec.configMaps`. */
    name: ConfigMapNameSchema,
    items: z
      .array(
        k8sObject(
          {
            key: ConfigMapKeySchema,
            path: z
              .string()
              .min(1)
              .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'path must be relative and must not contain ".."'),
          },
          { what: 'Kubernetes configMap item', unhonourable: ['mode'] },
        ),
      )
      .max(MAX_LIST)
      .optional(),
  },
  { what: 'Kubernetes configMap volume', unhonourable: ['defaultMode', 'optional'] },
)

const VOLUME_TYPES = ['hostPath', 'emptyDir', 'configMap'] as const
/** Kubernetes VolumeSource members other than the three the appliance provides. */
const OTHER_VOLUME_TYPES = [
  'awsElasticBlockStore',
  'azureDisk',
  'azureFile',
  'cephfs',
  'cinder',
  'csi',
  'downwardAPI',
  'ephemeral',
  'fc',
  'flexVolume',
  'flocker',
  'gcePersistentDisk',
  'gitRepo',
  'glusterfs',
  'image',
  'iscsi',
  'nfs',
  'persistentVolumeClaim',
  'photonPersistentDisk',
  'portworxVolume',
  'projected',
  'quobyte',
  'rbd',
  'scaleIO',
  'secret',
  'storageos',
  'vsphereVolume',
]
export const VolumeSchema = k8sObject(
  { name: NameSchema, hostPath: HostPathVolumeSourceSchema.optional(), emptyDir: EmptyDirVolumeSourceSchema.optional(), configMap: ConfigMapVolumeSourceSchema.optional() },
  { what: 'Kubernetes volume', unhonourable: OTHER_VOLUME_TYPES },
).superRefine((v, ctx) => {
  const set = VOLUME_TYPES.filter((t) => v[t] !== undefined)
  if (set.length === 0 && !OTHER_VOLUME_TYPES.some((t) => v[t] !== undefined)) ctx.addIssue({ code: 'custom', path: [], message: 'a volume needs exactly one of hostPath, emptyDir or configMap' })
  for (const t of set.slice(1)) ctx.addIssue({ code: 'custom', path: [t], message: `a volume has exactly one source; ${set[0]} is already set` })
})

// ---- pod ----------------------------------------------------------------------------------------------------

/** Pod-level securityContext: accepted only with the members below, and then ignored (the backend runs as root). */
const POD_SECURITY_CONTEXT_POLICY: FieldPolicy = {
  what: 'Kubernetes pod securityContext',
  unhonourable: [
    'appArmorProfile',
    'fsGroupChangePolicy',
    'runAsGroup',
    'runAsNonRoot',
    'seLinuxChangePolicy',
    'seLinuxOptions',
    'seccompProfile',
    'supplementalGroups',
    'supplementalGroupsPolicy',
    'sysctls',
    'windowsOptions',
  ],
}
export const PodSecurityContextSchema = k8sObject({ runAsUser: z.number().int().min(0).optional(), fsGroup: z.number().int().min(0).optional() }, POD_SECURITY_CONTEXT_POLICY)

const POD_POLICY: FieldPolicy = {
  what: 'Kubernetes Pod spec',
  // Scheduling, identity and DNS for a cluster: on one DPU with no API server they mean nothing.
  ignored: [
    'nodeSelector',
    'nodeName',
    'tolerations',
    'affinity',
    'priorityClassName',
    'priority',
    'preemptionPolicy',
    'schedulerName',
    'schedulingGates',
    'topologySpreadConstraints',
    'serviceAccountName',
    'serviceAccount',
    'automountServiceAccountToken',
    'dnsPolicy',
    'enableServiceLinks',
    'imagePullSecrets',
  ],
  defaultOnly: { hostNetwork: false, hostPID: false, hostIPC: false, shareProcessNamespace: false },
  unhonourable: [
    'initContainers',
    'ephemeralContainers',
    'activeDeadlineSeconds',
    'hostname',
    'subdomain',
    'setHostnameAsFQDN',
    'hostAliases',
    'dnsConfig',
    'readinessGates',
    'runtimeClassName',
    'overhead',
    'os',
    'hostUsers',
    'resourceClaims',
    'resources',
  ],
}

export const PodSpecSchema = k8sObject(
  {
    containers: z.array(ContainerSchema).min(1, 'a pod needs at least 1 container').max(MAX_CONTAINERS, `a pod has at most ${MAX_CONTAINERS} containers`),
    volumes: z.array(VolumeSchema).max(MAX_LIST).optional(),
    restartPolicy: z.enum(['Always', 'OnFailure', 'Never']).default('Always'),
    terminationGracePeriodSeconds: z.number().int().min(0, 'terminationGracePeriodSeconds must be >= 0').optional(),
    securityContext: PodSecurityContextSchema.optional(),
  },
  POD_POLICY,
).superRefine((spec, ctx) => {
  const names = new Set<string>()
  spec.containers.forEach((c, i) => {
    if (names.has(c.name)) ctx.addIssue({ code: 'custom', path: ['containers', i, 'name'], message: `duplicate container name ${c.name}` })
    names.add(c.name)
  })
  const volumes = new Set<string>()
  spec.volumes?.forEach((v, i) => {
    if (volumes.has(v.name)) ctx.addIssue({ code: 'custom', path: ['volumes', i, 'name'], message: `duplicate volume name ${v.name}` })
    volumes.add(v.name)
  })
  spec.containers.forEach((c, i) =>
    c.volumeMounts?.forEach((m, j) => {
      if (!volumes.has(m.name)) ctx.addIssue({ code: 'custom', path: ['containers', i, 'volumeMounts', j, 'name'], message: `names no volume of the pod (volumes[].name)` })
    }),
  )
})

export const PodTemplateSchema = k8sObject({ metadata: TemplateMetaSchema.optional(), spec: PodSpecSchema }, { what: 'Kubernetes pod template' })

// ---- service ------------------------------------------------------------------------------------------------

/** One service interface of the pod: the link named `interfaceName` in its namespace, attached through `network`. */
export const ServiceAttachmentSchema = k8sObject({ network: ServiceInterfaceServiceSchema.shape.network, interfaceName: NetdevNameSchema }, { what: 'Service interface (network, interfaceName)' })
export type ServiceAttachment = z.infer<typeof ServiceAttachmentSchema>

export const ConfigMapDataSchema = z.record(ConfigMapKeySchema, z.string())
const utf8 = new TextEncoder()

export const ServiceSpecSchema = k8sObject(
  {
    serviceID: ServiceIDSchema.describe('Ties the service to ServiceInterfaces of type service with this serviceID (label svc.dpu.nvidia.com/service).'),
    runtime: RuntimeNameSchema.optional().describe("The backend that runs the pod: podman (containers) or process (the commands in a network namespace, no image). Absent: the appliance's default."),
    interfaces: z
      .array(ServiceAttachmentSchema)
      .max(MAX_SERVICE_ATTACHMENTS, `at most ${MAX_SERVICE_ATTACHMENTS} interfaces`)
      .optional()
      .describe('Service interfaces plugged into the pod: a link named interfaceName in its network namespace, attached through the NAD network ("name" or "namespace/name").'),
    configMaps: z.record(ConfigMapNameSchema, ConfigMapDataSchema).optional().describe("Data of the pod's configMap volumes, by ConfigMap name (key -> content); at most 1 MiB in all."),
    template: PodTemplateSchema.describe(
      'A Kubernetes pod template. The appliance honours a subset of PodSpec: other Kubernetes fields are refused by name, except scheduling-only ones (nodeSelector, tolerations, affinity, ...), which are accepted and ignored.',
    ),
  },
  { what: 'Service spec' },
).superRefine((spec, ctx) => {
  const ifnames = new Map<string, number>()
  spec.interfaces?.forEach((a, i) => {
    const first = ifnames.get(a.interfaceName)
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['interfaces', i, 'interfaceName'], message: `duplicate interfaceName ${a.interfaceName} (also interfaces[${first}])` })
    else ifnames.set(a.interfaceName, i)
  })
  let bytes = 0
  for (const [name, data] of Object.entries(spec.configMaps ?? {})) for (const [k, v] of Object.entries(data)) bytes += utf8.encode(name).length + utf8.encode(k).length + utf8.encode(v).length
  if (bytes > MAX_CONFIG_MAP_BYTES) ctx.addIssue({ code: 'custom', path: ['configMaps'], message: `configMaps hold ${bytes} bytes, at most ${MAX_CONFIG_MAP_BYTES} (1 MiB)` })
  spec.template.spec.volumes?.forEach((v, i) => {
    const cm = v.configMap
    if (cm === undefined) return
    const data = spec.configMaps?.[cm.name]
    if (data === undefined) {
      ctx.addIssue({ code: 'custom', path: ['template', 'spec', 'volumes', i, 'configMap', 'name'], message: `names no entry of spec.configMaps` })
      return
    }
    cm.items?.forEach((item, j) => {
      if (!(item.key in data)) ctx.addIssue({ code: 'custom', path: ['template', 'spec', 'volumes', i, 'configMap', 'items', j, 'key'], message: `ConfigMap ${cm.name} has no key ${item.key}` })
    })
  })
})
export type ServiceSpec = z.infer<typeof ServiceSpecSchema>

export const ServiceSchema = objectSchema(SVC_API_VERSION, 'Service', ServiceSpecSchema)

/**
 * The Kubernetes fields of a valid spec that the appliance accepts without acting on them (scheduling, service
 * accounts, pod securityContext, `hostNetwork: false`), as paths from the object (`spec.template.spec.nodeSelector`),
 * so the reconciler can say so in an event.
 */
export function ignoredPodFields(spec: ServiceSpec): string[] {
  const pod = spec.template.spec
  const prefix = 'spec.template.spec'
  const out = ignoredFields(pod, POD_POLICY, prefix)
  if (pod.securityContext !== undefined) out.push(`${prefix}.securityContext`)
  pod.containers.forEach((c, i) => out.push(...ignoredFields(c, CONTAINER_POLICY, `${prefix}.containers[${i}]`)))
  return out
}
