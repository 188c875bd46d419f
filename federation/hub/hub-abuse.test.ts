/**
 * One DPU certificate cannot exhaust or wedge the hub (issue #14): a real hub over real gRPC + mTLS on loopback,
 * driven by a raw client that says what a broken or hostile agent would (oversized hellos, no hello at all,
 * revisions the hub never minted, certificates that name no DPU or two).
 */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION, type AgentMessage, type HubMessage } from '../../api/federation/messages.js'
import { INTERFACES_YAML, makePki, parseManifest, removeDir, render, writeAtomic, type Pki } from '../../test/support/federation-fixtures.js'
import { recordingLogger } from '../../test/support/recording-logger.js'
import { dpuUri } from '../certs/identity.js'
import { issueCertificate } from '../certs/openssl.js'
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
