/**
 * Acceptance for federation with real processes over mTLS on loopback: `dpuctl hub run` and agent processes
 * (test/support/agent-process.ts, storing through the SQLite test AgentPort). Appliance processes with OVS
 * are covered once the appliance wires its agent (see the federation report).
 */
import { readFile, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import * as grpc from '@grpc/grpc-js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { encodeCanonical } from '../../federation/wire/cbor.js'
import { CHANNEL_OPTIONS, FederationClient, type SyncClientStream } from '../../federation/wire/service.js'
import { issueDpuCertificate, initDevPki } from '../../federation/certs/openssl.js'
import { chainYaml, INTERFACES_YAML, writeAtomic } from '../support/federation-fixtures.js'
import { startAgentProcess, startHubProcess, until, type AgentProcess, type HubProcess } from '../support/federation-processes.js'

let pki: string
let otherPki: string
let work: string
const procs: Array<{ kill(): Promise<void> }> = []

beforeAll(async () => {
  pki = await mkdtemp(join(tmpdir(), 'fed-e2e-pki-'))
  await initDevPki(pki)
  for (const dpu of ['dpu-a', 'dpu-b', 'dpu-c']) await issueDpuCertificate({ caDir: pki, outDir: pki, dpu })
  await issueDpuCertificate({ caDir: pki, outDir: join(pki, 'expired'), dpu: 'dpu-a', notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') })
  otherPki = await mkdtemp(join(tmpdir(), 'fed-e2e-other-'))
  await initDevPki(otherPki)
  await issueDpuCertificate({ caDir: otherPki, outDir: otherPki, dpu: 'dpu-a' })
})
afterAll(async () => {
  await rm(pki, { recursive: true, force: true })
  await rm(otherPki, { recursive: true, force: true })
})
afterEach(async () => {
  for (const p of procs.splice(0).reverse()) await p.kill()
  await rm(work, { recursive: true, force: true })
})

async function setupDirs(): Promise<{ manifests: string; registry: string }> {
  work = await mkdtemp(join(tmpdir(), 'fed-e2e-'))
  const manifests = join(work, 'manifests')
  await mkdir(manifests)
  const registry = join(work, 'dpus.yaml')
  await writeFile(registry, 'dpus:\n  dpu-a: {labels: {zone: a}}\n  dpu-b: {labels: {zone: b}}\n  dpu-c: {labels: {zone: a}}\n')
  return { manifests, registry }
}

async function hub(manifests: string, registry: string, listen = '127.0.0.1:0', dataDir = join(work, 'hub')): Promise<HubProcess> {
  const h = await startHubProcess([
    '--data-dir',
    dataDir,
    '--manifests',
    manifests,
    '--dpu-registry',
    registry,
    '--listen',
    listen,
    '--api-listen',
    '127.0.0.1:0',
    '--tls-cert',
    join(pki, 'hub.crt'),
    '--tls-key',
    join(pki, 'hub.key'),
    '--tls-ca',
    join(pki, 'ca.crt'),
    '--log-level',
    'warn',
  ])
  procs.push(h)
  return h
}

function agent(dpu: string, grpcPort: number, extra: Record<string, string> = {}): AgentProcess {
  const a = startAgentProcess({
    AGENT_HUB: `127.0.0.1:${grpcPort}`,
    AGENT_DPU: dpu,
    AGENT_DB: join(work, `${dpu}.db`),
    AGENT_STATE: join(work, `${dpu}.state.json`),
    AGENT_CERT: join(pki, `${dpu}.crt`),
    AGENT_KEY: join(pki, `${dpu}.key`),
    AGENT_CA: join(pki, 'ca.crt'),
    ...extra,
  })
  procs.push(a)
  return a
}

function readStore(dpu: string): { kinds: string[]; revision: number; commits: Array<{ revision: number; upserts: number; removals: number }> } {
  const path = join(work, `${dpu}.db`)
  if (!existsSync(path)) return { kinds: [], revision: 0, commits: [] }
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const has = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'commits'").get() as { n: number }
    if (has.n === 0) return { kinds: [], revision: 0, commits: [] }
    const kinds = (db.prepare('SELECT body FROM objects').all() as Array<{ body: string }>)
      .map((r) => {
        const o = JSON.parse(r.body) as { kind: string; metadata: { name: string } }
        return `${o.kind}/${o.metadata.name}`
      })
      .sort()
    const revision = (db.prepare('SELECT applied_revision AS r FROM sync').get() as { r: number }).r
    const commits = db.prepare('SELECT revision, upserts, removals FROM commits ORDER BY revision').all() as Array<{ revision: number; upserts: number; removals: number }>
    return { kinds, revision, commits }
  } finally {
    db.close()
  }
}

const A_KINDS = ['ServiceChain/chain-a', 'ServiceInterface/p0', 'ServiceInterface/p0-sf']
const B_KINDS = ['ServiceInterface/p0', 'ServiceInterface/p0-sf']

describe('federation with real hub and agent processes over mTLS', () => {
  it('delivers each DPU its rendered objects; survives hub loss; resyncs by delta and bookmark', async () => {
    const { manifests, registry } = await setupDirs()
    let h = await hub(manifests, registry)
    const a = agent('dpu-a', h.grpcPort)
    const b = agent('dpu-b', h.grpcPort)
    await until(() => a.state()?.connection === 'connected' && b.state()?.connection === 'connected', 20_000, 'agents connected')

    await writeAtomic(join(manifests, 'interfaces.yaml'), INTERFACES_YAML)
    await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a'))
    await until(() => readStore('dpu-a').kinds.join() === A_KINDS.join() && readStore('dpu-b').kinds.join() === B_KINDS.join(), 15_000, 'rendered objects on both DPUs')

    const fleet = (await (await fetch(`http://127.0.0.1:${h.apiPort}/v1/fleet`)).json()) as { summary: { connected: number } }
    expect(fleet.summary.connected).toBe(2)

    // Hub killed: agents stay up with their stored state; the connection state says so.
    const port = h.grpcPort
    await h.kill()
    await until(() => a.state()?.connection !== 'connected', 5000, 'agent notices hub loss')
    expect(a.child.exitCode).toBeNull()
    expect(readStore('dpu-a').kinds).toEqual(A_KINDS)
    expect(a.state()?.lastHubContact).not.toBeNull()

    // A change made while disconnected reaches the DPU as a delta after reconnect.
    await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a', 'v2'))
    const bytesA = (await until(() => a.state(), 2000, 'agent state')).bytesReceived
    const bytesB = (await until(() => b.state(), 2000, 'agent state')).bytesReceived
    const revB = readStore('dpu-b').revision
    h = await hub(manifests, registry, `127.0.0.1:${port}`)
    await until(() => readStore('dpu-a').commits.at(-1)?.upserts === 1 && a.state()?.connection === 'connected', 15_000, 'delta after reconnect')
    await until(() => b.state()?.connection === 'connected' && b.state()!.messagesReceived > 0 && b.state()!.bytesReceived > bytesB, 15_000, 'dpu-b reconnected')
    const deltaBytes = a.state()!.bytesReceived - bytesA
    const bookmarkBytes = b.state()!.bytesReceived - bytesB
    const fullSetBytes = (await readFile(join(manifests, 'interfaces.yaml'))).length // a lower bound for a full resend
    expect(readStore('dpu-a').commits.at(-1)).toMatchObject({ upserts: 1, removals: 0 })
    expect(deltaBytes).toBeLessThan(fullSetBytes + 1500)
    // dpu-b had nothing new: it received only a bookmark and committed nothing.
    expect(bookmarkBytes).toBeLessThan(100)
    expect(readStore('dpu-b').revision).toBe(revB)
    // Each agent reconnected over one connection: the attempts made while the hub was down left none behind
    // (a channel per attempt used to, and the per-identity cap then refused the agent's real connection).
    const metrics = await (await fetch(`http://127.0.0.1:${h.apiPort}/metrics`)).text()
    expect(metrics).toMatch(/^dpu_hub_connections 2$/m)
    expect(metrics).not.toMatch(/^dpu_hub_connections_refused_total\{[^}]*\} [1-9]/m)
  })

  it('keeps revisions monotonic and resends nothing after the hub database is deleted', async () => {
    const { manifests, registry } = await setupDirs()
    await writeAtomic(join(manifests, 'interfaces.yaml'), INTERFACES_YAML)
    await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a'))
    let h = await hub(manifests, registry)
    const a = agent('dpu-a', h.grpcPort)
    await until(() => readStore('dpu-a').kinds.length === 3, 20_000, 'initial sync')
    const before = readStore('dpu-a')
    const port = h.grpcPort
    await h.kill()
    await rm(join(work, 'hub'), { recursive: true, force: true })
    const messages = (await until(() => a.state(), 2000, 'agent state')).messagesReceived
    h = await hub(manifests, registry, `127.0.0.1:${port}`)
    await until(() => a.state()?.connection === 'connected' && a.state()!.messagesReceived > messages, 15_000, 'reconnect')
    expect(readStore('dpu-a').commits).toEqual(before.commits)
    await writeAtomic(join(manifests, 'chain.yaml'), chainYaml('chain-a', 'a', 'v2'))
    await until(() => readStore('dpu-a').revision > before.revision, 15_000, 'next revision')
    expect(readStore('dpu-a').revision).toBe(before.revision + 1)
    // The hub has one push in flight per agent, in order: the v2 revision landing is the barrier after which a
    // resend of the old content would already show as a commit. Only v2 was committed since the restart.
    expect(readStore('dpu-a').commits).toEqual([...before.commits, expect.objectContaining({ revision: before.revision + 1 })])
  })

  it('converges without applying twice when the agent dies between commit and ack', async () => {
    const { manifests, registry } = await setupDirs()
    await writeAtomic(join(manifests, 'interfaces.yaml'), INTERFACES_YAML)
    const h = await hub(manifests, registry)
    const faulty = agent('dpu-a', h.grpcPort, { AGENT_FAULT: 'kill-after-commit' })
    await until(() => faulty.child.signalCode === 'SIGKILL', 20_000, 'agent killed itself after commit')
    const afterCrash = readStore('dpu-a')
    expect(afterCrash.commits).toHaveLength(1)
    expect(afterCrash.kinds).toEqual(B_KINDS)
    const a = agent('dpu-a', h.grpcPort)
    await until(() => a.state()?.connection === 'connected', 20_000, 'restarted agent connected')
    await until(
      async () => {
        const d = (await (await fetch(`http://127.0.0.1:${h.apiPort}/v1/dpus/dpu-a`)).json()) as { phase: string; ackedRevision: number }
        return d.phase === 'synced' && d.ackedRevision === afterCrash.revision
      },
      5000,
      'hub sees dpu-a synced at the committed revision',
    )
    expect(readStore('dpu-a').commits).toEqual(afterCrash.commits)
  })
})

describe('federation security (real hub process)', () => {
  let h: HubProcess
  let manifests: string

  const rawStream = async (certDir: string, name: string, opts: grpc.ChannelOptions = {}): Promise<{ call: SyncClientStream; client: grpc.Client; done: Promise<grpc.StatusObject> }> => {
    const creds =
      name === ''
        ? grpc.credentials.createSsl(await readFile(join(pki, 'ca.crt')))
        : grpc.credentials.createSsl(await readFile(join(pki, 'ca.crt')), await readFile(join(certDir, `${name}.key`)), await readFile(join(certDir, `${name}.crt`)))
    const client = new FederationClient(`127.0.0.1:${h.grpcPort}`, creds, { ...CHANNEL_OPTIONS, 'grpc.use_local_subchannel_pool': 1, ...opts })
    const call = (client as unknown as { sync(): SyncClientStream }).sync()
    const done = new Promise<grpc.StatusObject>((resolve) => {
      call.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details, metadata: e.metadata }))
      call.on('status', (s: grpc.StatusObject) => resolve(s))
      call.on('data', () => {})
    })
    return { call, client, done }
  }
  const hello = (dpu: string) => encodeCanonical({ v: 1, type: 'hello', dpu, appliedRevision: 0, objectHashes: {}, versions: { protocol: 1, agent: 't' } })

  it('rejects bad certificates and bad messages per stream while serving the others', async () => {
    ;({ manifests } = await setupDirs())
    await writeAtomic(join(manifests, 'interfaces.yaml'), INTERFACES_YAML)
    await writeAtomic(join(manifests, 'chain-b.yaml'), chainYaml('chain-b', 'b'))
    h = await hub(manifests, join(work, 'dpus.yaml'))
    const good = agent('dpu-c', h.grpcPort)
    await until(() => readStore('dpu-c').kinds.length === 2, 20_000, 'legit agent synced')

    const outcomes: Record<string, grpc.StatusObject> = {}
    const attempt = async (label: string, certDir: string, name: string, messages: Buffer[], opts: grpc.ChannelOptions = {}) => {
      const s = await rawStream(certDir, name, opts)
      for (const m of messages) s.call.write(m)
      outcomes[label] = await Promise.race([s.done, new Promise<grpc.StatusObject>((r) => setTimeout(() => r({ code: -1 as grpc.status, details: 'no close', metadata: new grpc.Metadata() }), 5000))])
      s.call.cancel()
      s.client.close()
    }
    await attempt('no client certificate', pki, '', [hello('dpu-a')])
    await attempt('expired certificate', join(pki, 'expired'), 'dpu-a', [hello('dpu-a')])
    await attempt('certificate from another CA', otherPki, 'dpu-a', [hello('dpu-a')])
    await attempt('dpu-a claims dpu-b', pki, 'dpu-a', [hello('dpu-b')])
    await attempt('status before hello', pki, 'dpu-a', [encodeCanonical({ v: 1, type: 'status', revision: 0, phase: 'applied', objects: [] })])
    await attempt('malformed CBOR', pki, 'dpu-a', [hello('dpu-a'), Buffer.from([0xa2, 0x61, 0x76])])
    await attempt('unknown message type', pki, 'dpu-a', [hello('dpu-a'), encodeCanonical({ v: 1, type: 'subscribe', dpu: 'dpu-b' })])
    await attempt('oversized message', pki, 'dpu-a', [hello('dpu-a'), Buffer.alloc(5 * 1024 * 1024, 0x41)], { 'grpc.max_send_message_length': -1 })

    // TLS rejections never reach the service: the handshake fails, the client sees UNAVAILABLE.
    for (const k of ['no client certificate', 'expired certificate', 'certificate from another CA']) expect(outcomes[k]!.code, k).toBe(grpc.status.UNAVAILABLE)
    expect(outcomes['dpu-a claims dpu-b']).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringMatching(/certificate identifies "dpu-a" but hello claims "dpu-b"/) })
    expect(outcomes['status before hello']).toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: expect.stringMatching(/expected hello first/) })
    expect(outcomes['malformed CBOR']).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/malformed CBOR/) })
    expect(outcomes['unknown message type']).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/unknown message type "subscribe"/) })
    expect(outcomes['oversized message']!.code).toBe(grpc.status.RESOURCE_EXHAUSTED)
    expect(outcomes['oversized message']!.details).toMatch(/larger than max|exceeds/i)

    // dpu-b's state never went anywhere, no status was recorded for it, and the legit agent still syncs.
    const dpuB = await fetch(`http://127.0.0.1:${h.apiPort}/v1/dpus/dpu-b`)
    expect(dpuB.status).toBe(404)
    await writeAtomic(join(manifests, 'chain-c.yaml'), chainYaml('chain-c', 'a'))
    await until(() => readStore('dpu-c').kinds.includes('ServiceChain/chain-c'), 3000, 'legit agent still served')
    expect(good.state()?.connection).toBe('connected')
    const metrics = await (await fetch(`http://127.0.0.1:${h.apiPort}/metrics`)).text()
    expect(metrics).toMatch(/dpu_hub_stream_errors_total\{reason="federation.identity"\} [1-9]/)
    expect(metrics).toMatch(/dpu_hub_stream_errors_total\{reason="federation.protocol"\} [1-9]/)
  })
})
