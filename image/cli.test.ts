import { execFileSync, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { gunzipSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CliIO } from '../api/cli.js'
import { imageCommands } from './cli.js'
import { ignitionCommands } from '../ignition/cli.js'
import { readBfbLayout, readTrailer, verifyBfb } from './bfb/reader.js'
import { sha256Hex } from './bfcfg/render-bfcfg.js'
import { writeTarGz } from './bundle/tar.js'

const ROOT = new URL('..', import.meta.url).pathname
const FLAVOR = join(ROOT, 'ignition/testdata/flavor-hbn-ovn.yaml')
let dir: string

function io(): CliIO & { out: () => string } {
  const stdout = new PassThrough()
  const chunks: Buffer[] = []
  stdout.on('data', (c: Buffer) => chunks.push(c))
  return { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {}, cwd: dir, out: () => Buffer.concat(chunks).toString() }
}

async function run(words: string[], args: string[]): Promise<{ code: number; out: string }> {
  const cmd = [...imageCommands, ...ignitionCommands].find((c) => c.path.join(' ') === words.join(' '))!
  const o = io()
  const code = await cmd.run(args, o)
  return { code, out: o.out() }
}

/** The real dispatcher, from source, for exit codes and messages. */
function dpuctl(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/dpuctl.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, DPUCTL_FROM_SOURCE: '1' }, cwd: dir })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** newc reader for the test: name -> contents of every regular file in a run of archives. */
function readNewc(buf: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  let pos = 0
  const align = (n: number): number => (n + 3) & ~3
  while (pos < buf.length) {
    if (buf[pos] === 0) {
      pos++
      continue
    }
    expect(buf.subarray(pos, pos + 6).toString()).toBe('070701')
    const field = (i: number): number => parseInt(buf.subarray(pos + 6 + i * 8, pos + 14 + i * 8).toString(), 16)
    const mode = field(1)
    const size = field(6)
    const nameSize = field(11)
    const name = buf.subarray(pos + 110, pos + 110 + nameSize - 1).toString()
    const data = align(pos + 110 + nameSize)
    if (name === 'TRAILER!!!') {
      pos = align(data)
      continue
    }
    if ((mode & 0o170000) === 0o100000) files.set(name, buf.subarray(data, data + size))
    pos = align(data + size)
  }
  return files
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'image-cli-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('dpuctl bfb', () => {
  it('build -> inspect -> verify -> extract', async () => {
    await writeFile(join(dir, 'kernel'), 'KERNEL')
    const b = await run(['bfb', 'build'], ['--kernel', join(dir, 'kernel'), '--initramfs', '=INITRAMFS', '--boot-args-v2', '=console=hvc0', '--part', 'image_id_70==opaque', '-o', join(dir, 'a.bfb')])
    expect(b.code).toBe(0)
    const ins = await run(['bfb', 'inspect'], [join(dir, 'a.bfb'), '-o', 'json'])
    const doc = JSON.parse(ins.out) as { images: { name: string; version: number; crcOk: boolean }[]; trailer: null }
    expect(doc.images.map((i) => `${i.name}-v${i.version}`)).toEqual(['boot-args-v2', 'image-v0', 'initramfs-v0', 'image_id_70-v0'])
    expect(doc.images.every((i) => i.crcOk)).toBe(true)
    expect((await run(['bfb', 'inspect'], [join(dir, 'a.bfb')])).out).toMatch(/^#\s+OFFSET\s+ID\s+NAME\s+VERSION\s+LENGTH\s+CRC\s+CRC OK\n0\s+0\s+59\s+boot-args\s+2\s+12\s+0x[0-9a-f]{8}\s+ok\n/)
    expect((await run(['bfb', 'verify'], [join(dir, 'a.bfb')])).out).toBe(`ok: 4 images, ${(await readFile(join(dir, 'a.bfb'))).length} bytes\n`)
    const x = await run(['bfb', 'extract'], [join(dir, 'a.bfb'), '--only', 'image', '-d', join(dir, 'x')])
    expect(x.out).toBe(`${join(dir, 'x', 'image-v0')}\n`)
    expect(await readFile(join(dir, 'x', 'image-v0'), 'utf8')).toBe('KERNEL')
  })

  it('exit codes: 1 with image and offset on a corrupt file, 2 on a bad flag', async () => {
    const bytes = await readFile(join(dir, 'a.bfb'))
    bytes[bytes.length - 1] = 1 // a padding byte of the last image
    await writeFile(join(dir, 'bad.bfb'), bytes)
    const r = dpuctl(['bfb', 'verify', join(dir, 'bad.bfb')])
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/^dpuctl bfb verify: CRC mismatch: header says 0x[0-9a-f]{8}, payload and padding give 0x[0-9a-f]{8} \[image 70 \(image_id_70\), offset \d+\]\n$/)
    const u = dpuctl(['bfb', 'verify', '--bogus', 'x'])
    expect(u.status).toBe(2)
    expect(u.stderr).toMatch(/^dpuctl bfb verify: unknown flag --bogus\n\nUsage: dpuctl bfb verify/)
  })
})

describe('dpuctl image build', () => {
  it('bf.cfg flavour: the bundle rides in the initramfs, bf.cfg is the trailer', async () => {
    const baseInit = gzipSync(Buffer.from('0707010000000000000000'))
    await writeFile(join(dir, 'init.gz'), baseInit)
    await run(['bfb', 'build'], ['--kernel', '=K', '--initramfs', join(dir, 'init.gz'), '--capsule', '=CAP', '-o', join(dir, 'base.bfb')])
    const app = Buffer.from('app\n')
    await writeTarGz(join(dir, 'bundle.tar.gz'), [
      { type: 'file', path: 'MANIFEST.sha256', mode: 0o644, size: 0, source: Buffer.alloc(0) },
      { type: 'file', path: 'app.js', mode: 0o644, size: app.length, source: app },
    ])
    const r = await run(['image', 'build'], ['--base', join(dir, 'base.bfb'), '--bundle', join(dir, 'bundle.tar.gz'), '--flavor', FLAVOR, '-o', join(dir, 'install.bfb')])
    expect(r.code).toBe(0)
    const layout = await verifyBfb(join(dir, 'install.bfb'), { strict: false })
    expect(layout.images.map((e) => e.name)).toEqual(['capsule', 'image', 'initramfs'])
    const cfg = (await readTrailer(layout.path, layout.trailer!)).toString()
    expect(cfg).toMatch(/^# bf.cfg written by dpuctl/)
    expect(cfg).toContain("UPDATE_DPU_OS='yes'")
    await writeFile(join(dir, 'bf.cfg'), cfg)
    execFileSync('bash', ['-n', join(dir, 'bf.cfg')])
    expect(cfg).toContain(sha256Hex(await readFile(join(dir, 'bundle.tar.gz'))))
    const bytes = await readFile(layout.path)
    const init = layout.images[2]!
    const payload = bytes.subarray(init.payloadOffset, init.payloadOffset + init.length)
    expect(payload.subarray(0, baseInit.length)).toEqual(baseInit)
    expect(gunzipSync(baseInit).toString()).toBe('0707010000000000000000')
    const appended = readNewc(payload.subarray(baseInit.length))
    expect(appended.get('dpu-appliance/appliance-bundle.tar.gz')).toEqual(await readFile(join(dir, 'bundle.tar.gz')))
  })

  it('RHCOS flavour: initramfs untouched, Ignition is the trailer and validates', async () => {
    const r = await run(['image', 'build'], ['--base', join(dir, 'base.bfb'), '--rhcos', '--flavor', FLAVOR, '--version', '3.3.0', '-o', join(dir, 'rhcos.bfb')])
    expect(r.code).toBe(0)
    const layout = await verifyBfb(join(dir, 'rhcos.bfb'), { strict: false })
    const base = await readBfbLayout(join(dir, 'base.bfb'))
    expect((await readFile(layout.path)).subarray(0, layout.trailer!.offset)).toEqual(await readFile(base.path))
    const ign = await readTrailer(layout.path, layout.trailer!)
    expect(JSON.parse(ign.toString())).toMatchObject({ ignition: { version: '3.3.0' } })
    const v = spawnSync('ignition-validate', ['-'], { input: ign, encoding: 'utf8' })
    expect([v.status, v.stdout, v.stderr]).toEqual([0, '', ''])
  })

  it('refuses a base BFB without an initramfs', async () => {
    await run(['bfb', 'build'], ['--kernel', '=K', '-o', join(dir, 'flat.bfb')])
    await expect(run(['image', 'build'], ['--base', join(dir, 'flat.bfb'), '--bundle', join(dir, 'bundle.tar.gz'), '-o', join(dir, 'o.bfb')])).rejects.toThrow(/no initramfs \(image 63\)/)
  })
})

describe('dpuctl image layer', () => {
  it('writes a Containerfile and an OCI layer of the same files', async () => {
    const out = join(dir, 'layer')
    await mkdir(out)
    const r = await run(['image', 'layer'], ['--base', 'quay.io/example/rhcos-bfb:4.18', '--bundle', join(dir, 'bundle.tar.gz'), '-d', out])
    expect(r.code).toBe(0)
    const cf = await readFile(join(out, 'Containerfile'), 'utf8')
    expect(cf).toContain(
      'FROM quay.io/example/rhcos-bfb:4.18\nADD dpu-appliance-layer.tar.gz /\nRUN systemctl enable dpu-appliance-unpack.service dpu-appliance.service && \\\n    ostree container commit\n',
    )
    const listing = execFileSync('tar', ['-tzf', join(out, 'dpu-appliance-layer.tar.gz')], { encoding: 'utf8' })
      .trim()
      .split('\n')
    expect(listing).toEqual([
      'usr/',
      'usr/lib/',
      'usr/lib/dpu-appliance/',
      'usr/lib/dpu-appliance/appliance-bundle.tar.gz',
      'usr/lib/systemd/',
      'usr/lib/systemd/system/',
      'usr/lib/systemd/system/dpu-appliance-ovs-bootstrap.service',
      'usr/lib/systemd/system/dpu-appliance-unpack.service',
      'usr/lib/systemd/system/dpu-appliance.service',
    ])
    const diffId = `sha256:${sha256Hex(gunzipSync(await readFile(join(out, 'dpu-appliance-layer.tar.gz'))))}`
    expect(r.out).toContain(`diff_id ${diffId}`)
    await expect(run(['image', 'layer'], ['--base', 'bad image\nRUN rm -rf /', '--bundle', join(dir, 'bundle.tar.gz'), '-d', out])).rejects.toThrow(/not an image reference/)
  })
})

describe('dpuctl ignition render', () => {
  it('renders a development appliance with no inputs but -o', async () => {
    const r = await run(['ignition', 'render'], ['-o', join(dir, 'dev.ign')])
    expect(r.code).toBe(0)
    const text = (await readFile(join(dir, 'dev.ign'), 'utf8')).replace('"3.4.0"', '"3.4.0-experimental"')
    const v = spawnSync('ignition-validate', ['-'], { input: text, encoding: 'utf8' })
    expect([v.status, v.stdout, v.stderr]).toEqual([0, '', ''])
  })
})
