/** `dpuctl image bundle|bfcfg|build|layer` (and the `bfb` codec commands): putting the appliance on a DPU. */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { UsageError, type CliCommand, type CliIO } from '../api/cli.js'
import { computeAppliancePlan } from '../ignition/appliance-plan.js'
import { IGNITION_RENDER_OPTIONS, renderIgnitionFromFlags, type IgnitionRenderFlags } from '../ignition/cli.js'
import { readApplianceInputs } from '../ignition/read-inputs.js'
import { bfbCommands, parseFileArgs } from './bfb-cli.js'
import { renderBfcfg } from './bfcfg/render-bfcfg.js'
import { buildBundle, sha256File } from './bundle/bundle.js'
import { TARGET_ARCHES, type TargetArch } from './bundle/elf.js'
import { ImageInputError } from './errors.js'
import { buildInstallBfb } from './install/install-bfb.js'
import { writeRhcosLayer } from './layer/rhcos-layer.js'
import { progressReporter } from './progress.js'

const BUNDLE = `Usage: dpuctl image bundle [-o FILE] [--arch arm64|x64] [flags]

Packs the built appliance (dist/ from npm run build, package.json, bin/dpuctl.mjs) and its production
node_modules into a reproducible .tar.gz (sorted entries, owner 0:0, fixed mtime, MANIFEST.sha256), and writes
FILE.sha256 beside it. Every native module and the runtime must be built for the target architecture.

Flags:
  -o, --output FILE       default dpu-appliance-<version>-<arch>.tar.gz
      --arch ARCH         arm64 (BlueField, default) or x64
      --root DIR          project root with package.json and bin/ (default: current directory)
      --dist DIR          built appliance (default ROOT/dist)
      --node-modules DIR  installed dependencies (default ROOT/node_modules)
      --node FILE         Node.js binary for the target, shipped as node/bin/node
      --native PKG=FILE   native module for the target, e.g. better-sqlite3=better_sqlite3.node; repeatable
      --mtime SECONDS     timestamp of every entry (default $SOURCE_DATE_EPOCH, else 0)
`
const APPLIANCE_FLAGS = `  --flavor FILE        DPUFlavor manifest (sysctl, grub kernel parameters, OVS script, config files, bfcfgParameters)
  --config FILE        appliance config YAML -> /etc/dpu-appliance/appliance.yaml (0600)
  --cert FILE          certificate or key -> /etc/dpu-appliance/certs/ (0600); repeatable
  --listen ADDR        appliance REST listen address (default 0.0.0.0:8443)`
const BFCFG = `Usage: dpuctl image bfcfg -o FILE [flags]

Renders the bf.cfg that NVIDIA's BFB installer sources: bfb_modify_os installs the bundle, config,
certificates, systemd units, sysctl, grub kernel parameters and OVS settings into the new root (/mnt).

Flags:
  -o, --output FILE    where to write it ("-" for stdout)
  --bundle FILE        the bundle the BFB carries: its sha256 is checked before unpacking
${APPLIANCE_FLAGS}
`
const BUILD = `Usage: dpuctl image build --base BFB -o FILE (--bundle FILE | --rhcos) [flags]

Base BFB + bundle + flavor -> an install BFB. Default: the bundle is appended to the initramfs and the bf.cfg
is appended after the last image (as bfb-install sends it). With --rhcos: the Ignition config is the trailer
and the bundle comes with the RHCOS layer (dpuctl image layer) or --bundle-url.

Flags:
  --base BFB           NVIDIA OS BFB to start from
  --bundle FILE        appliance bundle (dpuctl image bundle)
  -o, --output FILE    install BFB to write
${APPLIANCE_FLAGS}
  --rhcos              Ignition trailer; also takes --version, --user, --ssh-key, --bundle-url, --bundle-sha256
`
const LAYER = `Usage: dpuctl image layer --base IMAGE --bundle FILE [-d DIR]

Writes DIR/Containerfile (FROM IMAGE, ADD the layer, systemctl enable, ostree container commit) and
DIR/dpu-appliance-layer.tar.gz (an OCI layer holding the bundle and the systemd units under /usr).
Build with: podman build -f DIR/Containerfile DIR
`

const APPLIANCE_OPTIONS = {
  flavor: { type: 'string' },
  config: { type: 'string' },
  cert: { type: 'string', multiple: true },
  listen: { type: 'string' },
} as const

async function appliancePlan(v: Record<string, unknown>) {
  const inputs = await readApplianceInputs({
    flavor: v.flavor as string | undefined,
    config: v.config as string | undefined,
    certs: v.cert as string[] | undefined,
    listen: v.listen as string | undefined,
  })
  return { inputs, plan: computeAppliancePlan(inputs) }
}

async function bundle(args: string[], io: CliIO): Promise<0> {
  const { values: v } = parseFileArgs(
    args,
    {
      output: { type: 'string', short: 'o' },
      arch: { type: 'string' },
      root: { type: 'string' },
      dist: { type: 'string' },
      'node-modules': { type: 'string' },
      node: { type: 'string' },
      native: { type: 'string', multiple: true },
      mtime: { type: 'string' },
    },
    0,
  )
  const arch = (v.arch as string | undefined) ?? 'arm64'
  if (!(arch in TARGET_ARCHES)) throw new UsageError('--arch must be arm64 or x64')
  const native: Record<string, string> = {}
  for (const spec of (v.native as string[] | undefined) ?? []) {
    const eq = spec.indexOf('=')
    if (eq <= 0) throw new UsageError(`--native ${spec}: expected PACKAGE=FILE`)
    native[spec.slice(0, eq)] = spec.slice(eq + 1)
  }
  const mtimeText = (v.mtime as string | undefined) ?? io.env.SOURCE_DATE_EPOCH ?? '0'
  if (!/^\d+$/.test(mtimeText)) throw new UsageError('--mtime must be seconds since the epoch')
  const root = (v.root as string | undefined) ?? io.cwd
  const version = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8').catch(() => '{}')) as { version?: string }).version ?? '0.0.0'
  const out = (v.output as string | undefined) ?? join(io.cwd, `dpu-appliance-${version}-${arch}.tar.gz`)
  const result = await buildBundle({
    root,
    dist: v.dist as string | undefined,
    nodeModules: v['node-modules'] as string | undefined,
    arch: arch as TargetArch,
    node: v.node as string | undefined,
    native,
    out,
    mtime: Number(mtimeText),
  })
  await writeFile(`${out}.sha256`, `${result.sha256}  ${out.slice(out.lastIndexOf('/') + 1)}\n`)
  io.stdout.write(`${result.path}: ${result.files} files, ${result.bytes} bytes, sha256 ${result.sha256}\n`)
  return 0
}

async function bfcfgText(v: Record<string, unknown>): Promise<string> {
  const { inputs, plan } = await appliancePlan(v)
  const bundlePath = v.bundle as string | undefined
  const bundleSha256 = bundlePath
    ? await sha256File(bundlePath).catch(() => {
        throw new ImageInputError(`bundle not found: ${bundlePath}`)
      })
    : undefined
  const comment = inputs.flavor ? `DPUFlavor ${inputs.flavor.metadata.namespace ?? 'default'}/${inputs.flavor.metadata.name}` : 'no DPUFlavor'
  return renderBfcfg({ plan, flavor: inputs.flavor, bundleSha256, comment })
}

async function bfcfg(args: string[], io: CliIO): Promise<0> {
  const { values: v } = parseFileArgs(args, { ...APPLIANCE_OPTIONS, output: { type: 'string', short: 'o' }, bundle: { type: 'string' } }, 0)
  const out = v.output as string | undefined
  if (!out) throw new UsageError('-o FILE is required')
  const text = await bfcfgText(v)
  if (out === '-') io.stdout.write(text)
  else await writeFile(out, text, { mode: 0o600 })
  return 0
}

async function build(args: string[], io: CliIO): Promise<0> {
  const { values: v } = parseFileArgs(args, { ...IGNITION_RENDER_OPTIONS, output: { type: 'string', short: 'o' }, base: { type: 'string' }, bundle: { type: 'string' }, rhcos: { type: 'boolean' } }, 0)
  const out = v.output as string | undefined
  const base = v.base as string | undefined
  if (!out || !base) throw new UsageError('--base BFB and -o FILE are required')
  const rhcos = Boolean(v.rhcos)
  if (!rhcos && !v.bundle) throw new UsageError('--bundle FILE is required (or --rhcos)')
  if (!rhcos) {
    for (const k of ['version', 'user', 'ssh-key', 'bundle-url', 'bundle-sha256']) if (v[k] !== undefined) throw new UsageError(`--${k} needs --rhcos`)
  }
  const trailer = rhcos ? await renderIgnitionFromFlags(v as IgnitionRenderFlags) : await bfcfgText(v)
  const { images, trailerBytes } = await buildInstallBfb({
    base,
    out,
    trailer,
    bundle: rhcos ? undefined : (v.bundle as string),
    onProgress: progressReporter(io, 'building'),
  })
  io.stdout.write(`${out}: ${images.length} images + ${rhcos ? 'Ignition' : 'bf.cfg'} trailer of ${trailerBytes} bytes\n`)
  return 0
}

async function layer(args: string[], io: CliIO): Promise<0> {
  const { values: v } = parseFileArgs(args, { base: { type: 'string' }, bundle: { type: 'string' }, dir: { type: 'string', short: 'd' }, listen: { type: 'string' } }, 0)
  if (!v.base || !v.bundle) throw new UsageError('--base IMAGE and --bundle FILE are required')
  const r = await writeRhcosLayer({ base: v.base as string, bundle: v.bundle as string, outDir: (v.dir as string | undefined) ?? io.cwd, listen: v.listen as string | undefined })
  io.stdout.write(`${r.containerfile}\n${r.layer}: digest ${r.digest}, diff_id ${r.diffId}\n`)
  return 0
}

export const imageCommands: CliCommand[] = [
  ...bfbCommands,
  { path: ['image', 'bundle'], summary: 'pack the appliance and its production dependencies for a DPU', usage: BUNDLE, run: bundle },
  { path: ['image', 'bfcfg'], summary: 'render the bf.cfg that installs the appliance with a BFB', usage: BFCFG, run: bfcfg },
  { path: ['image', 'build'], summary: 'build an install BFB: base BFB + bundle + bf.cfg (or Ignition for RHCOS)', usage: BUILD, run: build },
  { path: ['image', 'layer'], summary: 'write a Containerfile and OCI layer that add the appliance to RHCOS', usage: LAYER, run: layer },
]
