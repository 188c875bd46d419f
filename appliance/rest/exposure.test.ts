/**
 * What the local API shows to whom: the Host check (DNS rebinding), `/metrics` and `/openapi.json` behind the
 * token unless `publicMetrics`, and, on a real `dpuctl appliance run` process, HTTPS with `--api-tls-cert/-key`,
 * `--allowed-host`, `--public-metrics` and the warning for a non-loopback listen without TLS.
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../api/support/logger.js'
import { initDevPki } from '../../federation/certs/openssl.js'
import { startApplianceProcess, runDpuctl } from '../../test/support/appliance-process.js'
import { createMetricsRegistry } from '../observe/index.js'
import { openStore, type Store } from '../store/index.js'
import { createApp } from './app.js'
import { hostAllowed, hostName } from './middleware/host-check/index.js'

const TOKEN = 'exposure-token-0123456789abcdef0123456789abcdef'
const auth = { authorization: `Bearer ${TOKEN}` }
let dir: string
let store: Store

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'exposure-test-'))
  store = openStore(join(dir, 'state.db'), { nodeName: 'dpu-a' })
})
afterAll(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

function app(extra: { allowedHosts?: string[]; publicMetrics?: boolean } = {}) {
  return createApp({ store, log: createLogger({ level: 'silent' }), registry: createMetricsRegistry({ defaultMetrics: false }), token: () => TOKEN, node: { name: 'dpu-a', labels: {} }, ...extra })
}

describe('Host header check', () => {
  it.each([
    ['127.0.0.1:7443', '127.0.0.1'],
    ['[::1]:7443', '::1'],
    ['[fe80::1]', 'fe80::1'],
    ['DPU-A.:7443', 'dpu-a'],
    ['localhost', 'localhost'],
  ])('reads the name of %s as %s', (value, name) => {
    expect(hostName(value)).toBe(name)
  })

  it('serves IP literals, localhost, the node name and listed names; refuses any other name with 421', async () => {
    const a = app({ allowedHosts: ['dpu-a.mgmt.example'] })
    for (const host of ['127.0.0.1:7443', '10.0.0.5', '[::1]:7443', 'localhost:7443', 'dpu-a:7443', 'DPU-A.MGMT.example']) {
      expect((await a.request('http://x/healthz', { headers: { host } })).status, host).toBe(200)
    }
    for (const host of ['evil.example', 'evil.example:7443', '127.0.0.1.evil.example', 'dpu-a.evil.example']) {
      const res = await a.request('http://x/apis', { headers: { host, ...auth } })
      expect(res.status, host).toBe(421)
      expect(res.headers.get('content-type')).toContain('application/problem+json')
      const body = (await res.json()) as { code: string; detail: string }
      expect(body.code).toBe('rest.host-not-allowed')
      expect(body.detail).toContain('--allowed-host')
    }
  })

  it('serves any name with --allowed-host "*"', () => {
    expect(hostAllowed('anything.example', new Set(['*']))).toBe(true)
    expect(hostAllowed('anything.example', new Set(['dpu-a']))).toBe(false)
  })
})

describe('/metrics and /openapi.json', () => {
  it('need the token by default', async () => {
    const a = app()
    for (const path of ['/metrics', '/openapi.json']) {
      const res = await a.request(path)
      expect(res.status, path).toBe(401)
      expect((await a.request(path, { headers: auth })).status, path).toBe(200)
    }
    // Probes, version and the explorer page stay open: kubelet and humans reach them without a secret.
    for (const path of ['/healthz', '/readyz', '/version', '/docs']) expect((await a.request(path)).status, path).toBe(200)
  })

  it('are open with publicMetrics, and the document says so', async () => {
    const a = app({ publicMetrics: true })
    expect((await a.request('/metrics')).status).toBe(200)
    const doc = (await (await a.request('/openapi.json')).json()) as { paths: Record<string, { get?: { security?: unknown[] } }> }
    expect(doc.paths['/version']?.get?.security).toEqual([])
  })
})

describe('dpuctl appliance run: TLS, --allowed-host, --public-metrics', () => {
  let pki: string
  beforeAll(async () => {
    pki = mkdtempSync(join(tmpdir(), 'exposure-pki-'))
    await initDevPki(pki)
  })
  afterAll(() => rmSync(pki, { recursive: true, force: true }))

  function httpsGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { ca: readFileSync(join(pki, 'ca.crt')), headers }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.end()
    })
  }

  it('serves HTTPS with the given certificate; plain HTTP on that port gets no answer', async () => {
    const a = await startApplianceProcess({ nodeName: 'dpu-tls', extraArgs: ['--api-tls-cert', join(pki, 'hub.crt'), '--api-tls-key', join(pki, 'hub.key')] })
    try {
      expect(a.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
      expect((await httpsGet(`${a.url}/healthz`)).status).toBe(200)
      expect((await httpsGet(`${a.url}/apis`, { authorization: `Bearer ${a.token}` })).status).toBe(200)
      expect((await httpsGet(`${a.url}/metrics`)).status).toBe(401)
      await expect(fetch(a.url.replace('https:', 'http:') + '/healthz')).rejects.toThrow()
      expect(a.logs.join('\n')).not.toContain('without TLS')
    } finally {
      await a.dispose()
    }
  })

  it('warns once when it listens beyond loopback without TLS, and honours --allowed-host and --public-metrics', async () => {
    const a = await startApplianceProcess({ nodeName: 'dpu-open', extraArgs: ['--listen', '0.0.0.0:0', '--allowed-host', 'dpu-open.mgmt.example', '--public-metrics'] })
    try {
      const warnings = a.logs.filter((l) => l.includes('without TLS'))
      expect(warnings).toHaveLength(1)
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 'warn' })
      const port = new URL(a.url).port
      // fetch() sets Host itself; a browser fooled by DNS rebinding sends the attacker's name, as node:http can.
      const get = (path: string, host: string) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
            res.resume()
            resolve(res.statusCode ?? 0)
          })
          req.on('error', reject)
          req.end()
        })
      expect(await get('/healthz', 'dpu-open.mgmt.example')).toBe(200)
      expect(await get('/healthz', `rebound.example:${port}`)).toBe(421)
      expect(await get('/metrics', '127.0.0.1')).toBe(200)
    } finally {
      await a.dispose()
    }
  })

  it('refuses a certificate without its key, and an unreadable certificate, with a clear message', async () => {
    const half = await runDpuctl(['appliance', 'run', '--ovsdb', 'none', '--data-dir', join(pki, 'd1'), '--api-tls-cert', join(pki, 'hub.crt')])
    expect(half.code).toBe(1)
    expect(half.stderr).toContain('api-tls-cert and api-tls-key go together')
    const missing = await runDpuctl([
      'appliance',
      'run',
      '--ovsdb',
      'none',
      '--listen',
      '127.0.0.1:0',
      '--data-dir',
      join(pki, 'd2'),
      '--api-tls-cert',
      join(pki, 'nope.crt'),
      '--api-tls-key',
      join(pki, 'hub.key'),
    ])
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toContain(join(pki, 'nope.crt'))
  })
})
