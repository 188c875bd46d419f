import { describe, expect, it } from 'vitest'
import { ApplianceError } from '../errors.js'
import { parseObject } from './parse-object.js'
import { ignoredPodFields, MAX_CONFIG_MAP_BYTES, type ServiceSpec } from './service.js'
import { service } from './testdata/objects.js'

type Json = any // test tables poke at raw objects

function issuesOf(raw: unknown): Array<{ path: string; message: string }> {
  try {
    parseObject(raw)
  } catch (err) {
    expect(err).toBeInstanceOf(ApplianceError)
    expect((err as ApplianceError).code).toBe('api.validation')
    return [...(err as ApplianceError).issues]
  }
  throw new Error('expected a validation error, the object was accepted')
}

function edited(edit: (o: Json) => void): Json {
  const o: Json = service()
  edit(o)
  return o
}
const pod = (o: Json) => o.spec.template.spec
const c0 = (o: Json) => o.spec.template.spec.containers[0]
const P = 'spec.template.spec'
const C = `${P}.containers[0]`

describe('Service', () => {
  it('accepts every honoured field and fills the probe and restart defaults', () => {
    const obj = parseObject(service())
    const spec = obj.spec as ServiceSpec
    const c = spec.template.spec.containers[0]!
    expect(c.readinessProbe).toEqual({ tcpSocket: { port: 'http' }, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 })
    expect(c.livenessProbe?.periodSeconds).toBe(5)
    expect(spec.template.spec.restartPolicy).toBe('Always')
    expect(spec.interfaces).toEqual(service().spec.interfaces)
    expect(spec.configMaps).toEqual(service().spec.configMaps)
    expect(ignoredPodFields(spec)).toEqual([])
  })

  it('defaults restartPolicy to Always and accepts a minimal pod', () => {
    const obj = parseObject({
      apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
      kind: 'Service',
      metadata: { name: 'x' },
      spec: { serviceID: 'x', template: { spec: { containers: [{ name: 'x', image: 'i' }] } } },
    })
    expect((obj.spec as ServiceSpec).template.spec.restartPolicy).toBe('Always')
    expect(obj.metadata.namespace).toBe('default')
  })

  it('accepts scheduling-only fields and lists them for an event', () => {
    const obj = parseObject(
      edited((o) => {
        Object.assign(pod(o), {
          nodeSelector: { 'kubernetes.io/hostname': 'dpu-1' },
          tolerations: [{ operator: 'Exists' }],
          affinity: {},
          serviceAccountName: 'hbn',
          automountServiceAccountToken: false,
          dnsPolicy: 'ClusterFirstWithHostNet',
          priorityClassName: 'system-node-critical',
          imagePullSecrets: [{ name: 'ngc' }],
          hostNetwork: false,
          securityContext: { runAsUser: 0, fsGroup: 0 },
        })
        c0(o).terminationMessagePolicy = 'FallbackToLogsOnError'
      }),
    )
    expect(ignoredPodFields(obj.spec as ServiceSpec)).toEqual([
      `${P}.nodeSelector`,
      `${P}.tolerations`,
      `${P}.affinity`,
      `${P}.serviceAccountName`,
      `${P}.automountServiceAccountToken`,
      `${P}.dnsPolicy`,
      `${P}.priorityClassName`,
      `${P}.imagePullSecrets`,
      `${P}.hostNetwork`,
      `${P}.securityContext`,
      `${C}.terminationMessagePolicy`,
    ])
  })

  const CANNOT = 'the appliance cannot honour'
  it.each<[string, (o: Json) => void, string, string]>([
    // the Service spec itself
    ['no serviceID', (o) => delete o.spec.serviceID, 'spec.serviceID', 'required'],
    ['serviceID not a label value', (o) => (o.spec.serviceID = 'a b'), 'spec.serviceID', 'label value'],
    ['unknown runtime', (o) => (o.spec.runtime = 'docker'), 'spec.runtime', 'podman'],
    ['unknown spec field', (o) => (o.spec.replicas = 2), 'spec.replicas', 'unknown field replicas'],
    ['no template', (o) => delete o.spec.template, 'spec.template', 'required'],
    ['bad network', (o) => (o.spec.interfaces[0].network = 'a/b/c'), 'spec.interfaces[0].network', 'network must be'],
    ['long interfaceName', (o) => (o.spec.interfaces[0].interfaceName = 'a-very-long-ifname'), 'spec.interfaces[0].interfaceName', 'at most 15 bytes'],
    ['duplicate interfaceName', (o) => (o.spec.interfaces[1].interfaceName = 'in0'), 'spec.interfaces[1].interfaceName', 'duplicate interfaceName in0'],
    ['too many interfaces', (o) => (o.spec.interfaces = Array.from({ length: 51 }, (_, i) => ({ network: 'sfc', interfaceName: `if${i}` }))), 'spec.interfaces', 'at most 50'],
    ['unknown interface member', (o) => (o.spec.interfaces[0].mtu = 9000), 'spec.interfaces[0].mtu', 'unknown field'],
    ['configMap volume names no configMaps entry', (o) => (pod(o).volumes[0].configMap.name = 'other'), `${P}.volumes[0].configMap.name`, 'names no entry of spec.configMaps'],
    ['configMap item names no key', (o) => (pod(o).volumes[0].configMap.items[0].key = 'nope.sh'), `${P}.volumes[0].configMap.items[0].key`, 'has no key nope.sh'],
    ['configMap key', (o) => (o.spec.configMaps['fwd-config']['a/b'] = 'x'), 'spec.configMaps["fwd-config"]["a/b"]', 'ConfigMap key'],
    ['configMap value', (o) => (o.spec.configMaps['fwd-config'].n = 1), 'spec.configMaps["fwd-config"].n', 'expected string'],
    ['configMaps over 1 MiB', (o) => (o.spec.configMaps['fwd-config'].big = 'x'.repeat(MAX_CONFIG_MAP_BYTES)), 'spec.configMaps', 'at most 1048576'],
    // pod
    ['no containers', (o) => (pod(o).containers = []), `${P}.containers`, 'at least 1'],
    ['17 containers', (o) => (pod(o).containers = Array.from({ length: 17 }, (_, i) => ({ name: `c${i}`, image: 'i' }))), `${P}.containers`, 'at most 16'],
    ['duplicate container name', (o) => pod(o).containers.push({ name: 'fwd', image: 'i' }), `${P}.containers[1].name`, 'duplicate container name fwd'],
    ['restartPolicy', (o) => (pod(o).restartPolicy = 'Sometimes'), `${P}.restartPolicy`, 'Always'],
    ['negative grace period', (o) => (pod(o).terminationGracePeriodSeconds = -1), `${P}.terminationGracePeriodSeconds`, '>= 0'],
    ['initContainers', (o) => (pod(o).initContainers = [{ name: 'i', image: 'i' }]), `${P}.initContainers`, `${CANNOT} initContainers`],
    ['ephemeralContainers', (o) => (pod(o).ephemeralContainers = []), `${P}.ephemeralContainers`, `${CANNOT} ephemeralContainers`],
    ['hostNetwork: true', (o) => (pod(o).hostNetwork = true), `${P}.hostNetwork`, `${CANNOT} hostNetwork: true`],
    ['hostPID: true', (o) => (pod(o).hostPID = true), `${P}.hostPID`, `${CANNOT} hostPID: true`],
    ['hostIPC: true', (o) => (pod(o).hostIPC = true), `${P}.hostIPC`, `${CANNOT} hostIPC: true`],
    ['shareProcessNamespace', (o) => (pod(o).shareProcessNamespace = true), `${P}.shareProcessNamespace`, `${CANNOT} shareProcessNamespace`],
    ['hostAliases', (o) => (pod(o).hostAliases = []), `${P}.hostAliases`, `${CANNOT} hostAliases`],
    ['pod securityContext beyond runAsUser/fsGroup', (o) => (pod(o).securityContext = { runAsUser: 0, sysctls: [] }), `${P}.securityContext.sysctls`, `${CANNOT} sysctls`],
    ['not a PodSpec field', (o) => (pod(o).replicas = 1), `${P}.replicas`, 'unknown field replicas (not a field of a Kubernetes Pod spec)'],
    // volumes
    ['secret volume', (o) => pod(o).volumes.push({ name: 's', secret: { secretName: 's' } }), `${P}.volumes[3].secret`, `${CANNOT} secret`],
    ['persistentVolumeClaim volume', (o) => pod(o).volumes.push({ name: 'p', persistentVolumeClaim: { claimName: 'c' } }), `${P}.volumes[3].persistentVolumeClaim`, `${CANNOT} persistentVolumeClaim`],
    ['volume without a source', (o) => pod(o).volumes.push({ name: 'e' }), `${P}.volumes[3]`, 'exactly one of hostPath, emptyDir or configMap'],
    ['volume with two sources', (o) => (pod(o).volumes[1].hostPath = { path: '/x' }), `${P}.volumes[1].emptyDir`, 'exactly one source; hostPath is already set'],
    ['unknown volume type', (o) => pod(o).volumes.push({ name: 'u', tmpfs: {} }), `${P}.volumes[3].tmpfs`, 'unknown field tmpfs'],
    ['duplicate volume', (o) => pod(o).volumes.push({ name: 'run', emptyDir: {} }), `${P}.volumes[3].name`, 'duplicate volume name run'],
    ['relative hostPath', (o) => (pod(o).volumes[2].hostPath.path = 'var/run'), `${P}.volumes[2].hostPath.path`, 'absolute path'],
    ['hostPath type', (o) => (pod(o).volumes[2].hostPath.type = 'Dir'), `${P}.volumes[2].hostPath.type`, 'DirectoryOrCreate'],
    ['emptyDir sizeLimit', (o) => (pod(o).volumes[1].emptyDir.sizeLimit = '1 MB'), `${P}.volumes[1].emptyDir.sizeLimit`, 'Kubernetes quantity'],
    ['emptyDir medium', (o) => (pod(o).volumes[1].emptyDir.medium = 'HugePages'), `${P}.volumes[1].emptyDir.medium`, 'Memory'],
    ['configMap defaultMode', (o) => (pod(o).volumes[0].configMap.defaultMode = 0o755), `${P}.volumes[0].configMap.defaultMode`, `${CANNOT} defaultMode`],
    ['configMap item path escapes', (o) => (pod(o).volumes[0].configMap.items[0].path = '../x'), `${P}.volumes[0].configMap.items[0].path`, 'relative'],
    // containers
    ['no image', (o) => delete c0(o).image, `${C}.image`, 'required'],
    ['container name', (o) => (c0(o).name = 'Fwd'), `${C}.name`, 'DNS-1123'],
    ['imagePullPolicy', (o) => (c0(o).imagePullPolicy = 'Sometimes'), `${C}.imagePullPolicy`, 'IfNotPresent'],
    ['env valueFrom', (o) => c0(o).env.push({ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }), `${C}.env[1].valueFrom`, `${CANNOT} valueFrom`],
    ['envFrom', (o) => (c0(o).envFrom = [{ configMapRef: { name: 'x' } }]), `${C}.envFrom`, `${CANNOT} envFrom`],
    ['lifecycle hooks', (o) => (c0(o).lifecycle = { preStop: { exec: { command: ['x'] } } }), `${C}.lifecycle`, `${CANNOT} lifecycle`],
    ['volumeDevices', (o) => (c0(o).volumeDevices = []), `${C}.volumeDevices`, `${CANNOT} volumeDevices`],
    ['tty: true', (o) => (c0(o).tty = true), `${C}.tty`, `${CANNOT} tty: true`],
    ['not a Container field', (o) => (c0(o).entrypoint = ['x']), `${C}.entrypoint`, 'unknown field entrypoint (not a field of a Kubernetes container)'],
    ['relative workingDir', (o) => (c0(o).workingDir = 'tmp'), `${C}.workingDir`, 'absolute path'],
    ['hostPort', (o) => (c0(o).ports[0].hostPort = 80), `${C}.ports[0].hostPort`, `${CANNOT} hostPort`],
    ['containerPort range', (o) => (c0(o).ports[0].containerPort = 70000), `${C}.ports[0].containerPort`, '1..65535'],
    ['port name', (o) => (c0(o).ports[0].name = 'HTTP'), `${C}.ports[0].name`, 'IANA service name'],
    ['duplicate port name', (o) => c0(o).ports.push({ name: 'http', containerPort: 81 }), `${C}.ports[1].name`, 'duplicate port name http'],
    ['mount of no volume', (o) => c0(o).volumeMounts.push({ name: 'nope', mountPath: '/nope' }), `${C}.volumeMounts[3].name`, 'names no volume'],
    ['duplicate mountPath', (o) => c0(o).volumeMounts.push({ name: 'run', mountPath: '/config' }), `${C}.volumeMounts[3].mountPath`, 'duplicate mountPath /config'],
    ['subPath', (o) => (c0(o).volumeMounts[0].subPath = 'x'), `${C}.volumeMounts[0].subPath`, `${CANNOT} subPath`],
    ['mountPropagation', (o) => (c0(o).volumeMounts[2].mountPropagation = 'Bidirectional'), `${C}.volumeMounts[2].mountPropagation`, `${CANNOT} mountPropagation`],
    ['cpu quantity', (o) => (c0(o).resources.limits.cpu = 'one'), `${C}.resources.limits.cpu`, 'Kubernetes quantity'],
    ['memory quantity', (o) => (c0(o).resources.requests.memory = '-1Mi'), `${C}.resources.requests.memory`, 'must not be negative'],
    ['fractional SF count', (o) => (c0(o).resources.limits['nvidia.com/bf_sf'] = '1.5'), `${C}.resources.limits["nvidia.com/bf_sf"]`, 'whole number'],
    [
      'hugepages',
      (o) => (c0(o).resources.limits['hugepages-2Mi'] = '1Gi'),
      `${C}.resources.limits["hugepages-2Mi"]`,
      `${CANNOT} hugepages-2Mi (of resources it supports only cpu, memory, nvidia.com/bf_sf)`,
    ],
    ['resource claims', (o) => (c0(o).resources.claims = []), `${C}.resources.claims`, `${CANNOT} claims`],
    ['request over limit', (o) => (c0(o).resources.requests.memory = '1Gi'), `${C}.resources.requests.memory`, 'must not exceed limits.memory (64Mi)'],
    ['container securityContext runAsUser', (o) => (c0(o).securityContext.runAsUser = 1000), `${C}.securityContext.runAsUser`, `${CANNOT} runAsUser`],
    ['capability case', (o) => (c0(o).securityContext.capabilities.add = ['net_admin']), `${C}.securityContext.capabilities.add[0]`, 'upper-case'],
    ['privileged type', (o) => (c0(o).securityContext.privileged = 'yes'), `${C}.securityContext.privileged`, 'expected boolean'],
    // probes
    ['probe without handler', (o) => (c0(o).readinessProbe = { periodSeconds: 3 }), `${C}.readinessProbe`, 'exactly one of exec, tcpSocket or httpGet'],
    ['probe with two handlers', (o) => (c0(o).livenessProbe.tcpSocket = { port: 8080 }), `${C}.livenessProbe.tcpSocket`, 'exactly one handler; exec is already set'],
    ['empty exec command', (o) => (c0(o).livenessProbe.exec.command = []), `${C}.livenessProbe.exec.command`, 'must name a program'],
    ['grpc probe', (o) => (c0(o).readinessProbe = { grpc: { port: 9000 } }), `${C}.readinessProbe.grpc`, `${CANNOT} grpc`],
    ['named port of no container port', (o) => (c0(o).readinessProbe.tcpSocket.port = 'metrics'), `${C}.readinessProbe.tcpSocket.port`, 'names no port of container fwd'],
    ['probe port range', (o) => (c0(o).startupProbe.httpGet.port = 0), `${C}.startupProbe.httpGet.port`, '1..65535'],
    ['httpGet scheme', (o) => (c0(o).startupProbe.httpGet.scheme = 'FTP'), `${C}.startupProbe.httpGet.scheme`, 'HTTPS'],
    ['httpGet headers', (o) => (c0(o).startupProbe.httpGet.httpHeaders = [{ name: 'a', value: 'b' }]), `${C}.startupProbe.httpGet.httpHeaders`, `${CANNOT} httpHeaders`],
    ['httpGet path', (o) => (c0(o).startupProbe.httpGet.path = 'healthz'), `${C}.startupProbe.httpGet.path`, 'start with "/"'],
    ['periodSeconds 0', (o) => (c0(o).livenessProbe.periodSeconds = 0), `${C}.livenessProbe.periodSeconds`, '>= 1'],
    ['timeoutSeconds 0', (o) => (c0(o).readinessProbe.timeoutSeconds = 0), `${C}.readinessProbe.timeoutSeconds`, '>= 1'],
    ['failureThreshold 0', (o) => (c0(o).readinessProbe.failureThreshold = 0), `${C}.readinessProbe.failureThreshold`, '>= 1'],
    ['negative initialDelaySeconds', (o) => (c0(o).readinessProbe.initialDelaySeconds = -1), `${C}.readinessProbe.initialDelaySeconds`, '>= 0'],
    ['liveness successThreshold 2', (o) => (c0(o).livenessProbe.successThreshold = 2), `${C}.livenessProbe.successThreshold`, 'must be 1 for livenessProbe'],
    ['startup successThreshold 2', (o) => (c0(o).startupProbe.successThreshold = 2), `${C}.startupProbe.successThreshold`, 'must be 1 for startupProbe'],
    [
      'probe terminationGracePeriodSeconds',
      (o) => (c0(o).livenessProbe.terminationGracePeriodSeconds = 5),
      `${C}.livenessProbe.terminationGracePeriodSeconds`,
      `${CANNOT} terminationGracePeriodSeconds`,
    ],
  ])('%s: %s', (_name, edit, path, message) => {
    const issues = issuesOf(edited(edit))
    expect(issues).toContainEqual({ path, message: expect.stringContaining(message) })
  })

  it('accepts readiness successThreshold above 1', () => {
    expect(() => parseObject(edited((o) => (c0(o).readinessProbe.successThreshold = 3)))).not.toThrow()
  })

  it('reports an unhonourable field together with a bad typed field of the same object', () => {
    const issues = issuesOf(
      edited((o) => {
        c0(o).image = ''
        c0(o).lifecycle = {}
      }),
    )
    expect(issues.map((i) => i.path).sort()).toEqual([`${C}.image`, `${C}.lifecycle`])
  })
})
