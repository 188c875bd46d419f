import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ParsedObject } from '../../api/resources/kind.js'
import { openStore, type Store } from './store.js'
import type { WatchEvent } from './watch.js'
import { ApplianceError } from '../../api/errors.js'

const AV = 'svc.dpu.nvidia.com/v1alpha1'
function si(name: string, spec: Record<string, unknown> = { interfaceType: 'physical', physical: { interfaceName: 'p0' } }, meta: Partial<ParsedObject['metadata']> = {}): ParsedObject {
  return { apiVersion: AV, kind: 'ServiceInterface', metadata: { name, namespace: 'ns1', ...meta }, spec }
}
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof ApplianceError ? err.code : `not an ApplianceError: ${String(err)}`
  }
  return undefined
}

let dir: string
let store: Store
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-test-'))
  store = openStore(join(dir, 'state.db'), { nodeName: 'dpu-a', eventCapacity: 50 })
})
afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('objects.apply', () => {
  it('creates with uid, generation 1, a Pending Ready condition and origin', () => {
    const [r] = store.objects.apply([si('a')], { origin: 'local' })
    expect(r!.action).toBe('created')
    const o = store.objects.get({ apiVersion: AV, kind: 'ServiceInterface', namespace: 'ns1', name: 'a' })!
    expect(o.metadata.uid).toMatch(/^[0-9a-f-]{36}$/)
    expect(o.metadata.generation).toBe(1)
    expect(o.metadata.origin).toBe('local')
    expect(o.metadata.resourceVersion).toBe('1')
    expect(o.status.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'Unknown', reason: 'Pending' })])
  })

  it('bumps generation only when the canonical spec changes; labels bump resourceVersion only', () => {
    store.objects.apply([si('a', { b: 1, a: 2 })], { origin: 'local' })
    const same = store.objects.apply([si('a', { a: 2, b: 1 })], { origin: 'local' })[0]!
    expect(same.action).toBe('unchanged')
    expect(same.object.metadata.resourceVersion).toBe('1')
    const labelled = store.objects.apply([si('a', { a: 2, b: 1 }, { labels: { x: 'y' } })], { origin: 'local' })[0]!
    expect(labelled.action).toBe('configured')
    expect(labelled.object.metadata.generation).toBe(1)
    expect(labelled.object.metadata.resourceVersion).toBe('2')
    expect(labelled.object.metadata.labels).toEqual({ x: 'y' })
    const changed = store.objects.apply([si('a', { a: 3, b: 1 }, { labels: { x: 'y' } })], { origin: 'local' })[0]!
    expect(changed.object.metadata.generation).toBe(2)
    expect(changed.object.metadata.resourceVersion).toBe('3')
    expect(changed.object.metadata.uid).toBe(labelled.object.metadata.uid)
  })

  it('marks objects for another node Ready=False/OtherNode, and back to Pending when moved here', () => {
    const other = store.objects.apply([si('b', { node: 'dpu-z' })], { origin: 'local' })[0]!
    expect(other.object.status.conditions![0]).toMatchObject({ status: 'False', reason: 'OtherNode' })
    expect(other.object.status.conditions![0]!.message).toContain('dpu-z')
    const mine = store.objects.apply([si('b', { node: 'dpu-a' })], { origin: 'local' })[0]!
    expect(mine.object.status.conditions![0]).toMatchObject({ status: 'Unknown', reason: 'Pending' })
  })

  it('is all-or-nothing: a failing object leaves the store as it was and tells no watcher', () => {
    store.objects.apply([si('a')], { origin: 'local' })
    store.applyHubRevision(5, [si('hubbed')], [])
    const before = JSON.stringify(store.dump())
    const seen: WatchEvent[] = []
    store.watch((e) => seen.push(e))
    expect(codeOf(() => store.objects.apply([si('new1'), si('a', { x: 1 }), si('hubbed', { x: 2 })], { origin: 'local' }))).toBe('store.read-only')
    expect(codeOf(() => store.objects.apply([si('new2'), si('new2')], { origin: 'local' }))).toBe('api.duplicate-object')
    expect(codeOf(() => store.objects.apply([si('new3'), si('a', { x: 1 }, { resourceVersion: '999' })], { origin: 'local' }))).toBe('store.conflict')
    expect(codeOf(() => store.objects.apply([si('new4', {}, { resourceVersion: '1' })], { origin: 'local' }))).toBe('store.conflict')
    expect(JSON.stringify(store.dump())).toBe(before)
    expect(seen).toEqual([])
    // and the resourceVersion counter did not move either
    expect(store.objects.apply([si('c')], { origin: 'local' })[0]!.object.metadata.resourceVersion).toBe('3')
  })

  it('accepts a matching resourceVersion precondition', () => {
    const a = store.objects.apply([si('a')], { origin: 'local' })[0]!
    const r = store.objects.apply([si('a', { v: 2 }, { resourceVersion: a.object.metadata.resourceVersion })], { origin: 'local' })[0]!
    expect(r.object.metadata.generation).toBe(2)
  })

  it('lets the hub take over a local object but not the reverse', () => {
    store.objects.apply([si('a')], { origin: 'local' })
    const r = store.applyHubRevision(1, [si('a')], [])
    expect(r.applied[0]!.object.metadata.origin).toBe('hub')
    expect(codeOf(() => store.objects.apply([si('a', { v: 9 })], { origin: 'local' }))).toBe('store.read-only')
    expect(codeOf(() => store.objects.delete([r.applied[0]!.ref], { origin: 'local' }))).toBe('store.read-only')
  })
})

describe('list, delete, status', () => {
  it('lists by kind, namespace and label selector in key order', () => {
    store.objects.apply(
      [
        si('z', {}, { labels: { tier: 'a', uplink: 'p0' } }),
        si('m', {}, { labels: { tier: 'b' } }),
        { ...si('n'), metadata: { name: 'n', namespace: 'ns2' } },
        { apiVersion: AV, kind: 'ServiceChain', metadata: { name: 'c' }, spec: {} },
      ],
      { origin: 'local' },
    )
    expect(store.objects.list({ kind: 'ServiceInterface' }).map((o) => o.metadata.name)).toEqual(['m', 'z', 'n'])
    expect(store.objects.list({ kind: 'ServiceInterface', namespace: 'ns2' }).map((o) => o.metadata.name)).toEqual(['n'])
    expect(store.objects.list({ labelSelector: 'tier in (a,b),!uplink' }).map((o) => o.metadata.name)).toEqual(['m'])
    expect(store.objects.list({ labelSelector: 'tier!=b' }).map((o) => o.metadata.name)).toEqual(['c', 'z', 'n'])
    expect(store.objects.list({ kind: 'ServiceChain' })[0]!.metadata.namespace).toBe('default')
    expect(codeOf(() => store.objects.list({ labelSelector: 'a=(' }))).toBe('api.validation')
  })

  it('deletes in one transaction and reports missing objects unless missingOk', () => {
    const [a, b] = store.objects.apply([si('a'), si('b')], { origin: 'local' })
    const missing = { ...a!.ref, name: 'nope' }
    expect(codeOf(() => store.objects.delete([a!.ref, missing], { origin: 'local' }))).toBe('store.not-found')
    expect(store.objects.get(a!.ref)).toBeDefined()
    const res = store.objects.delete([a!.ref, missing], { origin: 'local', missingOk: true })
    expect(res.map((r) => r.action)).toEqual(['deleted', 'not-found'])
    expect(store.objects.get(a!.ref)).toBeUndefined()
    expect(store.objects.get(b!.ref)).toBeDefined()
  })

  it('sets status without bumping generation, and an identical status is a no-op', () => {
    const [a] = store.objects.apply([si('a')], { origin: 'local' })
    const status = { phase: 'Ready', observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Ok', message: '', lastTransitionTime: 't' }] }
    const s1 = store.objects.setStatus(a!.ref, status)
    expect(s1.metadata.generation).toBe(1)
    expect(s1.metadata.resourceVersion).toBe('2')
    expect(store.objects.setStatus(a!.ref, status).metadata.resourceVersion).toBe('2')
    expect(store.objects.get(a!.ref)!.status).toEqual(status)
  })
})

describe('watch', () => {
  it('delivers ADDED/MODIFIED/DELETED after commit with increasing resourceVersions, and resumes', () => {
    const seen: WatchEvent[] = []
    const stop = store.watch((e) => seen.push(e))
    store.batch(() => {
      store.objects.apply([si('a')], { origin: 'local' })
      expect(seen).toEqual([]) // not yet committed
      store.objects.apply([si('a', { v: 2 })], { origin: 'local' })
    })
    const [a] = store.objects.delete([{ apiVersion: AV, kind: 'ServiceInterface', namespace: 'ns1', name: 'a' }], { origin: 'local' })
    expect(seen.map((e) => [e.type, e.resourceVersion])).toEqual([
      ['ADDED', 1],
      ['MODIFIED', 2],
      ['DELETED', 3],
    ])
    expect(a!.object!.metadata.resourceVersion).toBe('3')
    stop()
    store.objects.apply([si('b')], { origin: 'local' })
    expect(seen).toHaveLength(3)
    const resumed: WatchEvent[] = []
    store.watch((e) => resumed.push(e), { sinceResourceVersion: 2 })
    expect(resumed.map((e) => e.type)).toEqual(['DELETED', 'ADDED'])
  })

  it('refuses to resume from before what it holds after a reopen', () => {
    store.objects.apply([si('a'), si('b')], { origin: 'local' })
    store.close()
    store = openStore(join(dir, 'state.db'))
    expect(store.resourceVersion()).toBe(2)
    expect(codeOf(() => store.watch(() => {}, { sinceResourceVersion: 1 }))).toBe('store.expired')
    expect(codeOf(() => store.watch(() => {}, { sinceResourceVersion: 2 }))).toBeUndefined()
  })
})

describe('events, revisions, meta, durability of reopen', () => {
  it('keeps a bounded event ring queryable per object', () => {
    for (let i = 0; i < 40; i++) store.objects.apply([si('a', { i }), si('b', { i })], { origin: 'local' })
    expect(store.events.all()).toHaveLength(50)
    const forA = store.events.list({ kind: 'ServiceInterface', namespace: 'ns1', name: 'a', limit: 3 })
    expect(forA.map((e) => e.object.name)).toEqual(['a', 'a', 'a'])
    expect(forA[0]!.message).toContain('generation 40')
  })

  it('records hub revisions atomically with objects and survives reopen', () => {
    store.applyHubRevision(7, [si('h1'), si('h2')], [])
    store.revisions.set('acknowledged', 7)
    store.meta.set('hub.endpoint', 'hub:443')
    const r = store.applyHubRevision(8, [si('h1', { v: 2 })], [{ apiVersion: AV, kind: 'ServiceInterface', namespace: 'ns1', name: 'h2' }])
    expect(r.removed[0]!.action).toBe('deleted')
    expect(() => store.applyHubRevision(9, [si('h3'), si('h3')], [])).toThrow()
    const before = store.dump()
    store.close()
    store = openStore(join(dir, 'state.db'))
    expect(store.dump()).toEqual(before)
    expect(store.revisions.read().applied?.revision).toBe(8)
    expect(store.revisions.read().acknowledged?.revision).toBe(7)
    expect(store.meta.get('hub.endpoint')).toBe('hub:443')
    expect(store.integrityCheck()).toBe('ok')
    const stats = store.stats()
    expect(stats.totalObjects).toBe(1)
    expect(stats.fileBytes).toBeGreaterThan(0)
  })

  it('records the host namespaces and veths the appliance creates, once each, across a reopen', () => {
    store.hostResources.record({ kind: 'netns', name: 'svc-a' })
    store.hostResources.record({ kind: 'veth', name: 'sv0123456789', netns: 'ovs-ns' })
    store.hostResources.record({ kind: 'netns', name: 'svc-a' })
    store.close()
    store = openStore(join(dir, 'state.db'))
    expect(store.hostResources.list().map(({ createdAt: _, ...r }) => r)).toEqual([
      { kind: 'netns', name: 'svc-a' },
      { kind: 'veth', name: 'sv0123456789', netns: 'ovs-ns' },
    ])
    // A veth of that name in our own namespace is another record.
    expect(store.hostResources.forget({ kind: 'veth', name: 'sv0123456789' })).toBe(false)
    expect(store.hostResources.forget({ kind: 'veth', name: 'sv0123456789', netns: 'ovs-ns' })).toBe(true)
    expect(store.dump().hostResources.map((r) => r.name)).toEqual(['svc-a'])
  })
})
