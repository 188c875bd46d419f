import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ParsedObject } from '../../api/resources/kind.js'
import { parseObject } from '../../api/resources/registry.js'
import { openStore, type Store } from '../store/index.js'
import { applyLocalObjects, deleteLocalObjects, RENDERED_FROM } from './local-desired.js'

const NODE = { name: 'dpu-a', labels: { rack: 'r1' } }
function dsi(name: string, rack: string, iface = 'p0'): ParsedObject {
  return parseObject({
    apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
    kind: 'DPUServiceInterface',
    metadata: { name, namespace: 'ns' },
    spec: {
      template: {
        spec: {
          nodeSelector: { matchLabels: { rack } },
          template: { metadata: { labels: { uplink: iface } }, spec: { interfaceType: 'physical', physical: { interfaceName: iface } } },
        },
      },
    },
  })
}
const siRef = (name: string) => ({ apiVersion: 'svc.dpu.nvidia.com/v1alpha1', kind: 'ServiceInterface', namespace: 'ns', name })
const dsiRef = (name: string) => ({ apiVersion: 'svc.dpu.nvidia.com/v1alpha1', kind: 'DPUServiceInterface', namespace: 'ns', name })

let dir: string
let store: Store
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'desired-test-'))
  store = openStore(join(dir, 'state.db'), { nodeName: NODE.name })
})
afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('applyLocalObjects', () => {
  it('stores the fleet object and its rendered node object, marks the fleet object Rendered and not yet Ready', () => {
    const out = applyLocalObjects(store, [dsi('up0', 'r1')], NODE)
    expect(out.rendered.map((r) => [r.object.kind, r.action])).toEqual([['ServiceInterface', 'created']])
    const si = store.objects.get(siRef('up0'))!
    expect(si.spec).toMatchObject({ node: 'dpu-a', interfaceType: 'physical' })
    expect(si.metadata.annotations?.[RENDERED_FROM]).toBe('DPUServiceInterface/ns/up0')
    const fleet = store.objects.get(dsiRef('up0'))!
    expect(fleet.status.conditions?.find((c) => c.type === 'Rendered')).toMatchObject({ status: 'True', reason: 'Rendered' })
    // Ready rolls up the rendered child, which no reconciler has seen yet.
    expect(fleet.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'Pending' })
    expect(fleet.status.observedGeneration).toBe(1)
  })

  it('prunes the rendered object when the node selector stops selecting this node', () => {
    applyLocalObjects(store, [dsi('up0', 'r1')], NODE)
    const out = applyLocalObjects(store, [dsi('up0', 'r2')], NODE)
    expect(out.pruned.map((r) => [r.ref.name, r.action])).toEqual([['up0', 'deleted']])
    expect(store.objects.get(siRef('up0'))).toBeUndefined()
    expect(store.objects.get(dsiRef('up0'))!.status.conditions?.[0]?.reason).toBe('NotSelected')
  })

  it('updates the rendered object when the template changes, and re-applying changes nothing', () => {
    applyLocalObjects(store, [dsi('up0', 'r1')], NODE)
    const rv = store.resourceVersion()
    const same = applyLocalObjects(store, [dsi('up0', 'r1')], NODE)
    expect(same.results[0]!.action).toBe('unchanged')
    expect(same.rendered[0]!.action).toBe('unchanged')
    expect(store.resourceVersion()).toBe(rv)
    applyLocalObjects(store, [dsi('up0', 'r1', 'p1')], NODE)
    expect(store.objects.get(siRef('up0'))!.metadata.generation).toBe(2)
  })

  it('rolls back the whole batch when a rendered object collides with a hub-owned one', () => {
    store.applyHubRevision(1, [{ apiVersion: 'svc.dpu.nvidia.com/v1alpha1', kind: 'ServiceInterface', metadata: { name: 'up0', namespace: 'ns' }, spec: { interfaceType: 'pf', pf: { pfID: 0 } } }], [])
    const before = JSON.stringify(store.dump())
    expect(() => applyLocalObjects(store, [dsi('other', 'r1'), dsi('up0', 'r1')], NODE)).toThrow(/owned by the federation hub/)
    expect(JSON.stringify(store.dump())).toBe(before)
  })
})

describe('deleteLocalObjects', () => {
  it('deletes the fleet object with its rendered objects, and only those', () => {
    applyLocalObjects(store, [dsi('up0', 'r1'), dsi('up1', 'r1', 'p1')], NODE)
    const out = deleteLocalObjects(store, [dsiRef('up0')])
    expect(out.pruned.map((r) => r.ref.name)).toEqual(['up0'])
    expect(store.objects.get(siRef('up0'))).toBeUndefined()
    expect(store.objects.get(siRef('up1'))).toBeDefined()
  })

  it('deletes a rendered object together with its fleet object in one request', () => {
    applyLocalObjects(store, [dsi('up0', 'r1')], NODE)
    const out = deleteLocalObjects(store, [siRef('up0'), dsiRef('up0')])
    expect(out.results.map((r) => r.action)).toEqual(['deleted', 'deleted'])
    expect(store.objects.list()).toEqual([])
  })
})

describe('rendered objects belong to their fleet object', () => {
  const si = (name: string, iface: string): ParsedObject =>
    parseObject({
      apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
      kind: 'ServiceInterface',
      metadata: { name, namespace: 'ns', labels: { uplink: iface } },
      spec: { interfaceType: 'physical', physical: { interfaceName: iface } },
    })
  const owned = 'ServiceInterface ns/up0 is rendered from DPUServiceInterface ns/up0; delete or edit that instead'

  it('refuses a direct delete or apply with desired.rendered-object, changing nothing', () => {
    applyLocalObjects(store, [dsi('up0', 'r1')], NODE)
    const before = JSON.stringify(store.dump())
    expect(() => deleteLocalObjects(store, [siRef('up0')])).toThrow(expect.objectContaining({ code: 'desired.rendered-object', message: owned }))
    expect(() => applyLocalObjects(store, [si('up0', 'p9')], NODE)).toThrow(owned)
    // Also when the object would come out unchanged, and when it hides in a batch with other objects.
    const same = store.objects.get(siRef('up0'))!
    expect(() => applyLocalObjects(store, [parseObject({ ...same, metadata: { name: 'up0', namespace: 'ns', labels: same.metadata.labels, annotations: same.metadata.annotations } })], NODE)).toThrow(
      owned,
    )
    expect(() => deleteLocalObjects(store, [dsiRef('other'), siRef('up0')], { missingOk: true })).toThrow(owned)
    expect(JSON.stringify(store.dump())).toBe(before)
  })

  it('refuses a request that both renders an object and writes it directly', () => {
    expect(() => applyLocalObjects(store, [dsi('up0', 'r1'), si('up0', 'p9')], NODE)).toThrow(
      'ServiceInterface ns/up0 is rendered from DPUServiceInterface ns/up0 in the same request; apply one or the other',
    )
    expect(store.objects.list()).toEqual([])
  })

  it('still lets the renderer update and prune it, and leaves an orphan (fleet object gone) editable', () => {
    applyLocalObjects(store, [dsi('up0', 'r1')], NODE)
    applyLocalObjects(store, [dsi('up0', 'r1', 'p1')], NODE)
    expect(store.objects.get(siRef('up0'))!.spec).toMatchObject({ physical: { interfaceName: 'p1' } })
    // An orphan: what an older build, or a hand edit of the database, may have left behind.
    store.objects.delete([dsiRef('up0')], { origin: 'local' })
    expect(store.objects.get(siRef('up0'))).toBeDefined()
    expect(deleteLocalObjects(store, [siRef('up0')]).results[0]!.action).toBe('deleted')
  })
})
