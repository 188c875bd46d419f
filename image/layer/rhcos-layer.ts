/**
 * `dpuctl image layer`: what it takes to layer the appliance onto an RHCOS base image
 * (reference/image.md §5.5): a Containerfile (`FROM <base>`, the files, `systemctl enable`,
 * `ostree container commit`) and an OCI layer tarball holding the same files, which the Containerfile `ADD`s.
 * Content goes to /usr only: /opt and /var are not image content on RHCOS, so the bundle is unpacked at boot.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createGunzip } from 'node:zlib'
import { APPLIANCE_PATHS, computeAppliancePlan, UNITS, unpackUnit } from '../../ignition/appliance-plan.js'
import { ImageInputError } from '../errors.js'
import { writeTarGz, type TarEntry } from '../bundle/tar.js'

export const LAYER_FILE = 'dpu-appliance-layer.tar.gz'
export const CONTAINERFILE = 'Containerfile'
const SYSTEMD_DIR = '/usr/lib/systemd/system'

const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._\-/:@+]*$/

export interface LayerInput {
  base: string
  bundle: string
  outDir: string
  listen?: string
}

export interface LayerResult {
  containerfile: string
  layer: string
  /** sha256 of the compressed layer (its OCI descriptor digest). */
  digest: string
  /** sha256 of the uncompressed tar (the OCI diff_id). */
  diffId: string
}

async function sha256Stream(stream: NodeJS.ReadableStream): Promise<string> {
  const h = createHash('sha256')
  for await (const c of stream) h.update(c as Buffer)
  return `sha256:${h.digest('hex')}`
}

export function renderContainerfile(base: string, units: readonly string[]): string {
  if (!IMAGE_REF.test(base)) throw new ImageInputError(`base image ${JSON.stringify(base)} is not an image reference`)
  return [
    '# Written by dpuctl image layer: the dpu-appliance on top of an RHCOS (BlueField) base image.',
    `FROM ${base}`,
    `ADD ${LAYER_FILE} /`,
    `RUN systemctl enable ${units.join(' ')} && \\`,
    '    ostree container commit',
    'LABEL org.opencontainers.image.title="dpu-appliance" \\',
    '      org.opencontainers.image.description="dpu-appliance control plane layered onto RHCOS for BlueField"',
    '',
  ].join('\n')
}

export async function writeRhcosLayer(input: LayerInput): Promise<LayerResult> {
  const bundleSize = (await stat(input.bundle).catch(() => undefined))?.size
  if (bundleSize === undefined) throw new ImageInputError(`bundle not found: ${input.bundle}`)
  const plan = computeAppliancePlan({ listen: input.listen })
  const units = [{ name: UNITS.unpack, contents: unpackUnit() }, ...plan.units]
  const bundlePath = APPLIANCE_PATHS.bundleInImage.slice(1)
  const dirs = ['usr', 'usr/lib', 'usr/lib/dpu-appliance', 'usr/lib/systemd', 'usr/lib/systemd/system']
  const entries: TarEntry[] = [
    ...dirs.map((path): TarEntry => ({ type: 'dir', path, mode: 0o755 })),
    { type: 'file', path: bundlePath, mode: 0o644, size: bundleSize, source: input.bundle } as TarEntry,
    ...units.map((u): TarEntry => {
      const b = Buffer.from(u.contents)
      return { type: 'file', path: `${SYSTEMD_DIR.slice(1)}/${u.name}`, mode: 0o644, size: b.length, source: b }
    }),
  ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const layer = join(input.outDir, LAYER_FILE)
  await writeTarGz(layer, entries)
  // The OVS bootstrap needs the flavor's script, which only Ignition brings; Ignition enables it.
  const containerfile = join(input.outDir, CONTAINERFILE)
  await writeFile(containerfile, renderContainerfile(input.base, [UNITS.unpack, UNITS.appliance]))
  return {
    containerfile,
    layer,
    digest: await sha256Stream(createReadStream(layer)),
    diffId: await sha256Stream(createReadStream(layer).pipe(createGunzip())),
  }
}
