import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { lstat, mkdir, mkdtemp, readFile, readlink, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { APPLIANCE_PATHS, computeAppliancePlan, UNITS } from '../../ignition/appliance-plan.js'
import { parseFlavorText } from '../../ignition/flavor.js'
import { writeTarGz } from '../bundle/tar.js'
import { BFCFG_MAX_BYTES, INSTALLER_BUNDLE_PATH, renderBfcfg, sha256Hex } from './render-bfcfg.js'

const fixture = async (name: string): Promise<string> => readFile(new URL(`../../ignition/testdata/${name}`, import.meta.url), 'utf8')
const hostile = parseFlavorText(await fixture('flavor-hostile.yaml'))
const hbn = parseFlavorText(await fixture('flavor-hbn-ovn.yaml'))
const PWNED = '/tmp/dpuctl-pwned'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bfcfg-'))
  await rm(PWNED, { force: true })
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function makeBundle(): Promise<Buffer> {
  const app = Buffer.from('console.log("appliance")\n')
  const manifest = Buffer.from(`${sha256Hex(app)}  dist/app.js\n`)
  const path = join(dir, 'bundle', 'appliance-bundle.tar.gz')
  await mkdir(join(dir, 'bundle'))
  await writeTarGz(path, [
    { type: 'file', path: 'MANIFEST.sha256', mode: 0o644, size: manifest.length, source: manifest },
    { type: 'dir', path: 'dist', mode: 0o755 },
    { type: 'file', path: 'dist/app.js', mode: 0o644, size: app.length, source: app },
  ])
  return readFile(path)
}

function bash(script: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('bf.cfg', () => {
  it('passes bash -n and stays under 128 KiB', async () => {
    for (const flavor of [hbn, hostile, undefined]) {
      const text = renderBfcfg({ plan: computeAppliancePlan({ flavor }), flavor })
      await writeFile(join(dir, 'bf.cfg'), text)
      expect(execFileSync('bash', ['-n', join(dir, 'bf.cfg')], { encoding: 'utf8' })).toBe('')
      expect(Buffer.byteLength(text)).toBeLessThan(BFCFG_MAX_BYTES)
    }
  })

  it('bfb_modify_os writes every file of the plan literally into the target root', async () => {
    const bundle = await makeBundle()
    const config = Buffer.from("node: {name: 'dpu-$(id)'}\n")
    const plan = computeAppliancePlan({ flavor: hostile, config, certificates: [{ name: 'tls.key', contents: Buffer.from([0, 1, 2, 255, 10]) }] })
    const cfg = join(dir, 'bf.cfg')
    await writeFile(cfg, renderBfcfg({ plan, flavor: hostile, bundleSha256: sha256Hex(bundle) }))
    const root = join(dir, 'root')
    // Files that exist before the hook, as on a real target: "append" adds to them.
    await mkdir(join(root, 'etc/hostile'), { recursive: true })
    await writeFile(join(root, 'etc/hostile/append.conf'), 'existing\n')
    const r = bash(`set -u; . ${cfg}; bfb_modify_os`, { DPU_APPLIANCE_ROOT: root, DPU_APPLIANCE_BUNDLE_DIR: join(dir, 'bundle') })
    expect(r.stderr).toContain('dpu-appliance: installed')
    expect(r.status).toBe(0)

    for (const f of plan.files) {
      const got = await readFile(join(root, f.path))
      if (f.append) expect(got).toEqual(Buffer.concat([Buffer.from('existing\n'), f.contents]))
      else {
        expect(got).toEqual(f.contents)
        expect((await stat(join(root, f.path))).mode & 0o7777).toBe(f.mode)
      }
    }
    expect(await readFile(join(root, APPLIANCE_PATHS.config))).toEqual(config)
    expect((await stat(join(root, APPLIANCE_PATHS.config))).mode & 0o777).toBe(0o600)
    for (const u of plan.units) {
      expect(await readFile(join(root, '/etc/systemd/system', u.name), 'utf8')).toBe(u.contents)
      const link = join(root, '/etc/systemd/system/multi-user.target.wants', u.name)
      expect((await lstat(link)).isSymbolicLink()).toBe(true)
      expect(await readlink(link)).toBe(`/etc/systemd/system/${u.name}`)
    }
    expect(plan.units.map((u) => u.name)).toEqual([UNITS.ovsBootstrap, UNITS.appliance])
    expect(await readFile(join(root, '/opt/dpu-appliance/dist/app.js'), 'utf8')).toBe('console.log("appliance")\n')
    expect(await readFile(join(root, '/opt/dpu-appliance/.bundle-sha256'), 'utf8')).toBe(`${sha256Hex(bundle)}\n`)

    // The grub fragment, sourced as grub-mkconfig does, yields the flavor's arguments verbatim.
    const grub = bash(`GRUB_CMDLINE_LINUX=base; . ${join(root, APPLIANCE_PATHS.grub)}; printf %s "$GRUB_CMDLINE_LINUX"`)
    expect(grub.stdout).toBe(`base ${hostile.spec.grub!.kernelParameters!.join(' ')}`)
    // Every file the hook wrote, and nothing else.
    const written: string[] = []
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const full = join(d, e.name)
        if (e.isDirectory()) await walk(full)
        else written.push(full.slice(root.length))
      }
    }
    await walk(root)
    const expected = [
      ...plan.files.map((f) => f.path),
      APPLIANCE_PATHS.grub,
      ...plan.units.flatMap((u) => [`/etc/systemd/system/${u.name}`, `/etc/systemd/system/multi-user.target.wants/${u.name}`]),
      '/opt/dpu-appliance/MANIFEST.sha256',
      '/opt/dpu-appliance/dist/app.js',
      '/opt/dpu-appliance/.bundle-sha256',
    ]
    expect(written.sort()).toEqual(expected.sort())
    expect(existsSync(PWNED)).toBe(false)
  })

  it('bfcfgParameters become variables holding the literal values', async () => {
    const cfg = join(dir, 'bf.cfg')
    await writeFile(cfg, renderBfcfg({ plan: computeAppliancePlan({ flavor: hostile }), flavor: hostile }))
    const r = bash(`. ${cfg}; printf '%s|%s|%s' "$UPDATE_DPU_OS" "$ubuntu_PASSWORD" "$DEBUG"`)
    expect(r.stdout).toBe('yes|$1$x$y`id`|$(touch /tmp/dpuctl-pwned)')
    expect(existsSync(PWNED)).toBe(false)
  })

  it('the hook fails when the bundle does not match its checksum', async () => {
    await makeBundle()
    const cfg = join(dir, 'bf.cfg')
    await writeFile(cfg, renderBfcfg({ plan: computeAppliancePlan({}), bundleSha256: '0'.repeat(64) }))
    const r = bash(`. ${cfg}; bfb_modify_os; echo rc=$?`, { DPU_APPLIANCE_ROOT: join(dir, 'root'), DPU_APPLIANCE_BUNDLE_DIR: join(dir, 'bundle') })
    expect(r.stdout).toBe('rc=1\n')
    expect(r.stderr).toContain('bundle checksum mismatch')
    expect(INSTALLER_BUNDLE_PATH.endsWith('/appliance-bundle.tar.gz')).toBe(true)
  })

  it('refuses to exceed 128 KiB and rejects parameters that are not NAME=value', () => {
    const big = computeAppliancePlan({ config: Buffer.from(`a: "${'x'.repeat(100_000)}"\n`) })
    expect(() => renderBfcfg({ plan: big })).toThrow(/bf\.cfg would be \d+ bytes; the installer takes at most 131072/)
    const bad = { ...hbn, spec: { ...hbn.spec, bfcfgParameters: ['echo hi'] } }
    expect(() => renderBfcfg({ plan: computeAppliancePlan({}), flavor: bad })).toThrow(/bfcfgParameters\[0\]/)
  })
})
