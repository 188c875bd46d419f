/**
 * The Kubernetes source against FakeKubeApiServer (test/support/fake-kube-api-server.ts), a FAKE API server over
 * HTTPS (no kube-apiserver can run here), through the real @kubernetes/client-node client and a kubeconfig with
 * certificate-authority-data: TLS is verified, the bearer token is sent. Covers list, watch, bookmarks, 410 Gone
 * (in the stream and at HTTP level), 403 and 500 on list and on watch, an ERROR event inside the watch, invalid
 * objects (Warning Events written back, errors in the hub API) and a missing CRD.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseObject } from '../../../api/resources/registry.js'
import type { ParsedObject } from '../../../api/resources/kind.js'
import { KubernetesSource } from './kubernetes.js'
import { loadClientNodeTransport } from './kube-client-node.js'
import type { KubeTransport } from './kube-transport.js'
import { startHub, type RunningHub } from '../hub.js'
import { recordingLogger } from '../../../test/support/recording-logger.js'
import { FakeKubeApiServer, type FakeObject } from '../../../test/support/fake-kube-api-server.js'
import { render } from '../../../test/support/federation-fixtures.js'
import { until as untilAsync } from '../../../test/support/until.js'

type Obj = FakeObject

/** Liveness waits: generous, the machine is shared and slow. */
const WAIT_MS = 30_000

const chain = (name: string): Obj => ({
  apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
  kind: 'DPUServiceChain',
  metadata: { name, namespace: 'dpf' },
  spec: { template: { spec: { template: { spec: { switches: [{ ports: [{ serviceInterface: { matchLabels: { uplink: 'p0' } } }] }] } } } } },
})

let fake: FakeKubeApiServer | undefined
let source: KubernetesSource | undefined
let hub: RunningHub | undefined
afterEach(async () => {
  await hub?.stop()
  await source?.stop()
  await fake?.stop()
  hub = undefined
  source = undefined
  fake = undefined
})

const names = (s: readonly ParsedObject[]) =>
  s
    .map((o) => o.metadata.name)
    .sort()
    .join(',')

/** Waits until `pred` holds (polled), failing with what was awaited and the fake's and source's state. */
async function until(pred: () => boolean, what: string): Promise<void> {
  const t0 = Date.now()
  while (!pred()) {
    if (Date.now() - t0 > WAIT_MS) throw new Error(`timed out waiting for ${what}; requests ${JSON.stringify(fake?.requests)} errors ${JSON.stringify(source?.errors())}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function waitFor(snapshots: Array<readonly ParsedObject[]>, pred: (s: readonly ParsedObject[]) => boolean, what: string): Promise<readonly ParsedObject[]> {
  await until(
    () => {
      const last = snapshots.at(-1)
      return last !== undefined && pred(last)
    },
    `${what} (last snapshot: ${JSON.stringify(snapshots.at(-1)?.map((o) => o.metadata.name))})`,
  )
  return snapshots.at(-1)!
}

/** The product transport over a kubeconfig naming the fake by https URL and CA data. */
async function transportFor(f: FakeKubeApiServer): Promise<KubeTransport> {
  const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'))
  try {
    return await loadClientNodeTransport(await f.writeKubeconfig(dir))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const KIND = { group: 'svc.dpu.nvidia.com', version: 'v1alpha1', plural: 'dpuservicechains' }
const PLURAL = KIND.plural
const watches = () => fake!.requests.filter((r) => r.method === 'GET' && r.watch)
const lists = () => fake!.requests.filter((r) => r.method === 'GET' && !r.watch).length
const eventPosts = () => fake!.requests.filter((r) => r.method === 'POST' && r.plural === 'events').length

/** Starts the fake (if not yet) and a source on it; returns the snapshots it delivers. */
async function startSource(o: { retryMs?: number; logger?: ReturnType<typeof recordingLogger> } = {}): Promise<Array<readonly ParsedObject[]>> {
  await fake!.start()
  const snapshots: Array<readonly ParsedObject[]> = []
  source = new KubernetesSource({
    transport: await transportFor(fake!),
    kinds: [KIND],
    parse: (raw) => parseObject(raw),
    debounceMs: 20,
    retryMs: o.retryMs ?? 30_000,
    ...(o.logger ? { logger: o.logger } : {}),
  })
  await source.start((s) => snapshots.push(s))
  return snapshots
}

const broken = (name: string, template: unknown, namespace = 'dpf'): Obj => ({ ...chain(name), metadata: { name, namespace, annotations: { note: 'broken' } }, spec: { template } })

describe('Kubernetes source over @kubernetes/client-node, against a fake API server over TLS', () => {
  it('lists, watches, follows bookmarks and relists after 410 Gone, verifying the server certificate and sending the token', async () => {
    fake = new FakeKubeApiServer()
    fake.apply(PLURAL, chain('c1'))
    const snapshots = await startSource({ retryMs: 100 })

    await waitFor(snapshots, (s) => names(s) === 'c1', 'initial list')
    expect(source!.synced()).toBe(true)
    fake.apply(PLURAL, chain('c2'))
    await waitFor(snapshots, (s) => names(s) === 'c1,c2', 'watch ADDED')
    fake.remove(PLURAL, chain('c1'))
    await waitFor(snapshots, (s) => names(s) === 'c2', 'watch DELETED')

    // Bookmarks advance the resourceVersion a re-watch starts from, without any snapshot.
    const sent = fake.bookmarksSent
    await until(() => fake!.bookmarksSent >= sent + 2, 'bookmarks after the last object event')
    const listsBefore = lists()
    // Outage: the API server is unreachable while an object changes and history is compacted past our RV.
    fake.down = true
    fake.dropWatches()
    fake.apply(PLURAL, chain('c3'))
    fake.compact()
    await until(() => fake!.refused > 0, 'a request refused during the outage')
    fake.down = false
    await waitFor(snapshots, (s) => names(s) === 'c2,c3', 'relist after 410')
    expect(lists()).toBe(listsBefore + 1)
    expect(watches().length).toBeGreaterThanOrEqual(2)
    expect(watches().every((w) => w.resourceVersion !== null && w.resourceVersion !== '')).toBe(true)
    // A bookmark moved the watch position past the last object event before the watch was dropped.
    expect(watches().some((w) => !fake!.objectVersions.has(w.resourceVersion!))).toBe(true)
    expect(fake.authorization.length).toBeGreaterThan(0)
    expect(fake.authorization.every((a) => a === 'Bearer test-token')).toBe(true)
  })

  it('refuses a server whose certificate the kubeconfig CA did not sign: list fails (reported), nothing is served', async () => {
    fake = new FakeKubeApiServer()
    fake.apply(PLURAL, chain('c1'))
    const port = await fake.start()
    const other = new FakeKubeApiServer()
    await other.start()
    const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'))
    // Another fake's kubeconfig (so another CA), pointed at this fake.
    const path = await other.writeKubeconfig(dir)
    await other.stop()
    await writeFile(path, (await readFile(path, 'utf8')).replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`))
    const transport = await loadClientNodeTransport(path).finally(() => rm(dir, { recursive: true, force: true }))
    const snapshots: Array<readonly ParsedObject[]> = []
    source = new KubernetesSource({ transport, kinds: [KIND], parse: (raw) => parseObject(raw), debounceMs: 20 })
    await source.start((s) => snapshots.push(s))
    await until(() => Object.values(source!.errors()).join().includes('list failed'), 'the TLS failure reported')
    expect(source.synced()).toBe(false)
    expect(snapshots).toEqual([])
    expect(fake.requests).toEqual([])
  })
})

describe('Kubernetes source failures never become deletes, and are reported (issue #14)', () => {
  it('watch answered 403 forever: reported (errors, log) and retried with a growing backoff, not ~5 a second', async () => {
    fake = new FakeKubeApiServer()
    fake.apply(PLURAL, chain('c1'))
    fake.fail.watch = 403
    const logger = recordingLogger()
    const snapshots = await startSource({ logger })
    await waitFor(snapshots, (s) => names(s) === 'c1', 'initial list')
    await until(() => Object.keys(source!.errors()).length > 0, 'the watch failure reported')
    expect(Object.values(source!.errors()).join()).toContain('HTTP 403')
    expect(logger.lines.some((l) => l.level === 'warn' && JSON.stringify(l.fields).includes('403'))).toBe(true)
    // Rate, measured on the fake's own request times: with a doubling backoff from 125-250 ms, the 5th attempt
    // comes at least 125+250+500+1000 ms after the 1st; the old 0-500 ms retry made ~8 attempts in that time.
    await until(() => watches().length >= 5, 'five watch attempts')
    const w = watches()
    expect(w[4]!.at - w[0]!.at).toBeGreaterThanOrEqual(1875)
    expect(lists()).toBe(1)
    expect(names(snapshots.at(-1)!)).toBe('c1')
  })

  it('HTTP 410 on the watch request relists once per expiry, with backoff, instead of a tight loop', async () => {
    fake = new FakeKubeApiServer()
    fake.apply(PLURAL, chain('c1'))
    fake.fail.watch = 410
    const snapshots = await startSource()
    await waitFor(snapshots, (s) => names(s) === 'c1', 'initial list')
    await until(() => lists() >= 4, 'four relists')
    const r = fake.requests.filter((q) => q.method === 'GET')
    // Strictly alternating: each relist is followed by one watch, not several, and each 410 by one relist.
    r.slice(0, 8).forEach((q, i) => expect(q.watch).toBe(i % 2 === 1))
    // The 2nd and later relists wait a growing backoff (>= 125, 250 ms) after the watch that expired.
    const l = r.filter((q) => !q.watch)
    expect(l[3]!.at - l[1]!.at).toBeGreaterThanOrEqual(375)
    expect(names(snapshots.at(-1)!)).toBe('c1')
  })

  it('a watch ERROR event other than 410 is logged, reported in health, and the watch restarts from the same resourceVersion after a backoff; nothing is deleted', async () => {
    fake = new FakeKubeApiServer()
    fake.bookmarks = false // a bookmark is an event, which would clear the report before the test sees it
    fake.apply(PLURAL, chain('c1'))
    fake.apply(PLURAL, chain('c2'))
    const logger = recordingLogger()
    const snapshots = await startSource({ logger })
    await waitFor(snapshots, (s) => names(s) === 'c1,c2', 'initial list')
    await until(() => fake!.openWatches() === 1, 'the watch open')
    const before = watches()
    const seen = snapshots.length
    const at = Date.now()
    fake.errorInWatch(PLURAL, 500)
    await until(() => watches().length > before.length, 'the watch restarted')
    const again = watches().at(-1)!
    expect(again.resourceVersion).toBe(before.at(-1)!.resourceVersion)
    expect(again.at - at).toBeGreaterThanOrEqual(100) // backoff: 125-250 ms on the first failure
    expect(lists()).toBe(1) // not a relist
    expect(Object.values(source!.errors()).join()).toMatch(/watch failed \(HTTP 500\): ERROR event: InternalError: injected 500/)
    const warn = logger.lines.find((l) => l.level === 'warn' && l.fields.status === 500)
    expect(warn?.msg).toContain('retrying with backoff')
    expect(String(warn?.fields.err)).toContain('ERROR event')
    // The next event clears the report; no snapshot ever lost an object.
    fake.apply(PLURAL, chain('c3'))
    await waitFor(snapshots, (s) => names(s) === 'c1,c2,c3', 'an event after the restart')
    await until(() => Object.keys(source!.errors()).length === 0, 'the report cleared')
    expect(snapshots.slice(seen).every((s) => names(s).startsWith('c1,c2'))).toBe(true)
  })

  it('list answered 500 or 403: not synced and reported; recovers when the API server does', async () => {
    for (const code of [500, 403]) {
      fake = new FakeKubeApiServer()
      fake.apply(PLURAL, chain('c1'))
      fake.fail.list = code
      const snapshots = await startSource({ retryMs: 500 })
      await until(() => Object.values(source!.errors()).join().includes(`HTTP ${code}`), `list ${code} reported`)
      // Retried: a second failed list, and still nothing delivered.
      await until(() => lists() >= 2, `a second list after ${code}`)
      expect(source!.synced()).toBe(false)
      expect(snapshots).toEqual([])
      fake.fail.list = undefined
      await waitFor(snapshots, (s) => names(s) === 'c1', 'list after recovery')
      await until(() => Object.keys(source!.errors()).length === 0, 'error cleared')
      await source!.stop()
      await fake.stop()
    }
    fake = undefined
    source = undefined
  })

  it('an object modified into one the schema rejects keeps its last good version, with the error under its key; DELETE removes it', async () => {
    fake = new FakeKubeApiServer()
    fake.apply(PLURAL, chain('c1'))
    fake.apply(PLURAL, chain('c2'))
    const snapshots = await startSource()
    await waitFor(snapshots, (s) => names(s) === 'c1,c2', 'initial list')
    fake.apply(PLURAL, broken('c1', 3))
    await until(() => Object.keys(source!.errors()).some((k) => k.endsWith('/dpf/c1')), 'the invalid object reported')
    fake.apply(PLURAL, chain('c3'))
    const after = await waitFor(snapshots, (s) => names(s) === 'c1,c2,c3', 'c3 added')
    expect(after.find((o) => o.metadata.name === 'c1')!.metadata.annotations?.note).toBeUndefined()
    // A relist (410) must not lose it either.
    fake.dropWatches()
    fake.apply(PLURAL, chain('c4'))
    fake.compact()
    await until(() => lists() >= 2, 'relist')
    await waitFor(snapshots, (s) => names(s) === 'c1,c2,c3,c4', 'c1 kept across the relist')
    fake.remove(PLURAL, chain('c1'))
    await waitFor(snapshots, (s) => names(s) === 'c2,c3,c4', 'DELETE removes it')
    expect(source!.errors()).toEqual({})
  })

  it('a missing CRD counts as empty, is reported, and is picked up once installed', async () => {
    fake = new FakeKubeApiServer()
    fake.missing.add(PLURAL)
    const snapshots = await startSource({ retryMs: 200 })
    await waitFor(snapshots, (s) => s.length === 0, 'empty snapshot')
    expect(source!.synced()).toBe(true)
    expect(Object.values(source!.errors()).join()).toContain('CRD not installed')
    fake.missing.delete(PLURAL)
    fake.apply(PLURAL, chain('c1'))
    await waitFor(snapshots, (s) => names(s) === 'c1', 'objects after the CRD appears')
    await until(() => Object.keys(source!.errors()).length === 0, 'error cleared')
  })
})

describe('an invalid object is reported on the object (a Warning Event) and in the hub API (issue #14)', () => {
  it('writes exactly one InvalidSpec Warning Event per bad generation, not per relist or metadata change', async () => {
    fake = new FakeKubeApiServer()
    fake.apply(PLURAL, chain('c1'))
    fake.apply(PLURAL, chain('c2'))
    const snapshots = await startSource()
    await waitFor(snapshots, (s) => names(s) === 'c1,c2', 'initial list')
    expect(fake.events).toEqual([])

    fake.apply(PLURAL, broken('c1', 3))
    await until(() => fake!.events.length === 1, 'a Warning Event')
    const stored = fake.get(PLURAL, 'c1')!
    const key = Object.keys(source!.errors()).find((k) => k.endsWith('/dpf/c1'))!
    const ev = fake.events[0]!
    expect(ev).toMatchObject({
      namespace: 'dpf',
      involvedObject: { apiVersion: 'svc.dpu.nvidia.com/v1alpha1', kind: 'DPUServiceChain', name: 'c1', namespace: 'dpf', uid: stored.metadata.uid },
      reason: 'InvalidSpec',
      type: 'Warning',
      reportingComponent: 'dpu-hub',
    })
    expect(ev.message).toContain(source!.errors()[key]!.slice(0, 60))

    // Same generation again: a relist after 410, and a metadata-only change (the generation does not move).
    fake.dropWatches()
    fake.apply(PLURAL, chain('c3'))
    fake.compact()
    await waitFor(snapshots, (s) => names(s) === 'c1,c2,c3', 'the relist')
    expect(lists()).toBe(2)
    fake.apply(PLURAL, { ...broken('c1', 3), metadata: { name: 'c1', namespace: 'dpf', annotations: { note: 'still broken' } } })
    expect(fake.get(PLURAL, 'c1')!.metadata.generation).toBe(stored.metadata.generation)
    fake.apply(PLURAL, chain('c4'))
    await waitFor(snapshots, (s) => names(s) === 'c1,c2,c3,c4', 'an event after the metadata change')
    expect(eventPosts()).toBe(1)

    // A new bad generation is news: one more Event.
    fake.apply(PLURAL, broken('c1', 4))
    expect(fake.get(PLURAL, 'c1')!.metadata.generation).toBe(stored.metadata.generation! + 1)
    await until(() => fake!.events.length === 2, 'a second Warning Event')
    fake.apply(PLURAL, chain('c5'))
    await waitFor(snapshots, (s) => names(s) === 'c1,c2,c3,c4,c5', 'an event after the second bad generation')
    expect(eventPosts()).toBe(2)
    // The last good version of c1 is still what is served.
    expect(snapshots.at(-1)!.find((o) => o.metadata.name === 'c1')!.metadata.annotations?.note).toBeUndefined()
  })

  it('without RBAC for events (403) logs once per namespace and carries on', async () => {
    fake = new FakeKubeApiServer()
    fake.fail.events = 403
    fake.apply(PLURAL, chain('c1'))
    fake.apply(PLURAL, broken('bad-a', 3))
    fake.apply(PLURAL, broken('bad-b', 3, 'other'))
    const logger = recordingLogger()
    const snapshots = await startSource({ logger })
    await waitFor(snapshots, (s) => names(s) === 'c1', 'initial list (the invalid objects have no last good version)')
    await until(() => eventPosts() === 2, 'an Event attempted per invalid object')
    const forbidden = () => logger.lines.filter((l) => l.level === 'warn' && l.msg.includes('no RBAC to create events'))
    await until(() => forbidden().length === 2, 'the 403 logged per namespace')
    expect(
      forbidden()
        .map((l) => l.fields.namespace)
        .sort(),
    ).toEqual(['dpf', 'other'])
    // Another bad generation in a namespace already logged: tried again, not logged again.
    fake.apply(PLURAL, broken('bad-a', 4))
    await until(() => eventPosts() === 3, 'an Event attempted for the new generation')
    fake.apply(PLURAL, chain('c2'))
    await waitFor(snapshots, (s) => names(s) === 'c1,c2', 'the source still follows changes')
    expect(forbidden()).toHaveLength(2)
    expect(fake.events).toEqual([])
    expect(source!.synced()).toBe(true)
    expect(Object.keys(source!.errors()).sort()).toEqual(['svc.dpu.nvidia.com/v1alpha1/DPUServiceChain/dpf/bad-a', 'svc.dpu.nvidia.com/v1alpha1/DPUServiceChain/other/bad-b'])
    // Once granted, the next bad generation gets its Event.
    fake.fail.events = undefined
    fake.apply(PLURAL, broken('bad-a', 5))
    await until(() => fake!.events.length === 1, 'an Event once RBAC allows it')
    expect(fake.events[0]!.involvedObject.name).toBe('bad-a')
  })

  it("the hub's REST API shows the rejected object under sourceErrors and reports degraded readiness", async () => {
    fake = new FakeKubeApiServer()
    fake.apply(PLURAL, chain('c1'))
    fake.apply(PLURAL, broken('c2', 3))
    await fake.start()
    source = new KubernetesSource({ transport: await transportFor(fake), kinds: [KIND], parse: (raw) => parseObject(raw), debounceMs: 20 })
    const dataDir = await mkdtemp(join(tmpdir(), 'hub-k8s-'))
    try {
      hub = await startHub({ dataDir, listen: '127.0.0.1:0', apiListen: '127.0.0.1:0', tls: 'insecure', sources: [source], render })
      const api = `http://127.0.0.1:${hub.apiPort}`
      const fleet = await untilAsync(
        'the invalid object in /v1/fleet sourceErrors',
        async () => {
          const f = (await (await fetch(`${api}/v1/fleet`)).json()) as { sourceErrors: Record<string, string> }
          return Object.keys(f.sourceErrors).length > 0 ? f : undefined
        },
        WAIT_MS,
      )
      const key = 'svc.dpu.nvidia.com/v1alpha1/DPUServiceChain/dpf/c2'
      expect(Object.keys(fleet.sourceErrors)).toEqual([key])
      expect(fleet.sourceErrors[key]).toBe(source.errors()[key])
      await until(() => source!.synced(), 'the source synced')
      const ready = (await (await fetch(`${api}/readyz`)).json()) as { status: string; reasons: string[] }
      expect(ready.status).toBe('degraded')
      expect(ready.reasons.join()).toContain('DPUServiceChain/dpf/c2')
      await until(() => fake!.events.length === 1, 'the Warning Event')
    } finally {
      await hub?.stop()
      hub = undefined
      source = undefined
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
