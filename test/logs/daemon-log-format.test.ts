/**
 * Both daemons write one log format (api/support/logger.ts): every stderr line of a real `dpuctl appliance run`
 * (with its OVS and agent children) and a real `dpuctl hub run` is a JSON object with `level` as a name, an
 * ISO 8601 `time`, and no key twice; the hub's stdout is its one machine-readable line.
 */
import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startApplianceProcess } from '../support/appliance-process.js'
import { startHubProcess, type Proc } from '../support/federation-processes.js'
import { until } from '../support/until.js'

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']
const ISO_8601 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

/**
 * Keys that appear twice in one object of a valid JSON text, at any depth. JSON.parse keeps the last of
 * duplicates silently, so the raw text is scanned.
 */
function duplicateKeys(text: string): string[] {
  let i = 0
  const dups: string[] = []
  const ws = (): void => {
    while (/\s/.test(text[i] ?? '')) i++
  }
  const str = (): string => {
    const start = i++
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1
    return JSON.parse(text.slice(start, ++i)) as string
  }
  const value = (): void => {
    ws()
    const c = text[i]
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']'
      const seen = new Set<string>()
      i++
      ws()
      if (text[i] === close) return void i++
      for (;;) {
        ws()
        if (c === '{') {
          const key = str()
          if (seen.has(key)) dups.push(key)
          seen.add(key)
          ws()
          i++ // ':'
        }
        value()
        ws()
        if (text[i++] === close) return
      }
    }
    if (c === '"') return void str()
    while (i < text.length && !/[,}\]\s]/.test(text[i]!)) i++ // number, true, false, null
  }
  value()
  return dups
}

function checkLines(daemon: string, stderr: string): Array<Record<string, unknown>> {
  const lines = stderr.split('\n').filter((l) => l.length > 0)
  expect(lines.length, `${daemon} logged nothing`).toBeGreaterThan(0)
  return lines.map((raw) => {
    let rec: Record<string, unknown>
    try {
      rec = JSON.parse(raw) as Record<string, unknown>
    } catch {
      throw new Error(`${daemon} wrote a line that is not JSON: ${raw}`)
    }
    expect(LEVELS, raw).toContain(rec.level)
    expect(String(rec.time), raw).toMatch(ISO_8601)
    expect(new Date(String(rec.time)).toISOString(), raw).toBe(rec.time)
    expect(duplicateKeys(raw), raw).toEqual([])
    return rec
  })
}

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

describe('daemon log lines', () => {
  it('finds duplicate keys where JSON.parse would hide them', () => {
    expect(duplicateKeys('{"a":1,"b":{"c":[{"d":"x\\"","d":2}]},"a":"y"}')).toEqual(['d', 'a'])
    expect(duplicateKeys('{"component":"appliance","x":[1,{"component":"ovs"}]}')).toEqual([])
  })

  it('the hub and an appliance joined to it write JSON lines with level names, ISO times and no duplicate keys', async () => {
    const work = await mkdtemp(join(tmpdir(), 'log-format-'))
    cleanups.push(() => rm(work, { recursive: true, force: true }))
    await mkdir(join(work, 'manifests'))
    const hub: Proc & { grpcPort: number } = await startHubProcess([
      '--data-dir',
      join(work, 'hub'),
      '--manifests',
      join(work, 'manifests'),
      '--insecure',
      '--listen',
      '127.0.0.1:0',
      '--api-listen',
      '127.0.0.1:0',
      '--log-level',
      'debug',
    ])
    cleanups.push(() => hub.kill())
    // The appliance's children (ovs, reconcile, agent) each bind `component`; a missing OVS makes `ovs` talk.
    const app = await startApplianceProcess({
      extraArgs: ['--ovsdb', 'unix:/nonexistent/db.sock', '--hub', `127.0.0.1:${hub.grpcPort}`, '--insecure', '--dpu-name', 'dpu-test', '--log-level', 'debug'],
    })
    cleanups.push(() => app.dispose())
    await until('the agent connected and OVS reported', async () => {
      const text = app.logs.join('\n')
      return text.includes('connected to the federation hub') && text.includes('"component":"ovs"')
    })
    await until('the hub saw the agent', async () => hub.stderr().includes('agent connected'))
    await app.stop()
    await hub.kill('SIGTERM')

    const appLines = checkLines('appliance', app.logs.join('\n'))
    for (const l of appLines) expect(typeof l.component, JSON.stringify(l)).toBe('string')
    expect([...new Set(appLines.map((l) => l.component))]).toEqual(expect.arrayContaining(['appliance', 'ovs', 'agent']))
    const hubLines = checkLines('hub', hub.stderr())
    expect(new Set(hubLines.map((l) => l.component))).toEqual(new Set(['hub']))
    expect(hub.stdout()).toMatch(/^hub listening grpc=\d+ api=\d+\n$/)
  })
})
