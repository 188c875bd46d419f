/**
 * The Kubernetes source against a FAKE API server (no kube-apiserver can run here): a small HTTP server in
 * this file that implements only list, watch (with resourceVersion, bookmarks and 410 Gone after
 * compaction) for custom resources, enough to exercise the real @kubernetes/client-node client.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { parseObject } from '../../../api/resources/registry.js'
import type { ParsedObject } from '../../../api/resources/kind.js'
import { KubernetesSource } from './kubernetes.js'
import { loadClientNodeTransport } from './kube-client-node.js'
import type { KubeTransport } from './kube-transport.js'
import { recordingLogger } from '../../../test/support/recording-logger.js'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

interface Obj {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace: string; resourceVersion?: string; annotations?: Record<string, string> }
  spec: unknown
}

/** FAKE Kubernetes API server: custom-resource list + watch only. */
class FakeApiServer {
  private rv = 100
  private readonly items = new Map<string, Map<string, Obj>>()
  private readonly log: Array<{ rv: number; plural: string; type: string; obj: Obj }> = []
  private compactedBelow = 0
  private readonly watchers = new Set<{ plural: string; res: ServerResponse; bookmarks: boolean }>()
  down = false
  /** HTTP status to answer instead of the real one, per request type (RBAC 403, server 500, 410 Gone). */
  readonly fail: { list?: number; watch?: number } = {}
  /** Plurals whose CRD is not installed: 404 on every request. */
  readonly missing = new Set<string>()
  readonly objectVersions = new Set<string>()
  readonly authorization: Array<string | undefined> = []
  readonly requests: Array<{ plural: string; watch: boolean; resourceVersion: string | null }> = []
  server: Server = createServer((req, res) => this.handle(req, res))
  private bookmarkTimer: NodeJS.Timeout | undefined

  async start(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r))
    this.bookmarkTimer = setInterval(() => {
      // Other resources change on a real server too: a bookmark carries an RV no object of ours has.
      this.rv++
      for (const w of this.watchers)
        if (w.bookmarks)
          w.res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: 'DPUServiceChain', apiVersion: 'svc.dpu.nvidia.com/v1alpha1', metadata: { resourceVersion: String(this.rv) } } }) + '\n')
    }, 100)
    return (this.server.address() as AddressInfo).port
  }

  async stop(): Promise<void> {
    clearInterval(this.bookmarkTimer)
    for (const w of this.watchers) w.res.destroy()
    this.server.closeAllConnections()
    await new Promise<void>((r) => this.server.close(() => r()))
  }

  private emit(plural: string, type: string, obj: Obj): void {
    this.rv++
    const copy = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv) } }
    if (type === 'DELETED') this.items.get(plural)?.delete(obj.metadata.name)
    else {
      if (!this.items.has(plural)) this.items.set(plural, new Map())
      this.items.get(plural)!.set(obj.metadata.name, copy)
    }
    this.log.push({ rv: this.rv, plural, type, obj: copy })
    this.objectVersions.add(String(this.rv))
    for (const w of this.watchers) if (w.plural === plural) w.res.write(JSON.stringify({ type, object: copy }) + '\n')
  }

  apply(plural: string, obj: Obj): void {
    this.emit(plural, this.items.get(plural)?.has(obj.metadata.name) ? 'MODIFIED' : 'ADDED', obj)
  }
  remove(plural: string, obj: Obj): void {
    this.emit(plural, 'DELETED', obj)
  }
  /** Forget history (as etcd compaction does) and drop every watch: clients must get 410 and relist. */
  compact(): void {
    this.compactedBelow = this.rv + 1
  }
  dropWatches(): void {
    for (const w of this.watchers) w.res.destroy()
    this.watchers.clear()
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x')
    const m = /^\/apis\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname)
    if (!m) return void res.writeHead(404).end()
    if (this.down) return void res.writeHead(503).end('{"kind":"Status","code":503}')
    const plural = m[3]!
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1'
    const from = url.searchParams.get('resourceVersion')
    this.requests.push({ plural, watch, resourceVersion: from })
    this.authorization.push(req.headers.authorization)
    if (this.missing.has(plural)) return void res.writeHead(404).end('{"kind":"Status","code":404,"reason":"NotFound"}')
    const failWith = watch ? this.fail.watch : this.fail.list
    if (failWith) return void res.writeHead(failWith, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: failWith, message: `injected ${failWith}` }))
    res.setHeader('content-type', 'application/json')
    if (!watch) {
      const items = [...(this.items.get(plural)?.values() ?? [])]
      return void res.end(JSON.stringify({ apiVersion: `${m[1]}/${m[2]}`, kind: 'List', metadata: { resourceVersion: String(this.rv) }, items }))
    }
    res.writeHead(200)
    const since = Number(from ?? 0)
    if (since < this.compactedBelow - 1) {
      res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version' } }) + '\n')
      return
    }
    for (const e of this.log) if (e.rv > since && e.plural === plural) res.write(JSON.stringify({ type: e.type, object: e.obj }) + '\n')
    const w = { plural, res, bookmarks: url.searchParams.get('allowWatchBookmarks') === 'true' }
    this.watchers.add(w)
    req.on('close', () => this.watchers.delete(w))
  }
}

const chain = (name: string): Obj => ({
  apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
  kind: 'DPUServiceChain',
  metadata: { name, namespace: 'dpf' },
  spec: { template: { spec: { template: { spec: { switches: [{ ports: [{ serviceInterface: { matchLabels: { uplink: 'p0' } } }] }] } } } } },
})

let fake: FakeApiServer | undefined
let source: KubernetesSource | undefined
afterEach(async () => {
  await source?.stop()
  await fake?.stop()
})

async function waitFor(snapshots: Array<readonly ParsedObject[]>, pred: (s: readonly ParsedObject[]) => boolean, what: string): Promise<readonly ParsedObject[]> {
  const t0 = Date.now()
  for (;;) {
    const last = snapshots.at(-1)
    if (last && pred(last)) return last
    if (Date.now() - t0 > 5000)
      throw new Error(
        `timed out waiting for ${what}; requests ${JSON.stringify(fake?.requests)} errors ${JSON.stringify(source?.errors())}; last: ${JSON.stringify(last?.map((o) => o.metadata.name))}`,
      )
    await new Promise((r) => setTimeout(r, 20))
  }
}

// The product transport (@kubernetes/client-node) against a fake API server.
const TRANSPORTS: Array<{ name: string; available: boolean; make(kubeconfig: string): Promise<KubeTransport> }> = [
  { name: '@kubernetes/client-node', available: true, make: (kc) => loadClientNodeTransport(kc) },
]

describe.each(TRANSPORTS)('Kubernetes source over $name (against a fake API server)', ({ available, make }) => {
  it.skipIf(!available)('lists, watches, follows bookmarks and relists after 410 Gone', async () => {
    fake = new FakeApiServer()
    const port = await fake.start()
    fake.apply('dpuservicechains', chain('c1'))
    const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'))
    const kubeconfig = join(dir, 'config')
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: fake, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: test-token}}]\ncontexts: [{name: c, context: {cluster: fake, user: u}}]\n`,
    )
    const transport = await make(kubeconfig).finally(() => rm(dir, { recursive: true, force: true }))
    const snapshots: Array<readonly ParsedObject[]> = []
    source = new KubernetesSource({
      transport,
      kinds: [{ group: 'svc.dpu.nvidia.com', version: 'v1alpha1', plural: 'dpuservicechains' }],
      parse: (raw) => parseObject(raw),
      debounceMs: 20,
      retryMs: 100,
    })
    await source.start((s) => snapshots.push(s))
    const names = (s: readonly ParsedObject[]) =>
      s
        .map((o) => o.metadata.name)
        .sort()
        .join(',')

    await waitFor(snapshots, (s) => names(s) === 'c1', 'initial list')
    expect(source.synced()).toBe(true)
    fake.apply('dpuservicechains', chain('c2'))
    await waitFor(snapshots, (s) => names(s) === 'c1,c2', 'watch ADDED')
    fake.remove('dpuservicechains', chain('c1'))
    await waitFor(snapshots, (s) => names(s) === 'c2', 'watch DELETED')

    // Bookmarks advance the resourceVersion a re-watch starts from, without any snapshot.
    await new Promise((r) => setTimeout(r, 300))
    const listsBefore = fake.requests.filter((r) => !r.watch).length
    // Outage: the API server is unreachable while an object changes and history is compacted past our RV.
    fake.down = true
    fake.dropWatches()
    fake.apply('dpuservicechains', chain('c3'))
    fake.compact()
    await new Promise((r) => setTimeout(r, 200))
    fake.down = false
    await waitFor(snapshots, (s) => names(s) === 'c2,c3', 'relist after 410')
    const lists = fake.requests.filter((r) => !r.watch).length
    expect(lists).toBe(listsBefore + 1)
    const watches = fake.requests.filter((r) => r.watch)
    expect(watches.length).toBeGreaterThanOrEqual(2)
    expect(watches.every((w) => w.resourceVersion !== null && w.resourceVersion !== '')).toBe(true)
    // A bookmark moved the watch position past the last object event before the watch was dropped.
    expect(watches.some((w) => !fake!.objectVersions.has(w.resourceVersion!))).toBe(true)
    expect(fake.authorization.every((a) => a === 'Bearer test-token')).toBe(true)
  })
})

describe('Kubernetes source failures never become deletes, and are reported (issue #14)', () => {
  const KIND = { group: 'svc.dpu.nvidia.com', version: 'v1alpha1', plural: 'dpuservicechains' }
  const names = (s: readonly ParsedObject[]) =>
    s
      .map((o) => o.metadata.name)
      .sort()
      .join(',')
  const watches = () => fake!.requests.filter((r) => r.watch).length
  const lists = () => fake!.requests.filter((r) => !r.watch).length

  async function startSource(o: { retryMs?: number; logger?: ReturnType<typeof recordingLogger> } = {}): Promise<Array<readonly ParsedObject[]>> {
    const port = await fake!.start()
    const snapshots: Array<readonly ParsedObject[]> = []
    const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'))
    const kubeconfig = join(dir, 'config')
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: fake, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: test-token}}]\ncontexts: [{name: c, context: {cluster: fake, user: u}}]\n`,
    )
    const transport = await loadClientNodeTransport(kubeconfig).finally(() => rm(dir, { recursive: true, force: true }))
    source = new KubernetesSource({ transport, kinds: [KIND], parse: (raw) => parseObject(raw), debounceMs: 20, retryMs: o.retryMs ?? 30_000, ...(o.logger ? { logger: o.logger } : {}) })
    await source.start((s) => snapshots.push(s))
    return snapshots
  }
  const until = async (pred: () => boolean, what: string): Promise<void> => {
    const t0 = Date.now()
    while (!pred()) {
      if (Date.now() - t0 > 10_000) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  it('watch answered 403 forever: reported (errors, log) and retried with a growing backoff, not ~5 a second', async () => {
    fake = new FakeApiServer()
    fake.apply('dpuservicechains', chain('c1'))
    fake.fail.watch = 403
    const logger = recordingLogger()
    const snapshots = await startSource({ logger })
    await waitFor(snapshots, (s) => names(s) === 'c1', 'initial list')
    await until(() => Object.keys(source!.errors()).length > 0, 'the watch failure reported')
    expect(Object.values(source!.errors()).join()).toContain('HTTP 403')
    expect(logger.lines.some((l) => l.level === 'warn' && JSON.stringify(l.fields).includes('403'))).toBe(true)
    const first = watches()
    await new Promise((r) => setTimeout(r, 2000))
    // A doubling backoff from 125-250 ms makes at most 4 more attempts in 2 s; the old 0-500 ms retry made ~8.
    expect(watches() - first).toBeLessThanOrEqual(4)
    expect(names(snapshots.at(-1)!)).toBe('c1')
    fake.fail.watch = undefined
  })

  it('HTTP 410 on the watch request relists once per expiry, with backoff, instead of a tight loop', async () => {
    fake = new FakeApiServer()
    fake.apply('dpuservicechains', chain('c1'))
    fake.fail.watch = 410
    const snapshots = await startSource()
    await waitFor(snapshots, (s) => names(s) === 'c1', 'initial list')
    const first = lists()
    await new Promise((r) => setTimeout(r, 2000))
    expect(lists() - first).toBeLessThanOrEqual(5)
    const w = watches()
    const l = lists()
    // Each relist is followed by one watch, not several.
    expect(Math.abs(w - l)).toBeLessThanOrEqual(1)
  })

  it('list answered 500 or 403: not synced and reported; recovers when the API server does', async () => {
    for (const code of [500, 403]) {
      fake = new FakeApiServer()
      fake.apply('dpuservicechains', chain('c1'))
      fake.fail.list = code
      const snapshots = await startSource({ retryMs: 500 })
      await until(() => Object.values(source!.errors()).join().includes(`HTTP ${code}`), `list ${code} reported`)
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
    fake = new FakeApiServer()
    fake.apply('dpuservicechains', chain('c1'))
    fake.apply('dpuservicechains', chain('c2'))
    const snapshots = await startSource()
    await waitFor(snapshots, (s) => names(s) === 'c1,c2', 'initial list')
    fake.apply('dpuservicechains', { ...chain('c1'), metadata: { ...chain('c1').metadata, annotations: { note: 'broken' } }, spec: { template: 3 } })
    await until(() => Object.keys(source!.errors()).some((k) => k.endsWith('/dpf/c1')), 'the invalid object reported')
    fake.apply('dpuservicechains', chain('c3'))
    const after = await waitFor(snapshots, (s) => names(s) === 'c1,c2,c3', 'c3 added')
    expect(after.find((o) => o.metadata.name === 'c1')!.metadata.annotations?.note).toBeUndefined()
    // A relist (410) must not lose it either.
    fake.dropWatches()
    fake.apply('dpuservicechains', chain('c4'))
    fake.compact()
    await until(() => lists() >= 2, 'relist')
    await waitFor(snapshots, (s) => names(s) === 'c1,c2,c3,c4', 'c1 kept across the relist')
    fake.remove('dpuservicechains', chain('c1'))
    await waitFor(snapshots, (s) => names(s) === 'c2,c3,c4', 'DELETE removes it')
    expect(source!.errors()).toEqual({})
  })

  it('a missing CRD counts as empty, is reported, and is picked up once installed', async () => {
    fake = new FakeApiServer()
    fake.missing.add('dpuservicechains')
    const snapshots = await startSource({ retryMs: 200 })
    await waitFor(snapshots, (s) => s.length === 0, 'empty snapshot')
    expect(source!.synced()).toBe(true)
    expect(Object.values(source!.errors()).join()).toContain('CRD not installed')
    fake.missing.delete('dpuservicechains')
    fake.apply('dpuservicechains', chain('c1'))
    await waitFor(snapshots, (s) => names(s) === 'c1', 'objects after the CRD appears')
    await until(() => Object.keys(source!.errors()).length === 0, 'error cleared')
  })
})
