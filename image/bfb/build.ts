/**
 * Builds a BFB from named parts, optionally merged into a base BFB (mlx-mkbfb semantics, §2.6): a part replaces
 * the base image with the same id and version, everything else of the base is copied byte for byte (unknown
 * ids included), and the result is in canonical order. Extraction writes `<name>-v<version>` files.
 */
import { mkdir, open, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { BfbIoError, ImageInputError } from '../errors.js'
import { mergeImages, orderImages } from './order.js'
import { BFB_IMAGE_IDS, canonicalOrder, imageIdByName, imageName } from './image-ids.js'
import { readBfbLayout, readImagePayload, readTrailer, type BfbEntry, type BfbLayout } from './reader.js'
import { bytesSource, fileSource, type PartSource } from './source.js'
import { writeBfb, type BfbPart, type WriteBfbOptions, type WrittenImage } from './writer.js'

/** `--boot-args-v2 VALUE`: a file path, or `=text` for a literal string (as mlx-mkbfb). */
export function partValueSource(value: string): PartSource {
  return value.startsWith('=') ? bytesSource(value.slice(1)) : fileSource(value)
}

/** Parses `initramfs`, `boot-args-v2`, `image_id_70-v1` into an id and version. */
export function parsePartName(spec: string): { id: number; version: number } {
  const m = /^(.+?)(?:-v(\d{1,2}))?$/.exec(spec)
  const id = m ? imageIdByName(m[1]!) : undefined
  const version = m?.[2] === undefined ? 0 : Number(m[2])
  if (id === undefined || version > 15) throw new ImageInputError(`unknown BFB image name "${spec}"`, { spec })
  return { id, version }
}

/** Base images as parts that copy their bytes from the base file, checked against their header CRC. */
export function partsFromLayout(layout: BfbLayout): BfbPart[] {
  return layout.images.map((e) => ({
    id: e.id,
    version: e.version,
    source: fileSource(layout.path, e.payloadOffset, e.length),
    expectedCrc: e.crc,
  }))
}

/** Without a base stream no table places unknown ids, so they go after every known image. */
function trailingAnchors(parts: readonly BfbPart[]): Map<number, number> {
  return new Map(parts.filter((p) => canonicalOrder(p.id) === undefined).map((p) => [p.id, BFB_IMAGE_IDS.length]))
}

export interface BuildBfbInput {
  parts: BfbPart[]
  base?: string
  out: string
  /** Keep the base's trailer (bf.cfg) when no new trailer is given; default drops it. */
  trailer?: PartSource
}

/** Writes `out` = base (if any) with `parts` merged in; returns what was written. */
export async function buildBfb(input: BuildBfbInput, options: Omit<WriteBfbOptions, 'trailer'> = {}): Promise<WrittenImage[]> {
  const seen = new Set<string>()
  for (const p of input.parts) {
    const k = `${p.id}/${p.version}`
    if (seen.has(k)) throw new ImageInputError(`image ${imageName(p.id)}-v${p.version} given twice`)
    seen.add(k)
  }
  const base = input.base ? partsFromLayout(await readBfbLayout(input.base)) : []
  const parts = base.length ? mergeImages(base, input.parts) : orderImages(input.parts, trailingAnchors(input.parts))
  return writeBfb(input.out, parts, { ...options, trailer: input.trailer })
}

/** The file name an image is extracted to. */
export function extractName(e: Pick<BfbEntry, 'id' | 'version'>): string {
  return `${imageName(e.id)}-v${e.version}`
}

/** Writes each image (or only those named, e.g. `initramfs-v0` or `boot-args`) into `dir`, and any trailer to `dir/trailer` when all are extracted; returns file paths. */
export async function extractBfb(path: string, dir: string, only: readonly string[] = []): Promise<string[]> {
  const layout = await readBfbLayout(path)
  // `boot-args` selects every version, `boot-args-v2` only that one.
  const wanted = only.map((spec) => ({ ...parsePartName(spec), anyVersion: !/-v\d+$/.test(spec) }))
  const selected = layout.images.filter((e) => wanted.length === 0 || wanted.some((w) => w.id === e.id && (w.anyVersion || w.version === e.version)))
  if (wanted.length && selected.length === 0) throw new ImageInputError(`no image named ${only.join(', ')} in ${path}`)
  await mkdir(dir, { recursive: true })
  const files: string[] = []
  for (const e of selected) {
    const file = join(dir, extractName(e))
    let fh
    try {
      fh = await open(file, 'w')
    } catch (err) {
      throw new BfbIoError('cannot create', file, err)
    }
    try {
      const out = fh
      await readImagePayload(path, e, async (c) => {
        await out.write(c)
      })
    } finally {
      await fh.close()
    }
    files.push(file)
  }
  if (wanted.length === 0 && layout.trailer) {
    const file = join(dir, 'trailer')
    await writeFile(file, await readTrailer(path, layout.trailer))
    files.push(file)
  }
  return files
}
