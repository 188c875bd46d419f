import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BfbCrcError, BfbFormatError } from '../errors.js'
import { crc32 } from './crc32.js'
import { readBfbLayout, readTrailer, verifyBfb } from './reader.js'

const G8 = Buffer.from((await readFile(new URL('./testdata/g8.bfb.hex', import.meta.url), 'utf8')).trim(), 'hex')

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bfb-read-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function file(bytes: Buffer): Promise<string> {
  const f = join(dir, `t${Math.random().toString(36).slice(2)}.bfb`)
  await writeFile(f, bytes)
  return f
}

async function verifyError(bytes: Buffer): Promise<BfbFormatError | BfbCrcError> {
  const err = await verifyBfb(await file(bytes)).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeDefined()
  return err as BfbFormatError | BfbCrcError
}

describe('verify reports the image and offset of the first problem', () => {
  it('flipped payload byte -> CRC error on that image', async () => {
    const bad = Buffer.from(G8)
    bad[27] = bad[27]! ^ 0x01 // inside the capsule payload ("CAPSULE!")
    const err = await verifyError(bad)
    expect(err).toBeInstanceOf(BfbCrcError)
    expect(err.position).toMatchObject({ imageId: 52, imageName: 'capsule', offset: 0 })
    expect(err.message).toMatch(/CRC mismatch: header says 0x1745f96c.*image 52 \(capsule\), offset 0/)
  })

  it('truncated last image -> "image truncated" at its payload offset', async () => {
    const layout = await readBfbLayout(await file(G8))
    const init = layout.images.at(-1)!
    const err = await verifyError(G8.subarray(0, init.payloadOffset + 50))
    expect(err).toBeInstanceOf(BfbFormatError)
    expect(err.position).toMatchObject({ imageId: 63, offset: init.payloadOffset })
    expect(err.message).toMatch(/image truncated: header says 100 bytes, 50 present \[image 63 \(initramfs\), offset 400\]/)
  })

  it('removed padding -> "padding missing" where the padding should start', async () => {
    const err = await verifyError(G8.subarray(0, G8.length - 4))
    expect(err.position).toMatchObject({ imageId: 63, offset: G8.length - 4 })
    expect(err.message).toMatch(/padding missing: 4 zero bytes expected after the payload, 0 present/)
  })

  it('bad magic at the start -> not a BFB, offset 0', async () => {
    const bad = Buffer.from(G8)
    bad[0] = 0x41
    const err = await verifyError(bad)
    expect(err.message).toMatch(/not a BFB: bad magic 0x13026641 \[offset 0\]/)
  })

  it('empty file', async () => {
    const err = await verifyError(Buffer.alloc(0))
    expect(err.message).toMatch(/empty file.*\[offset 0\]/)
  })

  it('a 20-byte trailer -> header too short after image 63, at the end of the stream', async () => {
    const err = await verifyError(Buffer.concat([G8, Buffer.from('UPDATE_DPU_OS=yes\n\n\n')]))
    expect(err.position).toMatchObject({ imageId: 63, offset: 504 })
    expect(err.message).toMatch(/20 bytes after the last image: header too short \(20 of 24 bytes\)/)
  })

  it('bad header fields are errors, not trailers', async () => {
    const bad = Buffer.from(G8)
    bad[4] = 0x31 // minor 3
    expect((await verifyError(bad)).message).toMatch(/unsupported header minor version 3/)
  })
})

describe('trailers', () => {
  it('splits BFB + bf.cfg', async () => {
    const cfg = Buffer.from('UPDATE_DPU_OS=yes\nbfb_modify_os() { :; }\n')
    const f = await file(Buffer.concat([G8, cfg]))
    const layout = await readBfbLayout(f)
    expect(layout.images).toHaveLength(8)
    expect(layout.trailer).toEqual({ offset: 504, length: cfg.length })
    expect(await readTrailer(f, layout.trailer!)).toEqual(cfg)
    await expect(verifyBfb(f)).rejects.toThrow(/bytes after the last image: bad magic 0x41445055 \[image 63 \(initramfs\), offset 504\]/)
    await expect(verifyBfb(f, { strict: false })).resolves.toMatchObject({ trailer: { offset: 504 } })
  })

  it('a 20-byte trailer splits off too', async () => {
    const layout = await readBfbLayout(await file(Buffer.concat([G8, Buffer.alloc(20, 0x7b)])))
    expect(layout.trailer).toEqual({ offset: 504, length: 20 })
  })
})

describe('header length', () => {
  it('skips extra header words when hdr_len > 3', async () => {
    // One image with hdr_len 4: 32-byte header, then "KERNEL" + 2 pad bytes.
    const payload = Buffer.from('KERNEL\0\0')
    const h = Buffer.alloc(32)
    h.writeUInt32LE(0x13026642, 0)
    h[4] = 0x21
    h[6] = 0x40
    h[7] = 62
    h.writeUInt32LE(6, 8)
    h.writeUInt32LE(crc32(payload), 12)
    h.fill(0xee, 24, 32)
    const layout = await verifyBfb(await file(Buffer.concat([h, payload])))
    expect(layout.images[0]).toMatchObject({ id: 62, headerWords: 4, payloadOffset: 32, length: 6, end: 40 })
  })
})
