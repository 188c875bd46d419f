/**
 * Hub and agents in one process over real gRPC + mTLS on loopback, real SQLite files and a real manifest
 * directory (the process-level acceptance suite is test/federation/*.test.ts).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ApplianceError } from '../../api/errors.js'
import { AGENT_PORTS, type AgentPortKind, type TestAgentPort, type TestAgentPortOptions } from '../../test/support/agent-ports.js'
import { runDpuctl } from '../../test/support/appliance-process.js'
import { chainYaml, INTERFACES_YAML, makePki, parseManifest, removeDir, render, writeAtomic, type Pki } from '../../test/support/federation-fixtures.js'
import { startAgent, type RunningAgent } from '../agent/agent.js'
import { DpuRegistry } from './dpu-registry.js'
import { startHub, type RunningHub } from './hub.js'
import { ManifestDirSource } from './sources/manifest-dir.js'

let pki: Pki
let work: string
const cleanups: Array<() => Promise<void> | void> = []

beforeAll(async () => {
  pki = await makePki(['dpu-a', 'dpu-b'])
})
afterAll(async () => removeDir(pki?.dir))
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  await removeDir(work)
})

async function setup(): Promise<{ manifests: string; registry: string }> {
  work = await mkdtemp(join(tmpdir(), 'fed-hub-'))
  const manifests = join(work, 'manifests')
  await mkdir(manifests)
  const registry = join(work, 'dpus.yaml')
  await writeFile(registry, 'dpus:\n  dpu-a: {labels: {zone: a}}\n  dpu-b: {labels: {zone: b}}\n')
  return { manifests, registry }
}

async function hub(manifests: string, registry: string, dataDir = join(work, 'hub')): Promise<RunningHub> {
  const h = await startHub({
    dataDir,
    listen: '127.0.0.1:0',
    apiListen: '127.0.0.1:0',
    tls: await pki.tls('hub'),
    sources: [new ManifestDirSource({ dir: manifests, parse: parseManifest, debounceMs: 50 })],
    render,
    registry: new DpuRegistry(registry),
  })
  let stopped = false
  const stop = h.stop.bind(h)
  h.stop = async () => {
    if (stopped) return
    stopped = true
    await stop()
  }
  cleanups.push(() => h.stop())
  return h
}

function agent(name: string, grpcPort: number, port: TestAgentPort, extra: Partial<Parameters<typeof startAgent>[0]> = {}): Promise<RunningAgent> {
  return pki.tls(name).then((tls) => {
    const a = startAgent({ hub: `127.0.0.1:${grpcPort}`, dpuName: name, tls, port: port.port, backoff: { initialMs: 50, maxMs: 200 }, statusDebounceMs: 20, ...extra })
    cleanups.push(() => a.stop())
    return a
  })
}

let portKind: AgentPortKind

/** A DPU's agent port, of the kind the current `describe.each` row names. */
function store(name: string, opts?: TestAgentPortOptions): TestAgentPort {
  const p = portKind.open(work, name, opts)
  cleanups.push(() => p.close())
  return p
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<number> {
  const t0 = Date.now()
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
  return Date.now() - t0
}

const kinds = (p: TestAgentPort) =>
  p
    .objects()
    .map((o) => `${o.object.kind}/${o.object.metadata.name}`)
    .sort()

describe.each(AGENT_PORTS)('hub <-> agent over mTLS, into $name', (kind) => {
  beforeAll(() => {
    portKind = kind
  })

  it("renders per DPU by label and delivers exactly each node's objects", async () => {
    const { manifests, registry } = await setup()
    const h = await hub(manifests, registry)
    const pa = store('a')
    const pb = store('b')
    await agent('dpu-a', h.grpcPort, pa)
    await agent('dpu-b', h.grpcPort, pb)
    await until(() => h.sessions.size === 2, 5000, 'two sessions')
    await writeAtomic(join(manifests, 'interfaces.yaml'), INTERFACES_YAML)
    await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a'))
    await until(() => kinds(pa).length === 3 && kinds(pb).length === 2, 15_000, 'rendered objects')
    expect(kinds(pa)).toEqual(['ServiceChain/chain-a', 'ServiceInterface/p0', 'ServiceInterface/p0-sf'])
    expect(kinds(pb)).toEqual(['ServiceInterface/p0', 'ServiceInterface/p0-sf'])
    const chain = pa.objects().find((o) => o.object.kind === 'ServiceChain')!
    expect(chain.object.spec.node).toBe('dpu-a')

    // REST: per-DPU status with phases and lastContact.
    await until(
      async () => {
        const r = (await (await fetch(`http://127.0.0.1:${h.apiPort}/v1/fleet`)).json()) as { summary: { synced: number } }
        return r.summary.synced === 2
      },
      3000,
      'fleet synced',
    )
    const a = (await (await fetch(`http://127.0.0.1:${h.apiPort}/v1/dpus/dpu-a`)).json()) as {
      phase: string
      ackedRevision: number
      lastContact: string
      desired: unknown[]
      labels: Record<string, string>
    }
    expect(a.phase).toBe('synced')
    expect(a.ackedRevision).toBe(pa.readSyncState().appliedRevision)
    expect(Date.parse(a.lastContact)).toBeGreaterThan(Date.now() - 10_000)
    expect(a.desired).toHaveLength(3)
    expect(a.labels).toEqual({ zone: 'a' })
    expect((await fetch(`http://127.0.0.1:${h.apiPort}/v1/dpus/nope`)).status).toBe(404)
    const metrics = await (await fetch(`http://127.0.0.1:${h.apiPort}/metrics`)).text()
    expect(metrics).toMatch(/dpu_hub_connected_agents 2/)
    expect(metrics).toMatch(/dpu_hub_acks_total [1-9]/)
    expect((await fetch(`http://127.0.0.1:${h.apiPort}/readyz`)).status).toBe(200)

    // Removing the chain is an explicit removal on dpu-a only.
    const revB = pb.readSyncState().appliedRevision
    await rm(join(manifests, 'chain.yaml'))
    await until(() => kinds(pa).length === 2, 3000, 'chain removed')
    expect(pa.commits().at(-1)).toMatchObject({ upserts: 0, removals: 1 })
    expect(pb.readSyncState().appliedRevision).toBe(revB)
  })

  it('merges changes made while a push is in flight and sends deltas only after reconnect', async () => {
    const { manifests, registry } = await setup()
    await writeAtomic(join(manifests, 'interfaces.yaml'), INTERFACES_YAML)
    const h = await hub(manifests, registry)
    const pa = store('a')
    let a = await agent('dpu-a', h.grpcPort, pa)
    await until(() => kinds(pa).length === 2, 3000, 'initial sync')
    const first = pa.readSyncState().appliedRevision
    await a.stop()
    await until(() => h.sessions.size === 0, 3000, 'disconnect')

    await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a'))
    await until(() => h.planner.fleetObjects().length === 3, 3000, 'hub saw change')
    a = await agent('dpu-a', h.grpcPort, pa)
    await until(() => kinds(pa).length === 3, 3000, 'delta after reconnect')
    // Only the new object travelled: one upsert, and the revision moved forward by exactly one.
    expect(pa.commits().at(-1)).toEqual({ revision: first + 1, upserts: 1, removals: 0 })

    // Nothing new: a reconnect gets a bookmark only (no commit, a few dozen bytes).
    await a.stop()
    await until(() => h.sessions.size === 0, 3000, 'disconnect')
    const bytesBefore = (await h.metrics.pushBytes.get()).values[0]?.value ?? 0
    const commitsBefore = pa.commits().length
    a = await agent('dpu-a', h.grpcPort, pa)
    await until(() => a.state().connection === 'connected', 3000, 'reconnect')
    await until(async () => ((await h.metrics.acks.get()).values[0]?.value ?? 0) > 0 && h.sessions.get('dpu-a')?.inflight === null, 3000, 'bookmark acked')
    const bookmarkBytes = ((await h.metrics.pushBytes.get()).values[0]?.value ?? 0) - bytesBefore
    expect(bookmarkBytes).toBeGreaterThan(0)
    expect(bookmarkBytes).toBeLessThan(128)
    expect(pa.commits().length).toBe(commitsBefore)
  })

  it('never goes backwards after the hub database is deleted, and resends nothing unchanged', async () => {
    const { manifests, registry } = await setup()
    await writeAtomic(join(manifests, 'interfaces.yaml'), INTERFACES_YAML)
    await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a'))
    let h = await hub(manifests, registry)
    const pa = store('a')
    await agent('dpu-a', h.grpcPort, pa, { backoff: { initialMs: 20, maxMs: 100 } })
    await until(() => kinds(pa).length === 3, 3000, 'sync')
    const rev = pa.readSyncState().appliedRevision
    const commits = pa.commits().length
    const port = h.grpcPort
    await h.stop()
    await rm(join(work, 'hub'), { recursive: true, force: true })
    h = await startHub({
      dataDir: join(work, 'hub'),
      listen: `127.0.0.1:${port}`,
      tls: await pki.tls('hub'),
      render,
      registry: new DpuRegistry(registry),
      sources: [new ManifestDirSource({ dir: manifests, parse: parseManifest, debounceMs: 50 })],
    })
    cleanups.push(() => h.stop())
    await until(() => h.sessions.get('dpu-a')?.heldRevision === rev && h.sessions.get('dpu-a')?.inflight === null, 5000, 'reconnect to new hub')
    expect(pa.commits().length).toBe(commits)
    expect(h.db.get('dpu-a').hubRevision).toBe(rev)
    await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a', 'changed'))
    await until(() => pa.readSyncState().appliedRevision > rev, 3000, 'next revision')
    expect(pa.readSyncState().appliedRevision).toBe(rev + 1)
    expect(pa.commits().at(-1)).toMatchObject({ upserts: 1, removals: 0 })
  })

  it('nacks an invalid revision, keeps the last good one, and does not retry the same content', async () => {
    const { manifests, registry } = await setup()
    await writeAtomic(join(manifests, 'interfaces.yaml'), INTERFACES_YAML)
    const h = await hub(manifests, registry)
    const pa = store('a', {
      validate: (o) => {
        if (o.metadata.annotations?.note === 'poison') throw new ApplianceError('api.validation', 'poisoned object', { issues: [{ path: 'metadata.annotations.note', message: 'poison' }] })
      },
    })
    await agent('dpu-a', h.grpcPort, pa)
    await until(() => kinds(pa).length === 2, 3000, 'sync')
    const good = pa.readSyncState().appliedRevision
    await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a', 'poison'))
    await until(async () => ((await h.metrics.nacks.get()).values[0]?.value ?? 0) === 1, 3000, 'nack')
    expect(pa.readSyncState().appliedRevision).toBe(good)
    expect(kinds(pa)).toHaveLength(2)
    const view = (await (await fetch(`http://127.0.0.1:${h.apiPort}/v1/dpus/dpu-a`)).json()) as { phase: string; lastNack: { error: { code: string; issues: unknown[] } } }
    expect(view.phase).toBe('rejected')
    expect(view.lastNack.error.code).toBe('api.validation')
    // Fixing forward is a new revision.
    await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a', 'fixed'))
    await until(() => kinds(pa).length === 3, 15_000, 'fixed revision')
    expect(pa.readSyncState().appliedRevision).toBeGreaterThan(good)
    // One push in flight per agent, in order: had the poisoned content been sent again before the fix, it would
    // have been nacked again by now.
    expect((await h.metrics.nacks.get()).values[0]?.value).toBe(1)
  })

  it('answers heartbeats, so an idle agent keeps a fresh lastHubContact', async () => {
    const { manifests, registry } = await setup()
    await writeAtomic(join(manifests, 'interfaces.yaml'), INTERFACES_YAML)
    const h = await hub(manifests, registry)
    const pa = store('a')
    const a = await agent('dpu-a', h.grpcPort, pa, { heartbeatMs: 50 })
    await until(() => a.state().connection === 'connected' && kinds(pa).length === 2, 3000, 'sync')
    const first = Date.parse(a.state().lastHubContact!)
    const messages = a.stats().messagesReceived
    await until(() => a.stats().messagesReceived >= messages + 3, 3000, 'heartbeat answers')
    expect(Date.parse(a.state().lastHubContact!)).toBeGreaterThan(first)
    expect(pa.commits()).toHaveLength(1)
  })

  it('refuses a hello that names another DPU than the certificate', async () => {
    const { manifests, registry } = await setup()
    await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-b', 'b'))
    const h = await hub(manifests, registry)
    const evil = store('evil')
    // dpu-a's certificate, claiming to be dpu-b.
    const tls = await pki.tls('dpu-a')
    const a = startAgent({ hub: `127.0.0.1:${h.grpcPort}`, dpuName: 'dpu-b', tls, port: evil.port, backoff: { initialMs: 1000, maxMs: 1000 } })
    cleanups.push(() => a.stop())
    await until(() => a.state().lastError?.code === 'federation.identity', 3000, 'identity error')
    expect(a.state().lastError?.message).toMatch(/certificate identifies "dpu-a" but hello claims "dpu-b"/)
    expect(evil.objects()).toEqual([])
    expect(h.sessions.size).toBe(0)
  })
})

describe('large removals (issue #14)', () => {
  it("holds a change that would remove most of a DPU's objects until confirmed; a deleted file is not held", async () => {
    const { manifests, registry } = await setup()
    await writeAtomic(join(manifests, 'interfaces.yaml'), INTERFACES_YAML)
    await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a'))
    const h = await hub(manifests, registry)
    const pa = store('a')
    await agent('dpu-a', h.grpcPort, pa)
    await until(() => kinds(pa).length === 3, 5000, 'three objects on dpu-a')
    const fleet = async () =>
      (await (await fetch(`http://127.0.0.1:${h.apiPort}/v1/fleet`)).json()) as { heldChange: { source: string; removals: Record<string, { removed: number; of: number }> } | null }

    // Edited, not deleted: the file now holds nothing. 2 of dpu-a's 3 objects would go: held.
    await writeAtomic(join(manifests, 'interfaces.yaml'), '# emptied by mistake\n')
    await until(() => h.heldChange() !== null, 5000, 'the change held')
    expect((await fleet()).heldChange).toMatchObject({ source: 'manifest-dir', removals: { 'dpu-a': { removed: 2, of: 3 } } })
    expect(await (await fetch(`http://127.0.0.1:${h.apiPort}/metrics`)).text()).toMatch(/dpu_hub_held_source_changes 1/)
    const rev = pa.readSyncState().appliedRevision
    expect(kinds(pa)).toHaveLength(3)

    const confirm = await runDpuctl(['hub', 'confirm', '--api', `127.0.0.1:${h.apiPort}`])
    expect(confirm.code, confirm.stderr).toBe(0)
    expect(confirm.stdout).toContain('dpu-a')
    await until(() => pa.readSyncState().appliedRevision > rev, 5000, 'the confirmed change applied')
    expect(kinds(pa)).toEqual(['ServiceChain/chain-a'])
    expect(h.heldChange()).toBeNull()
    expect((await fetch(`http://127.0.0.1:${h.apiPort}/v1/fleet/confirm`, { method: 'POST' })).status).toBe(404)

    // Back to three, then the file is deleted: a removal on purpose, applied without confirmation.
    await writeAtomic(join(manifests, 'interfaces.yaml'), INTERFACES_YAML)
    await until(() => kinds(pa).length === 3, 5000, 'three objects again')
    await rm(join(manifests, 'interfaces.yaml'))
    await until(() => kinds(pa).length === 1, 5000, "the deleted file's objects removed")
    expect(h.heldChange()).toBeNull()
  })
})
