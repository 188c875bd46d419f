import { execFileSync, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { APPLIANCE_PATHS, computeAppliancePlan, kargsUnit, unpackUnit } from './appliance-plan.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plan-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('systemd units', () => {
  it('pass systemd-analyze verify (only the executables missing on this host are reported)', async () => {
    const units = [
      ...computeAppliancePlan({}).units,
      { name: 'dpu-appliance-unpack.service', contents: unpackUnit() },
      { name: 'dpu-appliance-kargs.service', contents: kargsUnit(['a=b', 'x="1 2"']) },
    ]
    for (const u of units) await writeFile(join(dir, u.name), u.contents)
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...units.map((u) => join(dir, u.name))], { encoding: 'utf8' })
    const problems = (r.stdout + r.stderr).split('\n').filter((l) => l && !/Command (\/opt\/dpu-appliance\/bin\/dpuctl\.mjs|\/usr\/bin\/rpm-ostree) is not executable/.test(l))
    expect(problems).toEqual([])
  })

  it('the unpack script installs the bundle once and verifies its manifest', async () => {
    // The unit's script with systemd's $$ unescaped and its absolute paths moved under a temp root.
    const line = unpackUnit()
      .split('\n')
      .find((l) => l.startsWith('ExecStart='))!
    const script = /^ExecStart=\/bin\/sh -ec '(.*)'$/.exec(line)![1]!.replaceAll('$$', '$')
    const root = join(dir, 'root')
    const moved = [APPLIANCE_PATHS.bundleInImage, APPLIANCE_PATHS.bundleFetched, APPLIANCE_PATHS.prefix].reduce((s, p) => s.replaceAll(p, root + p), script)
    const src = join(dir, 'src')
    await mkdir(join(src, 'bin'), { recursive: true })
    await writeFile(join(src, 'bin/dpuctl.mjs'), 'v1\n')
    execFileSync('sh', ['-c', 'sha256sum bin/dpuctl.mjs > MANIFEST.sha256'], { cwd: src })
    await mkdir(join(root, '/usr/lib/dpu-appliance'), { recursive: true })
    await mkdir(join(root, '/opt'), { recursive: true })
    execFileSync('tar', ['-czf', join(root, APPLIANCE_PATHS.bundleInImage), '-C', src, '.'])
    const run = (): ReturnType<typeof spawnSync> => spawnSync('sh', ['-ec', moved], { encoding: 'utf8' })
    expect(run().status).toBe(0)
    expect(await readFile(join(root, APPLIANCE_PATHS.prefix, 'bin/dpuctl.mjs'), 'utf8')).toBe('v1\n')
    await writeFile(join(root, APPLIANCE_PATHS.prefix, 'marker'), 'kept')
    expect(run().status).toBe(0) // same bundle: nothing touched
    expect(await readFile(join(root, APPLIANCE_PATHS.prefix, 'marker'), 'utf8')).toBe('kept')
    await writeFile(join(src, 'bin/dpuctl.mjs'), 'v2\n') // manifest now wrong
    execFileSync('tar', ['-czf', join(root, APPLIANCE_PATHS.bundleInImage), '-C', src, '.'])
    const bad = run()
    expect(bad.status).not.toBe(0)
    expect(await readFile(join(root, APPLIANCE_PATHS.prefix, 'bin/dpuctl.mjs'), 'utf8')).toBe('v1\n') // old install intact
  })
})
