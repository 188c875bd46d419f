import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { ParsedObject } from '../../../api/resources/kind.js'
import { chainYaml, INTERFACES_YAML, parseManifest, writeAtomic } from '../../../test/support/federation-fixtures.js'
import { HubDb } from '../hub-db.js'
import { ManifestDirSource } from './manifest-dir.js'

let dir: string | undefined
let source: ManifestDirSource | undefined
afterEach(async () => {
  await source?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

async function next(snapshots: Array<readonly ParsedObject[]>, count: number): Promise<readonly ParsedObject[]> {
  const t0 = Date.now()
  while (snapshots.length < count) {
    if (Date.now() - t0 > 15_000) throw new Error(`no snapshot #${count}`)
    await new Promise((r) => setTimeout(r, 10))
  }
  return snapshots[count - 1]!
}

describe('manifest directory source', () => {
  it("reads nested YAML, reacts to changes, and keeps a broken file's last good objects", async () => {
    dir = await mkdtemp(join(tmpdir(), 'manifests-'))
    await mkdir(join(dir, 'svc'))
    await writeFile(join(dir, 'svc', 'interfaces.yaml'), INTERFACES_YAML)
    await writeFile(join(dir, '.hidden.yaml'), 'not: [valid')
    await writeFile(join(dir, 'README.md'), '# ignored')
    const snapshots: Array<readonly ParsedObject[]> = []
    source = new ManifestDirSource({ dir, parse: parseManifest, debounceMs: 20, rescanMs: 200 })
    await source.start((s) => snapshots.push(s))
    expect(source.synced()).toBe(true)
    expect((await next(snapshots, 1)).map((o) => o.metadata.name).sort()).toEqual(['p0', 'p0-sf'])

    await writeAtomic(join(dir, 'chain.yaml'), chainYaml('c1', 'a'))
    expect((await next(snapshots, 2)).map((o) => o.kind).sort()).toEqual(['DPUServiceChain', 'DPUServiceInterface', 'DPUServiceInterface'])

    await writeAtomic(join(dir, 'chain.yaml'), 'apiVersion: svc.dpu.nvidia.com/v1alpha1\nkind: DPUServiceChain\nmetadata: {name: c1}\nspec: {template: 3}\n')
    const afterBreak = await next(snapshots, 3)
    expect(afterBreak.map((o) => o.metadata.name).sort()).toEqual(['c1', 'p0', 'p0-sf'])
    expect(Object.keys(source.errors())).toEqual([join(dir, 'chain.yaml')])

    await rm(join(dir, 'chain.yaml'))
    expect((await next(snapshots, 4)).map((o) => o.metadata.name).sort()).toEqual(['p0', 'p0-sf'])
    expect(source.errors()).toEqual({})
  })

  it('sees a file replaced by rename in a subdirectory at once, without waiting for the rescan', async () => {
    dir = await mkdtemp(join(tmpdir(), 'manifests-'))
    await mkdir(join(dir, 'zone-a'))
    await writeAtomic(join(dir, 'zone-a', 'chain.yaml'), chainYaml('c1', 'a', 'v0'))
    const snapshots: Array<readonly ParsedObject[]> = []
    // A rescan period far beyond the test: only the watchers can see these changes.
    source = new ManifestDirSource({ dir, parse: parseManifest, debounceMs: 20, rescanMs: 600_000 })
    await source.start((s) => snapshots.push(s))
    for (let i = 1; i <= 6; i++) {
      // Alternate the root and a subdirectory; the old file is removed from where it was.
      const [from, to] = i % 2 ? [join(dir, 'zone-a', 'chain.yaml'), join(dir, 'chain.yaml')] : [join(dir, 'chain.yaml'), join(dir, 'zone-a', 'chain.yaml')]
      await rm(from)
      await writeAtomic(to, chainYaml('c1', 'a', `v${i}`))
      let snap = await next(snapshots, snapshots.length + 1)
      // The removal and the write may land in one scan or two: wait for the one carrying v<i>.
      while (!JSON.stringify(snap).includes(`"note":"v${i}"`)) snap = await next(snapshots, snapshots.length + 1)
      expect(JSON.stringify(snap[0]!.spec)).toContain(`"note":"v${i}"`)
    }
  })
})

describe('manifest directory source with the hub database', () => {
  it("starts from a file's last good objects when the file is broken at start (a write cut short by a crash)", async () => {
    dir = await mkdtemp(join(tmpdir(), 'manifests-'))
    const dataDir = await mkdtemp(join(tmpdir(), 'hubdb-'))
    try {
      await writeFile(join(dir, 'interfaces.yaml'), INTERFACES_YAML)
      await writeFile(join(dir, 'chain.yaml'), chainYaml('c1', 'a'))
      let db = new HubDb(join(dataDir, 'hub.db'))
      let snapshots: Array<readonly ParsedObject[]> = []
      source = new ManifestDirSource({ dir, parse: parseManifest, debounceMs: 20, rescanMs: 600_000 })
      source.useStore(db.sourceStore(source.name))
      await source.start((s) => snapshots.push(s))
      expect(snapshots[0]!.map((o) => o.metadata.name).sort()).toEqual(['c1', 'p0', 'p0-sf'])
      await source.stop()
      db.close()

      // The "crash": the hub is gone while chain.yaml is half written.
      const full = chainYaml('c1', 'a')
      await writeFile(join(dir, 'chain.yaml'), full.slice(0, Math.floor(full.length / 2)) + '\n  - [broken')
      db = new HubDb(join(dataDir, 'hub.db'))
      snapshots = []
      source = new ManifestDirSource({ dir, parse: parseManifest, debounceMs: 20, rescanMs: 600_000 })
      source.useStore(db.sourceStore(source.name))
      await source.start((s) => snapshots.push(s))
      expect(snapshots[0]!.map((o) => o.metadata.name).sort()).toEqual(['c1', 'p0', 'p0-sf'])
      expect(Object.keys(source.errors())).toEqual([join(dir, 'chain.yaml')])
      await source.stop()
      db.close()

      // Removed while the hub was down: that is a delete on purpose, and the stored version goes with it.
      await rm(join(dir, 'chain.yaml'))
      db = new HubDb(join(dataDir, 'hub.db'))
      snapshots = []
      source = new ManifestDirSource({ dir, parse: parseManifest, debounceMs: 20, rescanMs: 600_000 })
      source.useStore(db.sourceStore(source.name))
      await source.start((s) => snapshots.push(s))
      expect(snapshots[0]!.map((o) => o.metadata.name).sort()).toEqual(['p0', 'p0-sf'])
      expect([...db.sourceStore('manifest-dir').load().keys()]).toEqual(['interfaces.yaml'])
      db.close()
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
