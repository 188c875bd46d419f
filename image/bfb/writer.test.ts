import { mkdtemp, open, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildBfb, parsePartName } from './build.js'
import { verifyBfb } from './reader.js'
import { fileSource } from './source.js'

const MIB = 1 << 20
let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bfb-stream-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('streaming', () => {
  it('builds and verifies a 64 MiB initramfs with small RSS growth', async () => {
    const initramfs = join(dir, 'initramfs')
    const fh = await open(initramfs, 'w')
    const block = Buffer.alloc(MIB)
    for (let i = 0; i < 64; i++) {
      block.fill(i * 7 + 1)
      await fh.write(block)
    }
    await fh.write(Buffer.from('odd')) // not a multiple of 8: exercises the padding
    await fh.close()
    globalThis.gc?.()
    const before = process.memoryUsage().rss
    let peak = before
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5)
    const out = join(dir, 'big.bfb')
    await buildBfb({ parts: [{ ...parsePartName('initramfs'), source: fileSource(initramfs) }], out })
    const layout = await verifyBfb(out)
    clearInterval(sample)
    peak = Math.max(peak, process.memoryUsage().rss)
    expect(layout.images[0]).toMatchObject({ id: 63, length: 64 * MIB + 3, padding: 5 })
    expect((await stat(out)).size).toBe(24 + 64 * MIB + 8)
    // The file is 64 MiB; a reader that buffered it would grow by at least that much.
    expect(peak - before).toBeLessThan(24 * MIB)
  })
})
