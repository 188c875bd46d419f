/**
 * DPUServiceIPAM from the hub to the DPUs its nodeSelector (a corev1.NodeSelector, as DPF writes it) selects:
 * hub -> agents -> the real appliance store over mTLS on loopback, then the appliance's own IPAM step
 * (readIpamPools + computeIpamWants, what the ports pass runs) over what each store holds. The addresses landing on
 * a veth inside a service namespace are test/e2e/service-ports-ipam.ovs.test.ts's business.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { createStoreAgentPort } from '../../appliance/federation/agent-port-impl.js'
import { readNodeObjects } from '../../appliance/reconcile/node-objects.js'
import { computeIpamWants, readIpamPools } from '../../appliance/reconcile/service-ipam.js'
import { openStore, type Store } from '../../appliance/store/index.js'
import { startAgent } from '../../federation/agent/agent.js'
import { DpuRegistry } from '../../federation/hub/dpu-registry.js'
import { startHub } from '../../federation/hub/hub.js'
import { ManifestDirSource } from '../../federation/hub/sources/manifest-dir.js'
import { INTERFACES_YAML, makePki, parseManifest, render, writeAtomic } from '../support/federation-fixtures.js'
import { until } from '../support/federation-processes.js'

/** A pool for zone a only, the NAD of the fw service's interface asking for IPAM, and a chain (every DPU) asking for the pool. */
const IPAM_FLEET = `
apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: DPUServiceIPAM
metadata: {name: fw-pool, namespace: dpf-operator-system}
spec:
  metadata: {labels: {svc.dpu.nvidia.com/pool: fw-pool}}
  ipv4Network: {network: "10.0.120.0/22", gatewayIndex: 3, prefixSize: 29}
  nodeSelector:
    nodeSelectorTerms:
      - matchExpressions: [{key: zone, operator: In, values: [a]}]
---
apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: DPUServiceNAD
metadata: {name: mybr, namespace: dpf-operator-system}
spec: {resourceType: veth, bridge: br-sfc, ipam: true}
---
apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: DPUServiceChain
metadata: {name: fw-chain, namespace: dpf-operator-system}
spec:
  template:
    spec:
      template:
        spec:
          switches:
            - ports:
              - serviceInterface: {matchLabels: {uplink: p0}}
              - serviceInterface:
                  matchLabels: {svc.dpu.nvidia.com/service: fw, svc.dpu.nvidia.com/interface: "p0_sf"}
                  ipam: {matchLabels: {svc.dpu.nvidia.com/pool: fw-pool}}
`
const POOL_KEY = 'dpf-operator-system/fw-pool'
const SF_KEY = 'dpf-operator-system/p0-sf'

const cleanups: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** What the appliance's ports pass would do with its store: which pool each service interface takes an address from. */
function ipamWants(store: Store, dpu: string) {
  return computeIpamWants({ ...readNodeObjects(store, dpu), pools: readIpamPools(store) }, { name: dpu })
}

it('delivers a DPUServiceIPAM only to the DPUs its nodeSelector selects, and the appliance there allocates from it', async () => {
  const pki = await makePki(['dpu-a', 'dpu-b'])
  cleanups.push(() => rm(pki.dir, { recursive: true, force: true }))
  const work = await mkdtemp(join(tmpdir(), 'fed-ipam-'))
  cleanups.push(() => rm(work, { recursive: true, force: true }))
  const manifests = join(work, 'm')
  await mkdir(manifests)
  await writeFile(join(work, 'dpus.yaml'), 'dpus:\n  dpu-a: {labels: {zone: a}}\n  dpu-b: {labels: {zone: b}}\n')
  await writeAtomic(join(manifests, 'if.yaml'), INTERFACES_YAML)
  await writeAtomic(join(manifests, 'ipam.yaml'), IPAM_FLEET)
  const hub = await startHub({
    dataDir: join(work, 'hub'),
    listen: '127.0.0.1:0',
    tls: await pki.tls('hub'),
    render,
    registry: new DpuRegistry(join(work, 'dpus.yaml')),
    sources: [new ManifestDirSource({ dir: manifests, parse: parseManifest, debounceMs: 20 })],
  })
  cleanups.push(() => hub.stop())
  const stores = new Map<string, Store>()
  for (const dpu of ['dpu-a', 'dpu-b']) {
    // No node labels given to the appliance: it relies on the hub having chosen (its own check is for standalone use).
    const store = openStore(join(work, `${dpu}.db`), { nodeName: dpu })
    cleanups.push(() => store.close())
    stores.set(dpu, store)
    const agent = startAgent({ hub: `127.0.0.1:${hub.grpcPort}`, dpuName: dpu, tls: await pki.tls(dpu), port: createStoreAgentPort(store), backoff: { initialMs: 20, maxMs: 100 } })
    cleanups.push(() => agent.stop())
  }
  const a = stores.get('dpu-a')!
  const b = stores.get('dpu-b')!
  // Both DPUs get the interfaces, the NAD and the chain; only dpu-a gets the pool.
  await until(() => a.objects.list().length === 5 && b.objects.list().length === 4, 15_000, 'objects in both stores')

  const pools = readIpamPools(a)
  expect(pools.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual([POOL_KEY])
  // Passed through unchanged (the fleet kind the appliance reads), owned by the hub.
  expect(pools[0]!.metadata.origin).toBe('hub')
  expect(pools[0]!.spec).toMatchObject({ ipv4Network: { network: '10.0.120.0/22', prefixSize: 29 }, nodeSelector: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone' }] }] } })
  expect(readIpamPools(b)).toEqual([])

  expect(ipamWants(a, 'dpu-a').get(SF_KEY)).toMatchObject({ pool: POOL_KEY, block: { subnet: expect.stringMatching(/^10\.0\.12[0-3]\.\d+\/29$/) } })
  expect(ipamWants(b, 'dpu-b').get(SF_KEY)).toMatchObject({ problem: { reason: 'IpamPoolNotFound' } })

  // dpu-b is relabelled into zone a: the hub now sends it the pool too.
  await writeAtomic(join(work, 'dpus.yaml'), 'dpus:\n  dpu-a: {labels: {zone: a}}\n  dpu-b: {labels: {zone: a}}\n')
  await until(() => readIpamPools(b).length === 1, 15_000, 'pool delivered after relabel')
  expect(ipamWants(b, 'dpu-b').get(SF_KEY)).toMatchObject({ pool: POOL_KEY })
})
