/**
 * The README's main command works: `dpuctl demo --check` (what `make demo` runs, verifying instead of waiting)
 * starts a hub and two appliances on private Open vSwitch instances, checks objects, flows and real pings,
 * moves a chain between the DPUs, and stops, leaving no process, namespace or temp dir behind. What it says
 * when it cannot run (not root, no OVS) is tested on `demoPreflight` (bin/demo/fleet.test.ts): running
 * the launcher as another user cannot work from a checkout that user may not read (CI's clone is 0700).
 */
import { spawn, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../support/appliance-process.js'
import { guardPid, releasePid } from '../../bin/demo/exit-guard.js'

function runLauncher(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; pid: number; stdout: string; stderr: string }> {
  // bin/dpuctl.mjs is what `make demo` runs; DPUCTL_FROM_SOURCE makes it run these sources, not a stale dist.
  const node = [process.execPath, join(REPO_ROOT, 'bin', 'dpuctl.mjs'), ...args]
  return new Promise((resolve, reject) => {
    const child = spawn(node[0]!, node.slice(1), { cwd: REPO_ROOT, env: { ...process.env, HOME: '/tmp', DPUCTL_FROM_SOURCE: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    guardPid(child.pid)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.once('error', reject)
    child.once('exit', (code) => {
      releasePid(child.pid)
      resolve({ code, pid: child.pid!, stdout, stderr })
    })
  })
}

describe('dpuctl demo', () => {
  it('--check: both appliances reach their rendered objects and flows, a chain moves, everything is removed', async () => {
    const r = await runLauncher(['demo', '--check', '--timeout', '90'])
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0)
    const line = r.stdout.split('\n').find((l) => l.startsWith('demo check passed:'))
    expect(line, r.stdout).toBeDefined()
    console.log(line)
    expect(line).toMatch(/dpu-a 3 objects\/2 flows, dpu-b 2 objects\/0 flows/)
    expect(line).toMatch(/\(dpu-a 2 objects\/0 flows, dpu-b 3 objects\/2 flows\)/)
    expect(line).toMatch(/ping through dpu-b's chain (\d+)\/\1,/)
    // The move's duration is printed for people; that the move happened is asserted above.
    expect(line).toMatch(/chain moved zone a -> b in \d+ ms/)

    // Nothing left: the work dir, the namespaces named after the demo's pid, processes using the work dir.
    const dir = /certificates in (\/\S+)\/pki/.exec(r.stdout)![1]!
    expect(existsSync(dir)).toBe(false)
    const pid36 = r.pid.toString(36)
    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((n) => n.startsWith(`dx-${pid36}-`) || n.startsWith(`da${pid36}-`) || n.startsWith(`db${pid36}-`))
    expect(netns).toEqual([])
    const procs = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(dir))
    expect(procs).toEqual([])
  }, 240_000)

  it('runs until SIGTERM, prints working commands, and cleans up even after every child died', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'dpuctl.mjs'), 'demo'], { cwd: REPO_ROOT, env: { ...process.env, DPUCTL_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    guardPid(child.pid)
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (releasePid(child.pid), resolve(code))))
    try {
      for (const t0 = Date.now(); !out.includes('Ctrl-C stops everything');) {
        if (child.exitCode !== null || Date.now() - t0 > 120_000) throw new Error(`demo did not come up:\n${out}`)
        await new Promise((r) => setTimeout(r, 100))
      }
      const hubUrl = /hub +REST (http:\S+)/.exec(out)![1]!
      const fleet = (await (await fetch(`${hubUrl}/v1/fleet`)).json()) as { summary: { connected: number; synced: number } }
      expect(fleet.summary).toMatchObject({ connected: 2, synced: 2 })
      // The printed client command works as printed (env assignments + dpuctl).
      const statusLine = out.split('\n').find((l) => l.trim().startsWith('DPUCTL_SERVER=') && l.trim().endsWith(' status'))!
      const [server, tokenFile] = [/DPUCTL_SERVER=(\S+)/.exec(statusLine)![1]!, /DPUCTL_TOKEN_FILE=(\S+)/.exec(statusLine)![1]!]
      const status = await runLauncher(['status'], { env: { DPUCTL_SERVER: server, DPUCTL_TOKEN_FILE: tokenFile } })
      expect(status.stdout).toMatch(/Hub:\s+connected/)
      // Every child killed (the hub as the demo suggests, then the appliances): the demo still cleans up on SIGTERM.
      for (const m of out.matchAll(/ pid (\d+)/g)) process.kill(Number(m[1]), 'SIGKILL')
      await new Promise((r) => setTimeout(r, 1000))
      expect(child.exitCode).toBeNull()
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      const dir = /certificates in (\/\S+)\/pki/.exec(out)![1]!
      expect(out).toContain(`stopped; removed ${dir}`)
      expect(existsSync(dir)).toBe(false)
      const pid36 = child.pid!.toString(36)
      const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
        .split('\n')
        .map((l) => l.split(' ')[0]!)
        .filter((n) => n.startsWith(`dx-${pid36}-`) || n.startsWith(`da${pid36}-`) || n.startsWith(`db${pid36}-`) || n.endsWith(`-${child.pid}`))
      expect(left).toEqual([])
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await exited
      }
    }
  }, 240_000)
})
