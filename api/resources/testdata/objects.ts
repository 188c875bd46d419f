/**
 * Valid objects of every kind, built from the DPF reference (`reference/dpf.md` §2 prose and samples), used as
 * the base that the bad-input tables mutate. Each call returns a fresh copy.
 */
export const chain = () => ({
  apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
  kind: 'ServiceChain',
  metadata: { name: 'hbn-to-fabric', namespace: 'dpf-operator-system' },
  spec: {
    switches: [
      {
        ports: [
          { serviceInterface: { matchLabels: { uplink: 'p0' } } },
          { serviceInterface: { matchLabels: { 'svc.dpu.nvidia.com/service': 'doca-hbn', 'svc.dpu.nvidia.com/interface': 'p0_sf' } } },
        ],
        serviceMTU: 9000,
      },
    ],
  },
})

export const dpuServiceChain = () => ({
  apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
  kind: 'DPUServiceChain',
  metadata: { name: 'hbn-to-fabric', namespace: 'dpf-operator-system' },
  spec: {
    template: {
      spec: {
        nodeSelector: { matchExpressions: [{ key: 'rack', operator: 'In', values: ['a', 'b'] }] },
        template: {
          metadata: { labels: { chain: 'fabric' } },
          spec: chain().spec,
        },
      },
    },
  },
})

export const serviceInterface = (spec: Record<string, unknown> = { interfaceType: 'physical', physical: { interfaceName: 'p0' } }) => ({
  apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
  kind: 'ServiceInterface',
  metadata: { name: 'p0', namespace: 'dpf-operator-system', labels: { uplink: 'p0' } },
  spec,
})

/** The PF example of DPF latest `dpuservicechain.md`: `pf: {pfID: 0}`, labels `uplink: pf0hpf`, matchExpressions. */
export const dpuServiceInterfacePf = () => ({
  apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
  kind: 'DPUServiceInterface',
  metadata: { name: 'pf0hpf', namespace: 'dpf-operator-system' },
  spec: {
    template: {
      spec: {
        nodeSelector: { matchExpressions: [{ key: 'feature.node.kubernetes.io/dpu-enabled', operator: 'Exists' }] },
        template: {
          metadata: { labels: { uplink: 'pf0hpf' } },
          spec: { interfaceType: 'pf', pf: { pfID: 0 } },
        },
      },
    },
  },
})

/** §2.10 samples: a per-node CIDR pool and a loopback pool. */
export const ipamPool = () => ({
  apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
  kind: 'DPUServiceIPAM',
  metadata: { name: 'pool1', namespace: 'dpf-operator-system' },
  spec: { metadata: { labels: { 'svc.dpu.nvidia.com/pool': 'pool1' } }, ipv4Network: { network: '10.0.120.0/22', gatewayIndex: 3, prefixSize: 29 } },
})
export const ipamLoopback = () => ({
  apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
  kind: 'DPUServiceIPAM',
  metadata: { name: 'loopback', namespace: 'dpf-operator-system' },
  spec: { ipv4Network: { network: '11.0.0.0/24', prefixSize: 32 } },
})

/** §2.6 / §9: the HBN service. */
export const dpuService = () => ({
  apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
  kind: 'DPUService',
  metadata: { name: 'doca-hbn', namespace: 'dpf-operator-system' },
  spec: {
    serviceID: 'doca-hbn',
    interfaces: ['p0-sf', 'p1-sf'],
    helmChart: {
      source: { repoURL: 'https://helm.ngc.nvidia.com/nvidia/doca', version: '1.0.1', chart: 'doca-hbn' },
      values: { image: { repository: 'nvcr.io/nvidia/doca/doca_hbn', tag: '2.4.1-doca2.9.1' }, resources: { memory: '6Gi', 'nvidia.com/bf_sf': 3 } },
    },
  },
})

/** §4.2: the HBN+OVN reference flavor, abridged. */
export const dpuFlavor = () => ({
  apiVersion: 'provisioning.dpu.nvidia.com/v1alpha1',
  kind: 'DPUFlavor',
  metadata: { name: 'dpf-provisioning-hbn-ovn', namespace: 'dpf-operator-system' },
  spec: {
    grub: { kernelParameters: ['console=hvc0', 'console=ttyAMA0', 'earlycon=pl011,0x13010000', 'hugepagesz=2048kB', 'hugepages=3072'] },
    sysctl: { parameters: ['net.ipv4.ip_forward=1'] },
    nvconfig: [{ device: '*', parameters: ['PF_BAR2_ENABLE=0', 'PER_PF_NUM_SF=1', 'PF_TOTAL_SF=20', 'SRIOV_EN=1', 'NUM_OF_VFS=46'] }],
    ovs: { rawConfigScript: '_ovs-vsctl() { ovs-vsctl --no-wait --timeout 15 "$@"; }\n_ovs-vsctl --may-exist add-br br-sfc\n' },
    bfcfgParameters: ['UPDATE_ATF_UEFI=yes', 'UPDATE_DPU_OS=yes', 'WITH_NIC_FW_UPDATE=yes'],
    configFiles: [{ path: '/etc/mellanox/mlnx-bf.conf', operation: 'override', raw: 'ALLOW_SHARED_RQ="no"\n', permissions: '0644' }],
    dpuResources: { cpu: 16, memory: '16Gi', 'nvidia.com/sf': 20 },
    systemReservedResources: { cpu: 4, memory: '4Gi', 'nvidia.com/sf': 4 },
    hostNetworkInterfaceConfigs: [{ portNumber: 0, mtu: 9000, dhcp: true }],
  },
})

/** §6.1 latest shape: `serviceChains.switches[]`, required nodeEffect. */
export const dpuDeploymentLatest = () => ({
  apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
  kind: 'DPUDeployment',
  metadata: { name: 'ovn-hbn', namespace: 'dpf-operator-system' },
  spec: {
    dpus: { bfb: 'bf-bundle', flavor: 'hbn-ovn', nodeEffect: { drain: { automaticNodeReboot: true } }, dpuSetStrategy: { type: 'RollingUpdate' } },
    services: { hbn: { serviceTemplate: 'hbn', serviceConfiguration: 'hbn', dependsOn: [{ name: 'ovn' }] } },
    serviceChains: {
      upgradePolicy: { applyNodeEffect: false },
      switches: [{ ports: [{ serviceInterface: { matchLabels: { uplink: 'p0' } } }, { service: { name: 'hbn', interface: 'p0_if' } }], serviceMTU: 9000 }],
    },
    revisionHistoryLimit: 10,
  },
})

/** A Service using every field the appliance honours: two service interfaces, a configMap, emptyDir and hostPath volume, probes. */
export const service = () => ({
  apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
  kind: 'Service',
  metadata: { name: 'fwd', namespace: 'svc' },
  spec: {
    serviceID: 'fwd',
    runtime: 'process',
    interfaces: [
      { network: 'sfc', interfaceName: 'in0' },
      { network: 'dpf-operator-system/sfc', interfaceName: 'out0' },
    ],
    configMaps: { 'fwd-config': { 'start.sh': 'ip link set in0 up\n', mode: 'bridge' } },
    template: {
      metadata: { labels: { app: 'fwd' }, annotations: { note: 'forwarder' } },
      spec: {
        containers: [
          {
            name: 'fwd',
            image: 'localhost/busybox:test',
            imagePullPolicy: 'Never',
            command: ['/bin/sh', '/config/start.sh'],
            args: ['--verbose'],
            env: [{ name: 'MODE', value: 'bridge' }],
            workingDir: '/',
            ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
            resources: { requests: { cpu: '100m', memory: '16Mi', 'nvidia.com/bf_sf': 2 }, limits: { cpu: 1, memory: '64Mi', 'nvidia.com/bf_sf': '2' } },
            volumeMounts: [
              { name: 'config', mountPath: '/config', readOnly: true },
              { name: 'run', mountPath: '/run/fwd' },
              { name: 'host', mountPath: '/host' },
            ],
            securityContext: { privileged: false, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } },
            readinessProbe: { tcpSocket: { port: 'http' } },
            livenessProbe: { exec: { command: ['true'] }, periodSeconds: 5 },
            startupProbe: { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, failureThreshold: 30 },
          },
        ],
        volumes: [
          { name: 'config', configMap: { name: 'fwd-config', items: [{ key: 'start.sh', path: 'start.sh' }] } },
          { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
          { name: 'host', hostPath: { path: '/var/run/fwd', type: 'DirectoryOrCreate' } },
        ],
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 5,
      },
    },
  },
})
