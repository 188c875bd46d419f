import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { ParsedObject } from '../../api/resources/kind.js'
import { parseManifest, render } from '../../test/support/federation-fixtures.js'
import { computeDelta, DeltaCache } from './delta-cache.js'
import { Planner } from './planner.js'

const SAMPLES = fileURLToPath(new URL('../samples/fleet/manifests/', import.meta.url))
const sampleFleet = (): ParsedObject[] =>
  readdirSync(SAMPLES)
    .sort()
    .flatMap((f) => parseManifest(readFileSync(join(SAMPLES, f), 'utf8'), f))

describe('planner', () => {
  it('renders the sample fleet per DPU by label and caches per generation', () => {
    const p = new Planner(render)
    expect(p.ready).toBe(false)
    p.setFleet(sampleFleet())
    const a = p.desiredFor({ name: 'dpu-a', labels: { zone: 'a' } })
    const b = p.desiredFor({ name: 'dpu-b', labels: { zone: 'b' } })
    expect([...a.objects.values()].map((o) => `${o.object.kind}/${o.object.metadata.name}`).sort()).toEqual(['ServiceChain/uplink-to-fw', 'ServiceInterface/fw-in', 'ServiceInterface/p0'])
    expect([...b.objects.values()].map((o) => o.object.kind)).toEqual(['ServiceInterface', 'ServiceInterface'])
    expect(p.desiredFor({ name: 'dpu-a', labels: { zone: 'a' } })).toBe(a)
    // The same content under a new generation keeps its hash and maps (sessions compare by identity).
    p.setFleet(sampleFleet())
    const again = p.desiredFor({ name: 'dpu-a', labels: { zone: 'a' } })
    expect(again.hash).toBe(a.hash)
    expect(again.hashes).toBe(a.hashes)
    expect(p.desiredFor({ name: 'dpu-a', labels: { zone: 'b' } }).objects.size).toBe(2)
  })

  it('shares one desired set between DPUs with the same labels (node name left out on the wire)', () => {
    let renders = 0
    const p = new Planner((obj, node) => (renders++, render(obj, node)))
    p.setFleet(sampleFleet())
    const sets = Array.from({ length: 50 }, (_, i) => p.desiredFor({ name: `dpu-${i}`, labels: { zone: 'a' } }))
    expect(new Set(sets).size).toBe(1)
    expect(renders).toBe(3)
    const chain = [...sets[0]!.objects.values()].find((o) => o.object.kind === 'ServiceChain')!
    expect(chain.nodeRelative).toBe(true)
    expect(chain.object.spec.node).toBeUndefined()
    // A node-level object pinned to one DPU is rendered per DPU and reaches only that one.
    const pinned: ParsedObject = {
      apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
      kind: 'ServiceChain',
      metadata: { name: 'pinned', namespace: 'x' },
      spec: { node: 'dpu-7', switches: [{ ports: [{ serviceInterface: { matchLabels: { a: 'b' } } }] }] },
    }
    p.setFleet([...sampleFleet(), pinned])
    expect(p.desiredFor({ name: 'dpu-7', labels: { zone: 'a' } }).objects.size).toBe(4)
    expect(p.desiredFor({ name: 'dpu-8', labels: { zone: 'a' } }).objects.size).toBe(3)
  })

  it('reports objects that fail to render or collide, and leaves them out', () => {
    const p = new Planner((obj) => {
      if (obj.metadata.name === 'bad') throw new Error('cannot render bad')
      return [{ ...obj, metadata: { ...obj.metadata, name: 'same' } }]
    })
    const mk = (name: string): ParsedObject => ({ apiVersion: 'svc.dpu.nvidia.com/v1alpha1', kind: 'ServiceChain', metadata: { name }, spec: {} })
    p.setFleet([mk('x'), mk('y'), mk('bad')])
    const d = p.desiredFor({ name: 'n', labels: {} })
    expect(d.objects.size).toBe(1)
    expect(d.issues.map((i) => i.message)).toEqual([expect.stringMatching(/another fleet object already renders/), 'cannot render bad'])
  })
})

describe('deltas', () => {
  it('sends changed and new objects plus explicit removals, and encodes each distinct delta once', () => {
    const p = new Planner(render)
    p.setFleet(sampleFleet())
    const a = p.desiredFor({ name: 'dpu-a', labels: { zone: 'a' } })
    const held = new Map([...a.hashes].filter(([k]) => !k.includes('ServiceChain')))
    held.set('svc.dpu.nvidia.com/v1alpha1/ServiceChain/x/gone', '00000000000000000000000000000000')
    const [firstKey] = [...held.keys()]
    held.set(firstKey!, 'ffffffffffffffffffffffffffffffff')
    const d = computeDelta(held, a)
    expect(d.upserts.map((u) => u.object.kind).sort()).toEqual(['ServiceChain', 'ServiceInterface'])
    expect(d.removals).toEqual(['svc.dpu.nvidia.com/v1alpha1/ServiceChain/x/gone'])
    const cache = new DeltaCache()
    const c1 = cache.chunksFor('from', a.hash, () => d)
    const c2 = cache.chunksFor('from', a.hash, () => {
      throw new Error('must not re-encode')
    })
    expect(c2).toBe(c1)
    expect(cache.encodes).toBe(1)
  })
})
