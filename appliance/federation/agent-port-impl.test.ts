import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { WireObject } from '../../api/federation/messages.js'
import { openStore, type Store } from '../store/index.js'
import { recordingLogger } from '../../test/support/recording-logger.js'
import { createStoreAgentPort, refFromKey } from './agent-port-impl.js'

let dir: string
let store: Store
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-port-'))
  store = openStore(join(dir, 'state.db'), { nodeName: 'dpu-a' })
})
afterEach(async () => {
  store.close()
  await rm(dir, { recursive: true, force: true })
})

const si = (name: string, iface: string, hash: string): WireObject => ({
  key: `svc.dpu.nvidia.com/v1alpha1/ServiceInterface/dpf/${name}`,
  hash,
  object: {
    apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
    kind: 'ServiceInterface',
    metadata: { name, namespace: 'dpf', labels: { uplink: iface } },
    spec: { node: 'dpu-a', interfaceType: 'physical', physical: { interfaceName: iface } },
  },
})
const H1 = '11111111111111111111111111111111'
const H2 = '22222222222222222222222222222222'

describe('AgentPort over the appliance store', () => {
  it('stores a revision with its hashes atomically and reports exactly that in the next hello', () => {
    const port = createStoreAgentPort(store)
    expect(port.readSyncState()).toEqual({ appliedRevision: 0, lastGoodRevision: 0, objectHashes: {} })
    port.commitRevision({ revision: 3, upserts: [si('p0', 'p0', H1), si('p1', 'p1', H2)], removals: [] })
    expect(port.readSyncState()).toEqual({ appliedRevision: 3, lastGoodRevision: 3, objectHashes: { [si('p0', 'p0', H1).key]: H1, [si('p1', 'p1', H2).key]: H2 } })
    expect(store.objects.list().map((o) => `${o.metadata.name}:${o.metadata.origin}`)).toEqual(['p0:hub', 'p1:hub'])

    port.commitRevision({ revision: 4, upserts: [], removals: [si('p1', 'p1', H2).key] })
    expect(Object.keys(port.readSyncState().objectHashes)).toEqual([si('p0', 'p0', H1).key])
    expect(store.objects.list().map((o) => o.metadata.name)).toEqual(['p0'])
  })

  it('rejects an invalid object or a stale revision and changes nothing', () => {
    const port = createStoreAgentPort(store)
    port.commitRevision({ revision: 1, upserts: [si('p0', 'p0', H1)], removals: [] })
    const before = store.dump()
    const bad = si('p1', 'p1', H2)
    ;(bad.object.spec as Record<string, unknown>).interfaceType = 'teleport'
    expect(() => port.commitRevision({ revision: 2, upserts: [bad], removals: [] })).toThrow(expect.objectContaining({ code: 'api.validation' }))
    expect(() => port.commitRevision({ revision: 1, upserts: [si('p2', 'p2', H2)], removals: [] })).toThrow(expect.objectContaining({ code: 'federation.stale-revision' }))
    expect(store.dump()).toEqual(before)
  })

  it('keeps hub objects read-only through local writes and notifies status changes', () => {
    const port = createStoreAgentPort(store)
    let calls = 0
    const off = port.onStatusChange(() => calls++)
    port.commitRevision({ revision: 1, upserts: [si('p0', 'p0', H1)], removals: [] })
    expect(calls).toBeGreaterThan(0)
    off()
    const local = { ...si('p0', 'p0', H1).object, metadata: { name: 'p0', namespace: 'dpf' } }
    expect(() => store.objects.apply([local as never], { origin: 'local' })).toThrow(expect.objectContaining({ code: 'store.read-only' }))
    const status = port.readStatus()
    expect(status.revision).toBe(1)
    expect(status.objects.map((o) => o.key)).toEqual([si('p0', 'p0', H1).key])
  })

  it('reports a revision applied once its chains, interfaces and services are Ready, whatever its NADs and IPAM pools say', () => {
    const port = createStoreAgentPort(store)
    const nad: WireObject = {
      key: 'svc.dpu.nvidia.com/v1alpha1/DPUServiceNAD/dpf/mybrsfc',
      hash: H2,
      object: { apiVersion: 'svc.dpu.nvidia.com/v1alpha1', kind: 'DPUServiceNAD', metadata: { name: 'mybrsfc', namespace: 'dpf' }, spec: { resourceType: 'sf', bridge: 'br-sfc', serviceMTU: 1500 } },
    }
    const pool: WireObject = {
      key: 'svc.dpu.nvidia.com/v1alpha1/DPUServiceIPAM/dpf/pool',
      hash: H2,
      object: {
        apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
        kind: 'DPUServiceIPAM',
        metadata: { name: 'pool', namespace: 'dpf' },
        spec: { ipv4Subnet: { subnet: '10.0.0.0/24', gateway: '10.0.0.1', perNodeIPCount: 8 } },
      },
    }
    port.commitRevision({ revision: 1, upserts: [si('p0', 'p0', H1), nad, pool], removals: [] })
    expect(port.readStatus().phase).toBe('applying')
    const stored = store.objects.list().find((o) => o.kind === 'ServiceInterface')!
    const setReady = (status: 'True' | 'False') =>
      store.objects.setStatus(
        { apiVersion: stored.apiVersion, kind: stored.kind, namespace: 'dpf', name: 'p0' },
        { conditions: [{ type: 'Ready', status, reason: status === 'True' ? 'PortReady' : 'PortPending', message: '', lastTransitionTime: new Date().toISOString() }] },
      )
    setReady('True')
    expect(port.readStatus().phase).toBe('applied')
    setReady('False')
    expect(port.readStatus().phase).toBe('failed')
  })

  it('takes over a local object with the same key loudly: Warning event with the local spec, a warning log', () => {
    const log = recordingLogger()
    const port = createStoreAgentPort(store, { log })
    // Created on the DPU while the hub was away; the hub later sends an object with the same key.
    const local = { ...si('p0', 'eth-local', H1).object, metadata: { name: 'p0', namespace: 'dpf' } }
    store.objects.apply([local as never], { origin: 'local' })
    port.commitRevision({ revision: 1, upserts: [si('p0', 'p0', H1), si('p1', 'p1', H2)], removals: [] })

    const stored = store.objects.list().find((o) => o.metadata.name === 'p0')!
    expect(stored.metadata.origin).toBe('hub')
    expect((stored.spec as { physical: { interfaceName: string } }).physical.interfaceName).toBe('p0')
    const warnings = store.events.list({}).filter((e) => e.type === 'Warning')
    expect(warnings.map((e) => `${e.reason}:${e.object.name}`)).toEqual(['TakenOverByHub:p0'])
    expect(warnings[0]!.message).toContain('"interfaceName":"eth-local"')
    const lines = log.lines.filter((l) => l.level === 'warn')
    expect(lines).toHaveLength(1)
    expect(lines[0]!.msg).toContain('ServiceInterface/dpf/p0')
    expect(lines[0]!.fields).toMatchObject({ revision: 1, objects: ['ServiceInterface/dpf/p0'] })

    // A later hub revision of the same object is an ordinary update: no second warning.
    port.commitRevision({ revision: 2, upserts: [si('p0', 'p9', H2)], removals: [] })
    expect(store.events.list({}).filter((e) => e.type === 'Warning')).toHaveLength(1)
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1)
  })

  it('parses object keys whose apiVersion contains a slash', () => {
    expect(refFromKey('svc.dpu.nvidia.com/v1alpha1/ServiceChain/ns/c1')).toEqual({ apiVersion: 'svc.dpu.nvidia.com/v1alpha1', kind: 'ServiceChain', namespace: 'ns', name: 'c1' })
    expect(() => refFromKey('a/b')).toThrow(/not apiVersion\/kind\/namespace\/name/)
  })
})
