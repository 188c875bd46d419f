/**
 * The appliance's token file as the server uses it: refused when group or others can read it, re-read when it
 * changes (a rotation revokes the old token at once), and a file that became unusable refuses every request.
 * Over a real loopback socket, with the refusals logged once per client and reason.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../api/support/logger.js'
import { createMetricsRegistry } from '../observe/index.js'
import { openStore, type Store } from '../store/index.js'
import { createApp } from './app.js'
import { loadOrCreateToken, TokenFileSource } from './token-file.js'

let dir: string
let store: Store
let server: ReturnType<typeof serve>
let url: string
const logs: Array<Record<string, unknown>> = []
let tokenFile: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'token-file-'))
  store = openStore(join(dir, 'state.db'))
  tokenFile = join(dir, 'token')
  writeFileSync(tokenFile, 'first-token\n', { mode: 0o600 })
  const source = new TokenFileSource(tokenFile)
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  const log = createLogger({ level: 'info', destination })
  const app = createApp({ store, log, registry: createMetricsRegistry({ defaultMetrics: false }), token: () => source.current(), node: { name: 'dpu-a', labels: {} } })
  server = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s))
  })
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  ;(server as unknown as { closeAllConnections(): void }).closeAllConnections()
  await new Promise((r) => server.close(r))
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

const get = (token: string) => fetch(`${url}/apis`, { headers: { authorization: `Bearer ${token}` } })

describe('the token file', () => {
  it('is refused at start when group or others can read it', () => {
    const open = join(dir, 'open-token')
    writeFileSync(open, 'x-token\n', { mode: 0o644 })
    chmodSync(open, 0o644)
    expect(() => new TokenFileSource(open)).toThrow(/accessible by group or others \(mode 0644\); run chmod 600/)
    expect(() => loadOrCreateToken(open, false)).toThrow(/mode 0644/)
  })

  it('is re-read when rewritten: the old token stops working with the next request', async () => {
    expect((await get('first-token')).status).toBe(200)
    writeFileSync(tokenFile, 'second-token\n', { mode: 0o600 })
    expect((await get('first-token')).status).toBe(401)
    expect((await get('second-token')).status).toBe(200)
  })

  it('refuses every request while the file is unusable, and works again once it is fixed', async () => {
    chmodSync(tokenFile, 0o644)
    const res = await get('second-token')
    expect(res.status).toBe(401)
    expect(((await res.json()) as { detail: string }).detail).toMatch(/token file is unusable: .*mode 0644/)
    chmodSync(tokenFile, 0o600)
    expect((await get('second-token')).status).toBe(200)
  })

  it('logs refusals once per client and reason', async () => {
    const before = logs.filter((l) => l.msg === 'request refused: 401').length
    // (a wrong token was already refused and logged above, within the minute: this reason is new)
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/apis`)).status).toBe(401)
    const lines = logs.filter((l) => l.msg === 'request refused: 401').slice(before)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ level: 'warn', client: '127.0.0.1', reason: 'no Authorization header', path: '/apis' })
    expect(logs.filter((l) => l.reason === 'token does not match')).toHaveLength(1)
  })
})
