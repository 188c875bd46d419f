/**
 * What an operator sees when the appliance cannot reach its Open vSwitch database, from the real
 * `dpuctl appliance run` process: one line naming what is missing and what to do, no stack traces, the socket
 * path once per line, retries that stay quiet, and one line when the database finally appears.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startApplianceProcess, type ApplianceProcess } from '../support/appliance-process.js'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { until } from '../support/until.js'

interface LogLine {
  raw: string
  level: string
  component?: string
  msg: string
}

const parse = (raw: string): LogLine => ({ raw, ...(JSON.parse(raw) as Omit<LogLine, 'raw'>) })
const occurrences = (text: string, what: string): number => text.split(what).length - 1
/** Retries happen every few seconds (capped backoff): this long is several of them. */
const SAMPLE_MS = 6000

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function applianceAt(socket: string): Promise<ApplianceProcess> {
  // debug: even the lines an operator does not see by default must not repeat, carry stacks or the path twice
  const app = await startApplianceProcess({ extraArgs: ['--ovsdb', `unix:${socket}`, '--log-level', 'debug'] })
  cleanups.push(() => app.dispose())
  return app
}

const ovsLines = (app: ApplianceProcess): LogLine[] => app.logs.map(parse).filter((l) => l.component === 'ovs')

describe('appliance without its Open vSwitch database', () => {
  it('says once what is missing and how to fix it, then retries quietly', async () => {
    const socket = '/nonexistent/db.sock'
    const app = await applianceAt(socket)
    const first = await until('the first OVSDB warning', async () => ovsLines(app).find((l) => l.level === 'warn'))
    expect(first.msg).toContain('Open vSwitch database unavailable: no such socket (ENOENT)')
    expect(first.msg).toContain('start Open vSwitch')
    expect(first.msg).toContain('--ovsdb unix:PATH')
    expect(first.msg).toContain('--ovsdb none')

    await new Promise((r) => setTimeout(r, SAMPLE_MS))
    const lines = app.logs.map(parse)
    const aboutOvsdb = lines.filter((l) => l.raw.includes(socket))
    // The first failure, and at most one debug line from the client (rate-limited); a reminder is a minute away.
    expect(aboutOvsdb.filter((l) => l.level === 'warn')).toHaveLength(1)
    expect(aboutOvsdb.length).toBeLessThanOrEqual(3)
    for (const l of aboutOvsdb) expect(occurrences(l.raw, socket), l.raw).toBe(1)
    for (const l of lines) expect(l.raw, 'no stack traces for a missing socket').not.toContain('"stack"')
    // Still retrying (and serving its API): readiness names the reason.
    const ready = (await (await fetch(`${app.url}/readyz`)).json()) as { checks?: Array<{ name: string; message?: string }> }
    expect(JSON.stringify(ready)).toContain('no such socket (ENOENT)')
  })

  it('says once that it connected when the database appears', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ovsdb-later-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const socket = join(dir, 'db.sock')
    const app = await applianceAt(socket)
    await until('the first OVSDB warning', async () => ovsLines(app).find((l) => l.level === 'warn'))

    const ovs: OvsSandbox = await startOvsSandbox({ vswitchd: false, privateNetns: false })
    cleanups.push(() => ovs.stop())
    symlinkSync(ovs.dbSock, socket)
    const connected = await until('the connected line', async () => ovsLines(app).find((l) => l.msg.startsWith('connected to the Open vSwitch database')), 20_000)
    expect(connected.msg).toMatch(/after \d+ failed attempts? over \d+s$/)
    expect(connected.level).toBe('info')
    // One line for the connection, not one per layer (client sync + node).
    await new Promise((r) => setTimeout(r, 500))
    expect(ovsLines(app).filter((l) => l.level !== 'debug' && /connected|synced/.test(l.msg))).toHaveLength(1)
  })
})
