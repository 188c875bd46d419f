/**
 * One DPU certificate cannot exhaust or wedge the hub (issue #14): a real hub over real gRPC + mTLS on loopback,
 * driven by a raw client that says what a broken or hostile agent would (oversized hellos, no hello at all,
 * revisions the hub never minted, certificates that name no DPU or two).
 */
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises'
import * as http2 from 'node:http2'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import * as tls from 'node:tls'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION, type AgentMessage, type HubMessage } from '../../api/federation/messages.js'
import { INTERFACES_YAML, makePki, parseManifest, removeDir, render, writeAtomic, type Pki } from '../../test/support/federation-fixtures.js'
import { recordingLogger } from '../../test/support/recording-logger.js'
import { dpuUri } from '../certs/identity.js'
import { createCa, issueCertificate } from '../certs/openssl.js'
import { encodeAgentMessage, type DecodeResult } from '../wire/codec.js'
import type { Logger } from '../wire/logger.js'
import { CHANNEL_OPTIONS, FederationClient, type SyncClientStream } from '../wire/service.js'
import { DpuRegistry } from './dpu-registry.js'
import { startHub, type HubLimits, type RunningHub } from './hub.js'
import { ManifestDirSource } from './sources/manifest-dir.js'

let pki: Pki
let work: string
const cleanups: Array<() => Promise<void> | void> = []

beforeAll(async () => {
  pki = await makePki(['dpu-a', 'dpu-b'])
  // A DPU certificate with no EKU extension (TLS accepts it for any purpose) and one naming two DPUs.
  await issueCertificate({ caDir: pki.dir, outDir: pki.dir, stem: 'no-eku', commonName: 'dpu-a', subjectAltName: `URI:${dpuUri('dpu-a')}`, extendedKeyUsage: null })
  await issueCertificate({
    caDir: pki.dir,
    outDir: pki.dir,
    stem: 'two-dpus',
    commonName: 'dpu-a',
    subjectAltName: `URI:${dpuUri('dpu-a')},URI:${dpuUri('dpu-b')}`,
    extendedKeyUsage: 'clientAuth',
  })
  await issueCertificate({ caDir: pki.dir, outDir: pki.dir, stem: 'no-dpu', commonName: 'Not A DPU', subjectAltName: 'DNS:example.com', extendedKeyUsage: 'clientAuth' })
  // Certificates the TLS handshake refuses: another CA's, expired, not yet valid, and one for servers only.
  const dpuA = { commonName: 'dpu-a', subjectAltName: `URI:${dpuUri('dpu-a')}`, outDir: pki.dir }
  const day = 86_400_000
  await createCa(join(pki.dir, 'other-ca'), { commonName: 'some other CA' })
  await issueCertificate({ ...dpuA, caDir: join(pki.dir, 'other-ca'), stem: 'foreign', extendedKeyUsage: 'clientAuth' })
  await issueCertificate({ ...dpuA, caDir: pki.dir, stem: 'expired', extendedKeyUsage: 'clientAuth', notBefore: new Date(Date.now() - 2 * day), notAfter: new Date(Date.now() - day) })
  await issueCertificate({ ...dpuA, caDir: pki.dir, stem: 'future', extendedKeyUsage: 'clientAuth', notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 2 * day) })
  await issueCertificate({ ...dpuA, caDir: pki.dir, stem: 'server-eku', extendedKeyUsage: 'serverAuth' })
})
afterAll(async () => removeDir(pki?.dir))
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  await removeDir(work)
})

async function hub(limits: Partial<HubLimits> = {}, logger?: Logger): Promise<RunningHub> {
  work = await mkdtemp(join(tmpdir(), 'fed-abuse-'))
  const manifests = join(work, 'manifests')
  await mkdir(manifests)
  await writeAtomic(join(manifests, 'interfaces.yaml'), INTERFACES_YAML)
  await writeFile(join(work, 'dpus.yaml'), 'dpus:\n  dpu-a: {labels: {zone: a}}\n')
  const h = await startHub({
    dataDir: join(work, 'hub'),
    listen: '127.0.0.1:0',
    tls: await pki.tls('hub'),
    sources: [new ManifestDirSource({ dir: manifests, parse: parseManifest, debounceMs: 50 })],
    render,
    registry: new DpuRegistry(join(work, 'dpus.yaml')),
    limits,
    ...(logger ? { logger } : {}),
  })
  cleanups.push(() => h.stop())
  await until(() => h.planner.ready, 5000, 'planner ready')
  return h
}

/** A raw stream: what the hub sent, and how the stream ended. */
interface Raw {
  call: SyncClientStream
  received: HubMessage[]
  ended: Promise<{ code: grpc.status; details: string }>
  send(m: AgentMessage): void
}

async function client(h: RunningHub, stem: string): Promise<grpc.Client> {
  const tls = await pki.tls(stem)
  const c = new FederationClient(`127.0.0.1:${h.grpcPort}`, grpc.credentials.createSsl(tls.ca, tls.key, tls.cert), CHANNEL_OPTIONS)
  cleanups.push(() => c.close())
  return c
}

function stream(c: grpc.Client): Raw {
  const call = (c as unknown as { sync(): SyncClientStream }).sync()
  const received: HubMessage[] = []
  call.on('data', (r: DecodeResult<HubMessage>) => {
    if (!r.ok) throw new Error(`hub sent an undecodable message: ${r.error.message}`)
    received.push(r.message)
  })
  call.on('error', () => {})
  const ended = new Promise<{ code: grpc.status; details: string }>((resolve) => call.on('status', (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details })))
  cleanups.push(() => call.cancel())
  return { call, received, ended, send: (m) => call.write(encodeAgentMessage(m)) }
}

function hello(dpu: string, extra: { appliedRevision?: number; objectHashes?: Record<string, string>; labels?: Record<string, string> } = {}): AgentMessage {
  return {
    v: PROTOCOL_VERSION,
    type: 'hello',
    dpu,
    appliedRevision: extra.appliedRevision ?? 0,
    objectHashes: extra.objectHashes ?? {},
    versions: { protocol: PROTOCOL_VERSION, agent: 'raw' },
    ...(extra.labels ? { labels: extra.labels } : {}),
  }
}

/** `n` claimed objects with keys of `keyBytes` characters; `salt` makes each set distinct. */
function claims(n: number, salt: string, keyBytes = 40): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < n; i++) out[`ServiceChain/ns/${salt}-${i}-`.padEnd(keyBytes, 'x')] = i.toString(16).padStart(32, '0')
  return out
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const t0 = Date.now()
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const bookmark = (r: Raw) => r.received.find((m): m is Extract<HubMessage, { type: 'bookmark' }> => m.type === 'bookmark')
async function metric(h: RunningHub, text: RegExp): Promise<string | undefined> {
  return (await h.metrics.registry.metrics()).split('\n').find((l) => text.test(l))
}

describe('a hello is bounded', () => {
  it('refuses a hello claiming more objects or bytes than allowed, and serves one within the bounds', async () => {
    const h = await hub({ maxHelloObjects: 100, maxHelloBytes: 100 * 80 })
    const c = await client(h, 'dpu-a')
    const tooMany = stream(c)
    tooMany.send(hello('dpu-a', { objectHashes: claims(101, 'n') }))
    expect(await tooMany.ended).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/claims 101 objects; at most 100/) })
    const tooBig = stream(c)
    tooBig.send(hello('dpu-a', { objectHashes: claims(100, 'b', 200) }))
    expect(await tooBig.ended).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/bytes of objects; at most 8000/) })
    expect(h.sessions.size).toBe(0)
    const fine = stream(c)
    fine.send(hello('dpu-a', { objectHashes: claims(100, 'ok', 40) }))
    await until(() => bookmark(fine) !== undefined, 5000, 'bookmark for a hello within bounds')
    expect(h.sessions.get('dpu-a')?.held.size).toBe(100)
  })

  it('keeps the delta cache within its byte bound however many distinct lists are claimed', async () => {
    const bound = 64 * 1024
    const h = await hub({ deltaCacheBytes: bound, helloBurst: 100 })
    const c = await client(h, 'dpu-a')
    let pushed = 0
    for (let i = 0; i < 12; i++) {
      // Each list is distinct, so each delta (upsert the fleet, remove every claimed key) is a new cache entry.
      const s = stream(c)
      s.send(hello('dpu-a', { objectHashes: claims(400, `l${i}`, 60) }))
      await until(() => bookmark(s) !== undefined, 5000, `bookmark ${i}`)
      pushed += s.received.length
      s.call.end()
      await s.ended
    }
    expect(pushed).toBeGreaterThan(12)
    const bytes = Number((await metric(h, /^dpu_hub_delta_cache_bytes /))?.split(' ')[1])
    expect(bytes).toBeGreaterThan(0)
    expect(bytes).toBeLessThanOrEqual(bound)
  })

  it('rate-limits hellos per identity, without affecting another DPU', async () => {
    const h = await hub({ helloBurst: 2, helloRefillMs: 3_600_000 })
    const a = await client(h, 'dpu-a')
    for (let i = 0; i < 2; i++) {
      const s = stream(a)
      s.send(hello('dpu-a'))
      await until(() => bookmark(s) !== undefined, 5000, `hello ${i} answered`)
      s.call.end()
      await s.ended
    }
    const third = stream(a)
    third.send(hello('dpu-a'))
    expect(await third.ended).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/too many hellos from "dpu-a"/) })
    const b = stream(await client(h, 'dpu-b'))
    b.send(hello('dpu-b'))
    await until(() => bookmark(b) !== undefined, 5000, 'dpu-b served')
  })
})

describe('streams are bounded', () => {
  it('closes a stream that never says hello, and counts it in metrics meanwhile', async () => {
    const h = await hub({ helloTimeoutMs: 1_500 })
    const c = await client(h, 'dpu-a')
    const silent = [stream(c), stream(c), stream(c)]
    await until(() => h.openStreams() === 3, 5000, 'three streams open')
    expect(await metric(h, /^dpu_hub_streams\{state="awaiting-hello"\}/)).toBe('dpu_hub_streams{state="awaiting-hello"} 3')
    for (const s of silent) expect(await s.ended).toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED, details: expect.stringMatching(/no hello within 1500 ms/) })
    await until(() => h.openStreams() === 0, 5000, 'streams forgotten')
    expect(await metric(h, /^dpu_hub_streams\{state="awaiting-hello"\}/)).toBe('dpu_hub_streams{state="awaiting-hello"} 0')
  })

  it('caps open streams per identity', async () => {
    const h = await hub({ maxStreamsPerIdentity: 2, helloTimeoutMs: 60_000 })
    const c = await client(h, 'dpu-a')
    stream(c)
    stream(c)
    await until(() => h.openStreams() === 2, 5000, 'two streams open')
    const third = stream(await client(h, 'dpu-a'))
    expect(await third.ended).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/already has 2 open streams/) })
    // Another identity is not affected.
    const b = stream(await client(h, 'dpu-b'))
    b.send(hello('dpu-b'))
    await until(() => bookmark(b) !== undefined, 5000, 'dpu-b served')
  })
})

describe('revisions come from the hub only', () => {
  it('refuses an ack for a revision the hub did not send', async () => {
    const h = await hub()
    const s = stream(await client(h, 'dpu-a'))
    s.send(hello('dpu-a'))
    await until(() => bookmark(s) !== undefined, 5000, 'first revision')
    const b = bookmark(s)!
    s.send({ v: PROTOCOL_VERSION, type: 'ack', nonce: b.nonce, revision: 2 ** 53 - 2 })
    expect(await s.ended).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/ack names revision 9007199254740990 but the hub sent 1/) })
    expect(h.db.get('dpu-a')).toMatchObject({ hubRevision: 1, ackedRevision: 0 })
  })

  it('refuses a hello claiming a revision the hub never minted, and stays able to serve the DPU', async () => {
    const logger = recordingLogger()
    const { lines } = logger
    const h = await hub({}, logger)
    const c = await client(h, 'dpu-a')
    const first = stream(c)
    first.send(hello('dpu-a'))
    await until(() => bookmark(first) !== undefined, 5000, 'first revision')
    first.send({ v: PROTOCOL_VERSION, type: 'ack', nonce: bookmark(first)!.nonce, revision: bookmark(first)!.revision })
    await until(() => h.db.get('dpu-a').ackedRevision === 1, 5000, 'ack recorded')
    first.call.end()
    await first.ended

    const liar = stream(c)
    liar.send(hello('dpu-a', { appliedRevision: Number.MAX_SAFE_INTEGER }))
    expect(await liar.ended).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/the hub minted at most 1/) })
    expect(h.db.get('dpu-a').hubRevision).toBe(1)
    expect(lines.some((l) => l.level === 'warn' && l.fields.reason === 'federation.revision' && typeof l.fields.peer === 'string')).toBe(true)

    // The DPU is not wedged: its next honest hello gets a decodable bookmark (the stream would throw otherwise).
    const honest = stream(c)
    honest.send(hello('dpu-a', { appliedRevision: 1, objectHashes: Object.fromEntries(h.sessions.get('dpu-a')?.held ?? []) }))
    await until(() => bookmark(honest) !== undefined, 5000, 'bookmark after refusal')
    expect(bookmark(honest)!.revision).toBeLessThanOrEqual(2)
  })

  it('adopts a revision from a DPU the hub has no record of only while minting after it stays exact', async () => {
    const h = await hub()
    const c = await client(h, 'dpu-b')
    const tooHigh = stream(c)
    tooHigh.send(hello('dpu-b', { appliedRevision: 2 ** 52 + 1 }))
    expect(await tooHigh.ended).toMatchObject({ code: grpc.status.INVALID_ARGUMENT })
    expect(h.db.get('dpu-b').hubRevision).toBe(0)
    const restored = stream(c)
    restored.send(hello('dpu-b', { appliedRevision: 2 ** 52 }))
    await until(() => bookmark(restored) !== undefined, 5000, 'bookmark after adoption')
    expect(bookmark(restored)!.revision).toBe(2 ** 52 + 1)
  })
})

describe('identity from the certificate', () => {
  it.each([
    ['no extended key usage', 'no-eku', /lacks the clientAuth extended key usage/],
    ['two DPUs', 'two-dpus', /names 2 DPUs/],
    ['no DPU', 'no-dpu', /names no DPU/],
  ])('refuses a certificate with %s and logs the peer and the reason', async (_what, stem, reason) => {
    const logger = recordingLogger()
    const { lines } = logger
    const h = await hub({}, logger)
    const s = stream(await client(h, stem))
    s.send(hello('dpu-a'))
    expect(await s.ended).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(reason) })
    expect(h.sessions.size).toBe(0)
    const line = lines.find((l) => l.msg.startsWith('refusing agent stream'))
    expect(line?.level).toBe('warn')
    expect(line?.fields.peer).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(String(line?.fields.details)).toMatch(reason)
  })

  it('warns once when an unregistered DPU selects its own labels', async () => {
    const logger = recordingLogger()
    const { lines } = logger
    const h = await hub({}, logger)
    const c = await client(h, 'dpu-b')
    for (let i = 0; i < 2; i++) {
      const s = stream(c)
      s.send(hello('dpu-b', { labels: { zone: 'a' } }))
      await until(() => bookmark(s) !== undefined, 5000, `hello ${i}`)
      s.call.end()
      await s.ended
    }
    expect(lines.filter((l) => l.level === 'warn' && /not in the registry reports its own labels/.test(l.msg))).toHaveLength(1)
  })
})

/** A raw HTTP/2 connection with a client certificate (no stream): what the hub saw of it, and how it ended. */
interface Conn {
  session: http2.ClientHttp2Session
  goaway: Promise<{ errorCode: number; details: string }>
  closed: Promise<void>
}

async function connect(h: RunningHub, stem: string): Promise<Conn> {
  const t = await pki.tls(stem)
  const session = http2.connect(`https://127.0.0.1:${h.grpcPort}`, { ca: t.ca, cert: t.cert, key: t.key, servername: 'localhost' })
  session.on('error', () => {})
  cleanups.push(() => void session.destroy())
  return {
    session,
    goaway: new Promise((resolve) => session.on('goaway', (errorCode: number, _last: number, data?: Buffer) => resolve({ errorCode, details: data?.toString() ?? '' }))),
    closed: new Promise((resolve) => session.on('close', () => resolve())),
  }
}

describe('connections are bounded', () => {
  it('caps HTTP/2 connections per identity with a GOAWAY that says why, one log line, a gauge and a counter', async () => {
    const log = recordingLogger()
    const h = await hub({ maxConnectionsPerIdentity: 2 }, log)
    const kept = [await connect(h, 'dpu-a'), await connect(h, 'dpu-a')]
    await until(() => h.openConnections() === 2, 30_000, 'two connections open')
    const over: Conn[] = []
    for (let i = 0; i < 20; i++) over.push(await connect(h, 'dpu-a'))
    for (const c of over) {
      expect(await c.goaway).toEqual({ errorCode: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, details: '"dpu-a" already has 2 open connections; at most 2 allowed' })
      await c.closed
    }
    expect(h.openConnections()).toBe(2)
    expect(await metric(h, /^dpu_hub_connections /)).toBe('dpu_hub_connections 2')
    expect(await metric(h, /^dpu_hub_connections_refused_total\{reason="federation.connection-limit"\}/)).toBe('dpu_hub_connections_refused_total{reason="federation.connection-limit"} 20')
    const refusals = log.lines.filter((l) => l.fields.reason === 'federation.connection-limit')
    expect(refusals).toHaveLength(1) // rate-limited: 20 refusals, one line
    expect(refusals[0]).toMatchObject({ level: 'warn', msg: 'refusing agent connection', fields: { identity: 'dpu-a', peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) } })

    // The connections within the cap stay usable, and another identity is not affected: a gRPC agent is served.
    expect(kept.every((c) => !c.session.closed && !c.session.destroyed)).toBe(true)
    const b = stream(await client(h, 'dpu-b'))
    b.send(hello('dpu-b'))
    await until(() => bookmark(b) !== undefined, 30_000, 'dpu-b served')
    expect(h.openConnections()).toBe(3)

    // A closed connection frees its place.
    kept[0]!.session.close()
    await until(() => h.openConnections() === 2, 30_000, 'closed connection forgotten')
    const again = await connect(h, 'dpu-a')
    await until(() => h.openConnections() === 3, 30_000, 'a new dpu-a connection accepted')
    expect(again.session.destroyed).toBe(false)
  })

  it('a gRPC agent over the cap is refused, and the agent within it keeps its stream', async () => {
    const h = await hub({ maxConnectionsPerIdentity: 1 })
    const first = stream(await client(h, 'dpu-a'))
    first.send(hello('dpu-a'))
    await until(() => bookmark(first) !== undefined, 30_000, 'first agent served')
    const t = await pki.tls('dpu-a')
    // Its own subchannel pool: a second connection, as a second agent process would open.
    const c = new FederationClient(`127.0.0.1:${h.grpcPort}`, grpc.credentials.createSsl(t.ca, t.key, t.cert), { ...CHANNEL_OPTIONS, 'grpc.use_local_subchannel_pool': 1 })
    cleanups.push(() => c.close())
    const second = stream(c)
    second.send(hello('dpu-a'))
    // grpc-js reports the GOAWAY as RESOURCE_EXHAUSTED for a stream it had started, UNAVAILABLE if it saw the
    // GOAWAY first (which comes first is up to the client).
    expect([grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNAVAILABLE]).toContain((await second.ended).code)
    expect(await metric(h, /^dpu_hub_connections_refused_total\{reason="federation.connection-limit"\}/)).toMatch(/ [1-9]\d*$/)
    expect(h.sessions.get('dpu-a')).toBeDefined()
    expect(h.openConnections()).toBe(1)
  })

  it('bounds a certificate that names no DPU by its fingerprint', async () => {
    const h = await hub({ maxConnectionsPerIdentity: 1 })
    await connect(h, 'no-dpu')
    await until(() => h.openConnections() === 1, 30_000, 'one connection open')
    const second = await connect(h, 'no-dpu')
    expect(await second.goaway).toMatchObject({ errorCode: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, details: expect.stringMatching(/^"certificate [0-9A-F:]+" already has 1 open connections/) })
    expect(h.openConnections()).toBe(1)
  })
})

describe('refused TLS connections are logged with the peer and the reason', () => {
  /** Opens a TLS connection to the hub with `stem`'s certificate (null: none) and sends an HTTP/2 preface. */
  async function tlsAttempt(h: RunningHub, stem: string | null): Promise<void> {
    const hubCa = await readFile(join(pki.dir, 'ca.crt'))
    const own = stem ? await pki.tls(stem) : null
    await new Promise<void>((done) => {
      const socket = tls.connect({ host: '127.0.0.1', port: h.grpcPort, ca: hubCa, servername: 'localhost', ALPNProtocols: ['h2'], ...(own ? { cert: own.cert, key: own.key } : {}) })
      socket.on('secureConnect', () => socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'))
      socket.on('error', () => {})
      socket.on('close', () => done())
    })
  }

  it.each([
    ['a certificate from another CA', 'foreign', 'tls.unknown-ca', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['an expired certificate', 'expired', 'tls.expired', 'CERT_HAS_EXPIRED'],
    ['a certificate not yet valid', 'future', 'tls.not-yet-valid', 'CERT_NOT_YET_VALID'],
    ['a certificate without the clientAuth EKU', 'server-eku', 'tls.bad-eku', 'INVALID_PURPOSE'],
    ['no client certificate', null, 'tls.no-client-cert', 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE'],
  ])('%s', async (_what, stem, reason, detail) => {
    const log = recordingLogger()
    const h = await hub({}, log)
    for (let i = 0; i < 3; i++) await tlsAttempt(h, stem)
    await until(async () => (await metric(h, new RegExp(`^dpu_hub_connections_refused_total\\{reason="${reason}"\\} 3$`))) !== undefined, 30_000, `three ${reason} refusals counted`)
    const lines = log.lines.filter((l) => l.msg.startsWith('refusing TLS connection'))
    expect(lines).toHaveLength(1) // three refusals from one host: one line until the interval passes
    expect(lines[0]).toMatchObject({ level: 'warn', fields: { reason, detail, rejectedBy: 'hub', peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) } })
    expect(h.openConnections()).toBe(0)
  })

  it('a gRPC client with an expired certificate gets UNAVAILABLE and the hub logs tls.expired', async () => {
    const log = recordingLogger()
    const h = await hub({}, log)
    const t = await pki.tls('expired')
    const c = new FederationClient(`127.0.0.1:${h.grpcPort}`, grpc.credentials.createSsl(t.ca, t.key, t.cert), CHANNEL_OPTIONS)
    cleanups.push(() => c.close())
    const s = stream(c)
    s.send(hello('dpu-a'))
    expect((await s.ended).code).toBe(grpc.status.UNAVAILABLE)
    await until(async () => (await metric(h, /^dpu_hub_connections_refused_total\{reason="tls.expired"\}/)) !== undefined, 30_000, 'refusal counted')
    expect(log.lines.filter((l) => l.fields.reason === 'tls.expired')).toHaveLength(1)
    expect(h.sessions.size).toBe(0)
  })

  it.each([
    ['an HTTP/2 cleartext preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'ERR_SSL_WRONG_VERSION_NUMBER'],
    ['an HTTP/1.1 request', 'GET /metrics HTTP/1.1\r\nHost: hub\r\n\r\n', 'ERR_SSL_HTTP_REQUEST'],
  ])('plaintext: %s', async (_what, bytes, detail) => {
    const log = recordingLogger()
    const h = await hub({}, log)
    await new Promise<void>((done) => {
      const socket = net.connect(h.grpcPort, '127.0.0.1', () => socket.write(bytes))
      socket.on('error', () => {})
      socket.on('close', () => done())
    })
    await until(() => log.lines.some((l) => l.msg.startsWith('refusing TLS connection')), 30_000, 'refusal logged')
    expect(log.lines.find((l) => l.msg.startsWith('refusing TLS connection'))).toMatchObject({
      level: 'warn',
      fields: { reason: 'tls.plaintext', detail, peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) },
    })
  })

  it('a connection closed before the handshake completes is tls.aborted', async () => {
    const log = recordingLogger()
    const h = await hub({}, log)
    await new Promise<void>((done) => {
      const socket = net.connect(h.grpcPort, '127.0.0.1', () => socket.end())
      socket.on('close', () => done())
    })
    await until(() => log.lines.some((l) => l.fields.reason === 'tls.aborted'), 30_000, 'aborted handshake logged')
    expect(log.lines.find((l) => l.fields.reason === 'tls.aborted')?.fields.peer).toMatch(/^127\.0\.0\.1:\d+$/)
  })
})
