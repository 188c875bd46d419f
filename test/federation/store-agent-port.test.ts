/** Hub -> agent -> the real appliance store (createStoreAgentPort), over mTLS on loopback, in one process. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { createStoreAgentPort } from '../../appliance/federation/agent-port-impl.js'
import { openStore } from '../../appliance/store/index.js'
import { startAgent } from '../../federation/agent/agent.js'
import { DpuRegistry } from '../../federation/hub/dpu-registry.js'
import { startHub } from '../../federation/hub/hub.js'
import { ManifestDirSource } from '../../federation/hub/sources/manifest-dir.js'
import { chainYaml, INTERFACES_YAML, makePki, parseManifest, render, writeAtomic } from '../support/federation-fixtures.js'
import { until } from '../support/federation-processes.js'

const cleanups: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

it('stores hub objects in the appliance store, read-only, and resumes with a bookmark only', async () => {
  const pki = await makePki(['dpu-a'])
  cleanups.push(() => rm(pki.dir, { recursive: true, force: true }))
  const work = await mkdtemp(join(tmpdir(), 'fed-store-'))
  cleanups.push(() => rm(work, { recursive: true, force: true }))
  const manifests = join(work, 'm')
  await mkdir(manifests)
  await writeFile(join(work, 'dpus.yaml'), 'dpus:\n  dpu-a: {labels: {zone: a}}\n')
  await writeAtomic(join(manifests, 'if.yaml'), INTERFACES_YAML)
  await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a'))
  const hub = await startHub({
    dataDir: join(work, 'hub'),
    listen: '127.0.0.1:0',
    tls: await pki.tls('hub'),
    render,
    registry: new DpuRegistry(join(work, 'dpus.yaml')),
    sources: [new ManifestDirSource({ dir: manifests, parse: parseManifest, debounceMs: 20 })],
  })
  cleanups.push(() => hub.stop())
  const store = openStore(join(work, 'state.db'), { nodeName: 'dpu-a' })
  cleanups.push(() => store.close())
  const opts = { hub: `127.0.0.1:${hub.grpcPort}`, dpuName: 'dpu-a', tls: await pki.tls('dpu-a'), port: createStoreAgentPort(store), backoff: { initialMs: 20, maxMs: 100 } }
  let agent = startAgent(opts)
  await until(() => store.objects.list().length === 3, 5000, 'objects in the store')
  expect(store.objects.list().every((o) => o.metadata.origin === 'hub')).toBe(true)
  expect(store.objects.list().find((o) => o.kind === 'ServiceChain')?.spec).toMatchObject({ node: 'dpu-a' })
  const rev = store.revisions.read().applied?.revision
  await until(() => hub.sessions.get('dpu-a')?.inflight === null && hub.sessions.get('dpu-a')?.heldRevision === rev, 3000, 'ack')
  await agent.stop()

  agent = startAgent(opts)
  cleanups.push(() => agent.stop())
  await until(() => agent.state().connection === 'connected' && hub.sessions.get('dpu-a')?.inflight === null, 5000, 'reconnect')
  expect(agent.stats().revisionsApplied).toBe(0)
  expect(agent.stats().bytesReceived).toBeLessThan(100)
  expect(store.revisions.read().applied?.revision).toBe(rev)
})
