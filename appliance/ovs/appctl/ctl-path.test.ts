import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveVswitchdCtl } from './ctl-path.js'

describe('resolveVswitchdCtl', () => {
  const dirs: string[] = []
  const rundir = () => {
    const d = mkdtempSync(join(tmpdir(), 'ctl-'))
    dirs.push(d)
    return d
  }
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('prefers the pid-named socket of a packaged vswitchd', () => {
    const d = rundir()
    writeFileSync(join(d, 'ovs-vswitchd.pid'), '4242\n')
    writeFileSync(join(d, 'ovs-vswitchd.4242.ctl'), '')
    writeFileSync(join(d, 'ovs-vswitchd.ctl'), '')
    expect(resolveVswitchdCtl(d)).toBe(join(d, 'ovs-vswitchd.4242.ctl'))
  })

  it('falls back to ovs-vswitchd.ctl (started with --unixctl) when the pid-named socket is absent', () => {
    const d = rundir()
    writeFileSync(join(d, 'ovs-vswitchd.pid'), '4242\n')
    writeFileSync(join(d, 'ovs-vswitchd.ctl'), '')
    expect(resolveVswitchdCtl(d)).toBe(join(d, 'ovs-vswitchd.ctl'))
  })

  it('uses an explicit path as given and reports what it looked for otherwise', () => {
    const d = rundir()
    expect(resolveVswitchdCtl(d, '/run/x.ctl')).toBe('/run/x.ctl')
    expect(() => resolveVswitchdCtl(d)).toThrow(expect.objectContaining({ code: 'appctl.unavailable', message: expect.stringContaining('--ovs-ctl') }))
  })
})
