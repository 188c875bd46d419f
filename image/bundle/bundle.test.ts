import { execFileSync } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ArchMismatchError } from '../errors.js'
import { buildBundle } from './bundle.js'

const X64_MODULE = new URL('../../node_modules/better-sqlite3/build/Release/better_sqlite3.node', import.meta.url).pathname

/** The 20 bytes of an aarch64 ELF header that `readElfMachine` looks at (no arm64 binary exists on this host). */
function arm64ElfHeader(): Buffer {
  const b = Buffer.alloc(64)
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(b)
  b.writeUInt16LE(3, 16)
  b.writeUInt16LE(183, 18)
  return b
}

let dir: string
async function put(path: string, data: string | Buffer): Promise<void> {
  await mkdir(join(dir, path, '..'), { recursive: true })
  await writeFile(join(dir, path), data)
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bundle-'))
  await put('proj/package.json', JSON.stringify({ name: 'app', dependencies: { a: '1', native: '1', '@s/c': '1' }, optionalDependencies: { 'only-x64': '1' }, devDependencies: { dev: '1' } }))
  await put('proj/bin/dpuctl.mjs', '#!/usr/bin/env node\n')
  await put('proj/dist/bin/dpuctl.js', 'export {}\n')
  await put('proj/dist/a/very/' + 'long-directory-name-'.repeat(6) + '/file-with-a-long-name-' + 'x'.repeat(60) + '.js', '1\n')
  await put('proj/node_modules/a/package.json', JSON.stringify({ name: 'a', dependencies: { b: '2' } }))
  await put('proj/node_modules/a/index.js', 'a\n')
  await put('proj/node_modules/a/node_modules/b/package.json', JSON.stringify({ name: 'b' }))
  await put('proj/node_modules/b/package.json', JSON.stringify({ name: 'b', version: 'hoisted-other-version' }))
  await put('proj/node_modules/@s/c/package.json', JSON.stringify({ name: '@s/c', dependencies: { b: '2' } }))
  await put('proj/node_modules/native/package.json', JSON.stringify({ name: 'native' }))
  await put('proj/node_modules/native/build/Release/obj.target/native.node', 'junk')
  await put('proj/node_modules/only-x64/package.json', JSON.stringify({ name: 'only-x64', cpu: ['x64'] }))
  await put('proj/node_modules/dev/package.json', JSON.stringify({ name: 'dev' }))
  await put('arm64.node', arm64ElfHeader())
  await copyFile(X64_MODULE, join(dir, 'proj/node_modules/native/build/Release/native.node'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const list = (tgz: string): string[] => execFileSync('tar', ['-tvzf', tgz], { encoding: 'utf8' }).trim().split('\n')

describe('appliance bundle', () => {
  it('is reproducible, sorted, root-owned, production-only, with a manifest that verifies', async () => {
    const input = { root: join(dir, 'proj'), arch: 'arm64' as const, native: { native: join(dir, 'arm64.node') }, node: join(dir, 'arm64.node') }
    const one = await buildBundle({ ...input, out: join(dir, 'one.tar.gz') })
    const two = await buildBundle({ ...input, out: join(dir, 'two.tar.gz') })
    expect(one.sha256).toBe(two.sha256)
    expect(await readFile(one.path)).toEqual(await readFile(two.path))
    const lines = list(one.path)
    const names = lines.map((l) => l.split(/\s+/).slice(5).join(' '))
    expect(names).toEqual([...names].sort())
    for (const l of lines) expect(l).toMatch(/ root\/root .* 1970-01-01 00:00 /)
    expect(names).toContain('node_modules/a/node_modules/b/package.json')
    expect(names).toContain('node_modules/b/package.json') // needed by @s/c
    expect(names).toContain('node_modules/@s/c/package.json')
    expect(names).toContain('node_modules/native/build/Release/native.node')
    expect(names).toContain('node/bin/node')
    expect(names.some((n) => n.includes('node_modules/dev'))).toBe(false)
    expect(names.some((n) => n.includes('only-x64'))).toBe(false) // cpu: [x64] does not install on arm64
    expect(names.some((n) => n.includes('obj.target'))).toBe(false)
    expect(names.some((n) => n.includes('x'.repeat(60)))).toBe(true) // long path via pax
    const out = join(dir, 'x')
    await mkdir(out)
    execFileSync('tar', ['-xzf', one.path, '-C', out])
    execFileSync('sha256sum', ['-c', '--quiet', 'MANIFEST.sha256'], { cwd: out })
    expect(await readFile(join(out, 'node_modules/native/build/Release/native.node'))).toEqual(arm64ElfHeader())
  })

  it('refuses a native module or runtime of the wrong architecture, naming it', async () => {
    const err = await buildBundle({ root: join(dir, 'proj'), arch: 'arm64', out: join(dir, 'o.tar.gz') }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ArchMismatchError)
    expect(String(err)).toMatch(/node_modules\/native\/build\/Release\/native\.node: built for x86-64, bundle targets aarch64; give a arm64 build with --native native=FILE/)
    await expect(buildBundle({ root: join(dir, 'proj'), arch: 'x64', node: join(dir, 'arm64.node'), out: join(dir, 'o.tar.gz') })).rejects.toThrow(
      /--node .*arm64\.node: built for aarch64, bundle targets x86-64/,
    )
  })

  it('names a missing production dependency', async () => {
    await rm(join(dir, 'proj/node_modules/a'), { recursive: true })
    await expect(buildBundle({ root: join(dir, 'proj'), arch: 'x64', out: join(dir, 'o.tar.gz') })).rejects.toThrow(/production dependency a is not installed/)
  })
})
