/**
 * FakeKubeApiServer: a FAKE Kubernetes API server for tests (no kube-apiserver or etcd can run here). It is the
 * one fake the project allows. It speaks HTTPS with a throwaway CA (made with the `openssl` helpers of
 * federation/certs/openssl.ts) and implements only what the hub's Kubernetes source uses, enough to drive the
 * real @kubernetes/client-node client:
 *
 *   GET  /apis/G/V/PLURAL                      list (resourceVersion in the list metadata)
 *   GET  /apis/G/V/PLURAL?watch=true&...       watch from resourceVersion, bookmarks, 410 Gone after compact()
 *   POST /api/v1/namespaces/NS/events          create a core/v1 Event (recorded in `events`)
 *
 * Objects get a uid and a generation that grows when their spec changes, as for custom resources. Tests inject
 * failures: `fail.list|watch|events` (an HTTP status), `missing` (a CRD not installed: 404), `down` (503),
 * `errorInWatch()` (an ERROR event inside an open watch stream), `compact()` and `dropWatches()`.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCa, issueCertificate } from '../../federation/certs/openssl.js'

export interface FakeObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace: string; resourceVersion?: string; uid?: string; generation?: number; annotations?: Record<string, string> }
  spec: unknown
}

export interface FakeRequest {
  method: string
  plural: string
  watch: boolean
  resourceVersion: string | null
  at: number
}

/** A core/v1 Event as the fake received it (the fields the hub writes). */
export interface ReceivedEvent {
  namespace: string
  involvedObject: { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string }
  reason?: string
  message?: string
  type?: string
  reportingComponent?: string
}

export class FakeKubeApiServer {
  private rv = 100
  private readonly items = new Map<string, Map<string, FakeObject>>()
  private readonly log: Array<{ rv: number; plural: string; type: string; obj: FakeObject }> = []
  private compactedBelow = 0
  private readonly watchers = new Set<{ plural: string; res: ServerResponse; bookmarks: boolean }>()
  /** Every request answers 503 while true. */
  down = false
  /** Requests answered 503 because of `down`. */
  refused = 0
  /** Whether watches asking for bookmarks get one every 100 ms. */
  bookmarks = true
  /** Bookmarks written so far. */
  bookmarksSent = 0
  /** HTTP status to answer instead of the real one, per request type (RBAC 403, server 500, 410 Gone). */
  readonly fail: { list?: number | undefined; watch?: number | undefined; events?: number | undefined } = {}
  /** Plurals whose CRD is not installed: 404 on every request. */
  readonly missing = new Set<string>()
  /** resourceVersions that belong to object events (a bookmark's never does). */
  readonly objectVersions = new Set<string>()
  readonly authorization: Array<string | undefined> = []
  readonly requests: FakeRequest[] = []
  /** Events created (answered 201); a failed create is in `requests` only. */
  readonly events: ReceivedEvent[] = []
  private server: Server | undefined
  /** Every TCP connection, from accept on: closeAllConnections() misses one still in its TLS handshake. */
  private readonly sockets = new Set<Socket>()
  private bookmarkTimer: NodeJS.Timeout | undefined
  private dir: string | undefined
  private caPem = ''
  private port = 0

  /** Makes a CA and a server certificate for 127.0.0.1, then listens on a free loopback port. */
  async start(): Promise<number> {
    this.dir = await mkdtemp(join(tmpdir(), 'fake-kube-api-'))
    await createCa(this.dir, { commonName: 'fake kube-apiserver CA', days: 2 })
    const { cert, key } = await issueCertificate({
      caDir: this.dir,
      outDir: this.dir,
      stem: 'apiserver',
      commonName: 'fake-kube-apiserver',
      subjectAltName: 'IP:127.0.0.1',
      extendedKeyUsage: 'serverAuth',
    })
    this.caPem = await readFile(join(this.dir, 'ca.crt'), 'utf8')
    const server = createServer({ cert: await readFile(cert), key: await readFile(key) }, (req, res) => this.handle(req, res))
    this.server = server
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    this.port = (server.address() as AddressInfo).port
    this.bookmarkTimer = setInterval(() => {
      // Other resources change on a real server too: a bookmark carries an RV no object of ours has.
      if (!this.bookmarks) return
      this.rv++
      for (const w of this.watchers)
        if (w.bookmarks && ++this.bookmarksSent)
          w.res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: 'DPUServiceChain', apiVersion: 'svc.dpu.nvidia.com/v1alpha1', metadata: { resourceVersion: String(this.rv) } } }) + '\n')
    }, 100)
    return this.port
  }

  /** Writes a kubeconfig for this server into `dir`: the CA as certificate-authority-data (TLS verified), a token. */
  async writeKubeconfig(dir: string, token = 'test-token'): Promise<string> {
    const path = join(dir, 'config')
    const ca = Buffer.from(this.caPem).toString('base64')
    await writeFile(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: c',
        `clusters: [{name: fake, cluster: {server: "https://127.0.0.1:${this.port}", certificate-authority-data: "${ca}"}}]`,
        `users: [{name: u, user: {token: ${token}}}]`,
        'contexts: [{name: c, context: {cluster: fake, user: u}}]',
        '',
      ].join('\n'),
    )
    return path
  }

  async stop(): Promise<void> {
    clearInterval(this.bookmarkTimer)
    for (const w of this.watchers) w.res.destroy()
    this.watchers.clear()
    const server = this.server
    if (server) {
      const closed = new Promise<void>((r) => server.close(() => r()))
      // A request still waiting for its answer (or its handshake) would hold close() until the client gives up.
      server.closeAllConnections()
      for (const socket of this.sockets) socket.destroy()
      await closed
    }
    if (this.dir) await rm(this.dir, { recursive: true, force: true })
  }

  private emit(plural: string, type: string, obj: FakeObject): void {
    this.rv++
    const before = this.items.get(plural)?.get(obj.metadata.name)
    const generation = before ? (before.metadata.generation ?? 1) + (JSON.stringify(before.spec) === JSON.stringify(obj.spec) ? 0 : 1) : 1
    const copy: FakeObject = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv), uid: before?.metadata.uid ?? randomUUID(), generation } }
    if (type === 'DELETED') this.items.get(plural)?.delete(obj.metadata.name)
    else {
      if (!this.items.has(plural)) this.items.set(plural, new Map())
      this.items.get(plural)!.set(obj.metadata.name, copy)
    }
    this.log.push({ rv: this.rv, plural, type, obj: copy })
    this.objectVersions.add(String(this.rv))
    for (const w of this.watchers) if (w.plural === plural) w.res.write(JSON.stringify({ type, object: copy }) + '\n')
  }

  /** Creates or updates an object (ADDED or MODIFIED to watchers); the generation grows when the spec changes. */
  apply(plural: string, obj: FakeObject): void {
    this.emit(plural, this.items.get(plural)?.has(obj.metadata.name) ? 'MODIFIED' : 'ADDED', obj)
  }
  remove(plural: string, obj: FakeObject): void {
    this.emit(plural, 'DELETED', obj)
  }
  /** The stored object (with uid, generation and resourceVersion). */
  get(plural: string, name: string): FakeObject | undefined {
    return this.items.get(plural)?.get(name)
  }
  /** Forget history (as etcd compaction does): a watch from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.compactedBelow = this.rv + 1
  }
  dropWatches(): void {
    for (const w of this.watches()) w.res.destroy()
    this.watchers.clear()
  }
  /** Open watch streams. */
  openWatches(): number {
    return this.watches().length
  }
  /** Writes an ERROR event (a Status with `code`) into every open watch of `plural` and ends them, as the API server does. */
  errorInWatch(plural: string, code: number, reason = 'InternalError', message = `injected ${code} in the watch stream`): void {
    for (const w of this.watches())
      if (w.plural === plural) {
        w.res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code, message } }) + '\n')
        this.watchers.delete(w)
      }
  }

  private watches(): Array<{ plural: string; res: ServerResponse; bookmarks: boolean }> {
    return [...this.watchers]
  }

  private status(res: ServerResponse, code: number, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, message }))
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://x')
    if (this.down) {
      this.refused++
      return this.status(res, 503, 'injected: API server unavailable')
    }
    this.authorization.push(req.headers.authorization)
    const ev = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(url.pathname)
    if (ev && req.method === 'POST') return this.createEvent(ev[1]!, req, res)
    const m = /^\/apis\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname)
    if (!m || req.method !== 'GET') return this.status(res, 404, `the fake serves no ${req.method} ${url.pathname}`)
    const plural = m[3]!
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1'
    const from = url.searchParams.get('resourceVersion')
    this.requests.push({ method: 'GET', plural, watch, resourceVersion: from, at: Date.now() })
    if (this.missing.has(plural)) return this.status(res, 404, `the server could not find the requested resource (${plural})`)
    const failWith = watch ? this.fail.watch : this.fail.list
    if (failWith) return this.status(res, failWith, `injected ${failWith}`)
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

  private createEvent(namespace: string, req: IncomingMessage, res: ServerResponse): void {
    this.requests.push({ method: 'POST', plural: 'events', watch: false, resourceVersion: null, at: Date.now() })
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (this.fail.events) return this.status(res, this.fail.events, `injected ${this.fail.events}: events is forbidden in namespace ${namespace}`)
      let body: ReceivedEvent & { metadata?: Record<string, unknown> }
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body
      } catch {
        return this.status(res, 400, 'body is not JSON')
      }
      this.events.push({ ...body, namespace })
      this.rv++
      res
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ...body, metadata: { ...body.metadata, name: `${body.involvedObject?.name ?? 'x'}.${this.rv}`, namespace, resourceVersion: String(this.rv) } }))
    })
  }
}
