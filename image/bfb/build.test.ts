import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildBfb, extractBfb, parsePartName } from './build.js'
import { readBfbLayout, verifyBfb } from './reader.js'
import { bytesSource, type PartSource } from './source.js'
import type { BfbPart } from './writer.js'

interface GoldenPart {
  name: string
  text?: string
  bytesRange?: number
}
interface Golden {
  name: string
  parts: GoldenPart[]
  length: number
  sha256?: string
  hex?: string
  hexFile?: string
  dump?: { id: number; length: number; crc: string; following: string; nextVersion: number; version: number }[]
}

const here = new URL('./testdata/', import.meta.url)
const golden = JSON.parse(await readFile(new URL('golden.json', here), 'utf8')) as { vectors: Golden[] }

function partSource(p: GoldenPart): PartSource {
  return bytesSource(p.bytesRange === undefined ? (p.text ?? '') : Buffer.from(Array.from({ length: p.bytesRange }, (_, i) => i)))
}
const toParts = (g: Golden): BfbPart[] => g.parts.map((p) => ({ ...parsePartName(p.name), source: partSource(p) }))
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bfb-build-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe.each(golden.vectors)('golden $name', (g) => {
  it('encodes to the mlx-mkbfb bytes', async () => {
    const out = join(dir, 'g.bfb')
    await buildBfb({ parts: toParts(g), out })
    const bytes = await readFile(out)
    expect(bytes.length).toBe(g.length)
    if (g.sha256) expect(sha256(bytes)).toBe(g.sha256)
    if (g.hex) expect(bytes.toString('hex')).toBe(g.hex)
    if (g.hexFile) expect(bytes.toString('hex')).toBe((await readFile(new URL(g.hexFile, here), 'utf8')).trim())
  })

  it('decodes to the headers mlx-mkbfb -d -v printed, and verifies', async () => {
    const hex = g.hex ?? (await readFile(new URL(g.hexFile!, here), 'utf8')).trim()
    const file = join(dir, 'in.bfb')
    await writeFile(file, Buffer.from(hex, 'hex'))
    const layout = await verifyBfb(file)
    expect(layout.trailer).toBeUndefined()
    if (g.dump) {
      expect(
        layout.images.map((e) => ({
          id: e.id,
          length: e.length,
          crc: e.crc.toString(16).padStart(8, '0'),
          following: e.following.toString(16).padStart(g.dump![e.index]!.following.length, '0'),
          nextVersion: e.nextVersion,
          version: e.version,
        })),
      ).toEqual(g.dump)
    }
    // Deterministic: re-encoding what was decoded gives the same bytes (mlx-mkbfb in.bfb out.bfb does too).
    const again = join(dir, 'again.bfb')
    await buildBfb({ parts: [], base: file, out: again })
    expect((await readFile(again)).toString('hex')).toBe(hex)
  })
})

describe('build, extract, merge', () => {
  const parts = (): BfbPart[] => toParts(golden.vectors.find((g) => g.name === 'G8')!)

  it('extract returns every part byte for byte', async () => {
    const out = join(dir, 'g8.bfb')
    await buildBfb({ parts: parts(), out })
    const files = await extractBfb(out, join(dir, 'x'))
    expect(files.map((f) => f.slice(dir.length + 3)).sort()).toEqual(['boot-args-v0', 'boot-args-v2', 'boot-desc-v0', 'boot-path-v0', 'capsule-v0', 'image-v0', 'info-v0', 'initramfs-v0'].sort())
    for (const p of golden.vectors.find((g) => g.name === 'G8')!.parts) {
      const { version } = parsePartName(p.name)
      const file = join(dir, 'x', `${p.name.replace(/-v\d$/, '')}-v${version}`)
      const src = partSource(p)
      expect(await readFile(file)).toEqual(src.kind === 'bytes' ? src.data : undefined)
    }
    expect(await extractBfb(out, join(dir, 'y'), ['boot-args'])).toHaveLength(2)
    expect(await extractBfb(out, join(dir, 'z'), ['boot-args-v2'])).toEqual([join(dir, 'z', 'boot-args-v2')])
  })

  it('merging a part into a base replaces exactly that image', async () => {
    const base = join(dir, 'base.bfb')
    await buildBfb({ parts: parts(), out: base })
    const merged = join(dir, 'merged.bfb')
    await buildBfb({ parts: [{ ...parsePartName('boot-args-v2'), source: bytesSource('console=hvc0 quiet') }], base, out: merged })
    const before = await readBfbLayout(base)
    const after = await verifyBfb(merged)
    expect(after.images.map((e) => `${e.name}-v${e.version}`)).toEqual(before.images.map((e) => `${e.name}-v${e.version}`))
    const baseBytes = await readFile(base)
    const mergedBytes = await readFile(merged)
    for (const [i, a] of after.images.entries()) {
      const b = before.images[i]!
      const payload = mergedBytes.subarray(a.payloadOffset, a.payloadOffset + a.length)
      if (a.id === 59 && a.version === 2) expect(payload.toString()).toBe('console=hvc0 quiet')
      else {
        expect(payload).toEqual(baseBytes.subarray(b.payloadOffset, b.payloadOffset + b.length))
        expect(a.crc).toBe(b.crc)
        expect(a.following).toBe(b.following)
      }
    }
  })

  it('inserts a new id in canonical order and keeps unknown ids byte for byte', async () => {
    const base = join(dir, 'base.bfb')
    await buildBfb({
      parts: [
        { ...parsePartName('capsule'), source: bytesSource('CAP') },
        { id: 70, version: 0, source: bytesSource('opaque-70') },
        { ...parsePartName('image'), source: bytesSource('K') },
      ],
      base: undefined,
      out: base,
    })
    const merged = join(dir, 'merged.bfb')
    await buildBfb({
      parts: [
        { ...parsePartName('initramfs'), source: bytesSource('INIT') },
        { ...parsePartName('bl2'), source: bytesSource('BL2') },
      ],
      base,
      out: merged,
    })
    const layout = await verifyBfb(merged)
    expect(layout.images.map((e) => e.name)).toEqual(['bl2', 'capsule', 'image', 'image_id_70', 'initramfs'])
    // Re-merging the result with nothing new keeps the unknown id where it now is.
    const again = join(dir, 'again.bfb')
    await buildBfb({ parts: [], base: merged, out: again })
    expect(await readFile(again)).toEqual(await readFile(merged))
    const bytes = await readFile(merged)
    const u = layout.images[3]!
    expect(bytes.subarray(u.payloadOffset, u.payloadOffset + u.length).toString()).toBe('opaque-70')
  })

  it('refuses the same part twice', async () => {
    const p = { ...parsePartName('image'), source: bytesSource('K') }
    await expect(buildBfb({ parts: [p, p], out: join(dir, 'x.bfb') })).rejects.toThrow(/given twice/)
  })
})
