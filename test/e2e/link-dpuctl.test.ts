/**
 * The set-up puts `dpuctl` on PATH (`.ci/link-dpuctl`, run by `.ci/setup`): a symlink to this checkout's
 * launcher that works from any directory, made once, moved from another checkout, and never over something else.
 * Runs the real script against a temporary DPUCTL_BIN_DIR, never the machine's /usr/local/bin.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../support/appliance-process.js'

const run = promisify(execFile)
const SCRIPT = join(REPO_ROOT, '.ci', 'link-dpuctl')
const LAUNCHER = join(REPO_ROOT, 'bin', 'dpuctl.mjs')

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'link-dpuctl-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

async function link(binDir: string): Promise<{ stdout: string; stderr: string }> {
  return run('bash', [SCRIPT], { env: { ...process.env, DPUCTL_BIN_DIR: binDir, PATH: `${binDir}:${process.env.PATH ?? ''}` } })
}

describe('.ci/link-dpuctl', () => {
  it('links dpuctl to this checkout, says so, and is idempotent; dpuctl then runs from any directory', async () => {
    const first = await link(dir)
    expect(first.stdout).toBe(`setup: dpuctl on PATH: linked ${join(dir, 'dpuctl')} -> ${LAUNCHER}\n`)
    expect(readlinkSync(join(dir, 'dpuctl'))).toBe(LAUNCHER)
    expect((await link(dir)).stdout).toBe(`setup: dpuctl on PATH: ${join(dir, 'dpuctl')} -> ${LAUNCHER}\n`)
    const help = await run(join(dir, 'dpuctl'), ['appliance', 'cleanup', '--help'], { cwd: tmpdir(), env: { ...process.env, DPUCTL_FROM_SOURCE: '1' } })
    expect(help.stdout).toMatch(/^Usage: dpuctl appliance cleanup/)
  })

  it("moves a link to another checkout's launcher here, and leaves anything else of that name alone", async () => {
    symlinkSync('/nowhere/old-checkout/bin/dpuctl.mjs', join(dir, 'dpuctl'))
    expect((await link(dir)).stdout).toContain(`(was -> /nowhere/old-checkout/bin/dpuctl.mjs)`)
    expect(readlinkSync(join(dir, 'dpuctl'))).toBe(LAUNCHER)

    rmSync(join(dir, 'dpuctl'))
    writeFileSync(join(dir, 'dpuctl'), '#!/bin/sh\necho mine\n')
    const other = await link(dir)
    expect(other.stderr).toContain('exists and is not a dpu-appliance launcher; left alone')
    expect(readFileSync(join(dir, 'dpuctl'), 'utf8')).toBe('#!/bin/sh\necho mine\n')
  })

  it('says how to get dpuctl when it cannot write the directory, and does not fail the set-up', async () => {
    const r = await link(join(dir, 'missing'))
    expect(r.stderr).toContain(`ln -sfn ${LAUNCHER} ${join(dir, 'missing', 'dpuctl')}`)
  })
})
