/**
 * The agent dials its hub over mTLS by IP address without node's DEP0123 warning ("Setting the TLS ServerName
 * to an IP address is not permitted by RFC 6066"): real `dpuctl hub run` and agent processes on loopback. The
 * hub certificate is still checked against the address dialled: one the certificate does not name is refused.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { initDevPki, issueDpuCertificate } from '../../federation/certs/openssl.js'
import { startAgentProcess, startHubProcess, until, type Proc } from '../support/federation-processes.js'

let pki: string
let work: string
const procs: Proc[] = []

beforeAll(async () => {
  pki = await mkdtemp(join(tmpdir(), 'hub-tls-pki-'))
  await initDevPki(pki) // hub certificate names localhost, 127.0.0.1 and ::1
  await issueDpuCertificate({ caDir: pki, outDir: pki, dpu: 'dpu-a' })
})
afterAll(() => rm(pki, { recursive: true, force: true }))
afterEach(async () => {
  for (const p of procs.splice(0).reverse()) await p.kill()
  await rm(work, { recursive: true, force: true })
})

async function hubAndAgent(listenHost: string, dialHost: string) {
  work = await mkdtemp(join(tmpdir(), 'hub-tls-'))
  await mkdir(join(work, 'manifests'))
  await writeFile(join(work, 'dpus.yaml'), 'dpus:\n  dpu-a: {labels: {zone: a}}\n')
  const hub = await startHubProcess([
    '--data-dir',
    join(work, 'hub'),
    '--manifests',
    join(work, 'manifests'),
    '--dpu-registry',
    join(work, 'dpus.yaml'),
    '--listen',
    `${listenHost}:0`,
    '--api-listen',
    '127.0.0.1:0',
    '--tls-cert',
    join(pki, 'hub.crt'),
    '--tls-key',
    join(pki, 'hub.key'),
    '--tls-ca',
    join(pki, 'ca.crt'),
  ])
  procs.push(hub)
  const agent = startAgentProcess({
    AGENT_HUB: `${dialHost}:${hub.grpcPort}`,
    AGENT_DPU: 'dpu-a',
    AGENT_DB: join(work, 'dpu-a.db'),
    AGENT_STATE: join(work, 'dpu-a.state.json'),
    AGENT_CERT: join(pki, 'dpu-a.crt'),
    AGENT_KEY: join(pki, 'dpu-a.key'),
    AGENT_CA: join(pki, 'ca.crt'),
  })
  procs.push(agent)
  return { hub, agent }
}

describe('agent dialling the hub over mTLS', () => {
  it.each([
    ['an IPv4 address', '127.0.0.1'],
    ['a DNS name', 'localhost'],
  ])('by %s connects with no deprecation warning', async (_what, host) => {
    const { hub, agent } = await hubAndAgent('127.0.0.1', host)
    await until(() => agent.state()?.connection === 'connected', 20_000, 'agent connected')
    for (const p of [agent, hub]) {
      expect(p.output()).not.toContain('DEP0123')
      expect(p.output()).not.toContain('DeprecationWarning')
    }
  })

  it('refuses a hub whose certificate does not name the address dialled', async () => {
    // 127.0.0.2 is loopback too, but the development hub certificate names only 127.0.0.1, ::1 and localhost.
    const { agent } = await hubAndAgent('127.0.0.2', '127.0.0.2')
    const state = await until(() => (agent.state()?.lastError ? agent.state() : null), 20_000, 'a failed attempt')
    expect(state.connection).not.toBe('connected')
    expect(state.lastError?.message).toMatch(/IP: 127\.0\.0\.2 is not in the cert's list/)
  })
})
