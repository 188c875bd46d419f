/**
 * `dpuctl image build`: base BFB (NVIDIA's OS BFB) + appliance bundle + bf.cfg -> one install BFB.
 *   bf.cfg flavour: the bundle rides in the initramfs (a cpio appended to image 63, unpacked by the kernel at
 *     /dpu-appliance/), and bf.cfg is appended after the last image, as `bfb-install -c` would send it.
 *   RHCOS flavour: the initramfs is left alone (the bundle comes with the dpu-appliance layer or by URL) and
 *     the Ignition config is the trailer.
 * Everything streams: the base initramfs (about 1 GiB for RHCOS) is copied once, CRC computed on the way.
 */
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { ImageInputError } from '../errors.js'
import { partsFromLayout } from '../bfb/build.js'
import { readBfbLayout } from '../bfb/reader.js'
import { bytesSource, type PartSource } from '../bfb/source.js'
import { writeBfb, type BfbPart, type WrittenImage } from '../bfb/writer.js'
import { INSTALLER_BUNDLE_PATH } from '../bfcfg/render-bfcfg.js'
import { cpioSource, pad4 } from './cpio.js'

const INITRAMFS_ID = 63

export interface InstallBfbInput {
  base: string
  out: string
  /** bf.cfg text (with `bundle`) or Ignition JSON (RHCOS). */
  trailer: string
  /** Appliance bundle to carry in the initramfs (bf.cfg flavour). */
  bundle?: string
  onProgress?: (done: number, total: number) => void
}

export async function buildInstallBfb(input: InstallBfbInput): Promise<{ images: WrittenImage[]; trailerBytes: number }> {
  const layout = await readBfbLayout(input.base)
  const parts: BfbPart[] = partsFromLayout(layout)
  if (input.bundle) {
    const initramfs = parts.filter((p) => p.id === INITRAMFS_ID)
    if (initramfs.length === 0) throw new ImageInputError(`${input.base} has no initramfs (image 63): not an OS-install BFB`, { base: input.base })
    const size = (await stat(input.bundle).catch(() => undefined))?.size
    if (size === undefined) throw new ImageInputError(`bundle not found: ${input.bundle}`)
    const dir = INSTALLER_BUNDLE_PATH.slice(1, INSTALLER_BUNDLE_PATH.lastIndexOf('/'))
    const cpio = cpioSource([
      { type: 'dir', name: dir },
      { type: 'file', name: `${dir}/${basename(INSTALLER_BUNDLE_PATH)}`, path: input.bundle, size },
    ])
    for (const p of initramfs) {
      const e = layout.images.find((x) => x.id === p.id && x.version === p.version)!
      const align = pad4(e.length)
      const source: PartSource = { kind: 'concat', parts: [p.source, bytesSource(Buffer.alloc(align)), cpio] }
      // The payload changes, so the base CRC cannot be checked on the copy; the writer computes the new one.
      Object.assign(p, { source, expectedCrc: undefined })
    }
  }
  // Base order is kept as is: it is NVIDIA's stream, only the initramfs payload changes.
  const images = await writeBfb(input.out, parts, { trailer: bytesSource(input.trailer), onProgress: input.onProgress })
  return { images, trailerBytes: Buffer.byteLength(input.trailer) }
}
