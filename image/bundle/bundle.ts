/**
 * The appliance bundle: a reproducible .tar.gz, unpacked at /opt/dpu-appliance on the DPU, holding
 *   bin/dpuctl.mjs, dist/ (npm run build), package.json, node_modules/ (production closure only),
 *   node/bin/node (the runtime, optional) and MANIFEST.sha256 (sha256 of every regular file).
 * Entries are sorted, owned by 0:0, with one mtime; every ELF in it (native modules, node) must match the target.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { ArchMismatchError, ImageInputError } from '../errors.js'
import { archName, machineName, readElfMachine, TARGET_ARCHES, type TargetArch } from './elf.js'
import { writeTarGz, type TarEntry } from './tar.js'

export interface BundleInput {
  /** Project root: package.json and bin/dpuctl.mjs come from here. */
  root: string
  dist?: string
  nodeModules?: string
  arch: TargetArch
  /** Node runtime binary for the target; placed at node/bin/node. */
  node?: string
  /** Native module overrides: package name -> .node file built for the target. */
  native?: Record<string, string>
  out: string
  /** Seconds since the epoch for every entry (SOURCE_DATE_EPOCH); default 0. */
  mtime?: number
}

export interface BundleResult {
  path: string
  sha256: string
  files: number
  bytes: number
}

type Collected = Map<string, TarEntry>

interface PackageJson {
  name?: string
  version?: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  os?: string[]
  cpu?: string[]
}

async function readJson(path: string): Promise<PackageJson> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as PackageJson
  } catch (err) {
    throw new ImageInputError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, { path })
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

const toPosix = (p: string): string => p.split(sep).join('/')
// Build leftovers of node-gyp that are never loaded at run time.
const SKIP_DIRS = new Set(['obj.target', '.deps'])

/** Adds a file tree under `prefix`; `skipNodeModules` leaves nested packages to the dependency walk. */
async function addTree(into: Collected, dir: string, prefix: string, skipNodeModules: boolean): Promise<void> {
  into.set(prefix, { type: 'dir', path: prefix, mode: 0o755 })
  for (const name of (await readdir(dir)).sort()) {
    if (skipNodeModules && name === 'node_modules') continue
    if (SKIP_DIRS.has(name)) continue
    const full = join(dir, name)
    const path = `${prefix}/${name}`
    const st = await lstat(full)
    if (st.isSymbolicLink()) into.set(path, { type: 'symlink', path, target: await readlink(full) })
    else if (st.isDirectory()) await addTree(into, full, path, skipNodeModules)
    else if (st.isFile()) into.set(path, { type: 'file', path, mode: st.mode & 0o111 ? 0o755 : 0o644, size: st.size, source: full })
  }
}

function platformAllows(list: string[] | undefined, value: string): boolean {
  if (!list?.length) return true
  const denied = list.filter((x) => x.startsWith('!')).map((x) => x.slice(1))
  const allowed = list.filter((x) => !x.startsWith('!'))
  return !denied.includes(value) && (allowed.length === 0 || allowed.includes(value))
}

/** Finds `name` the way Node does: in node_modules of `from` and each parent, up to the bundle's root. */
async function resolvePackage(name: string, from: string, top: string): Promise<string | undefined> {
  for (let dir = from; dir.startsWith(top); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (await exists(join(candidate, 'package.json'))) return candidate
    if (dir === top) break
  }
  return undefined
}

/** Production dependency closure, as package directories relative to the root holding node_modules. */
async function productionPackages(rootPkg: PackageJson, nodeModules: string, arch: TargetArch): Promise<string[]> {
  const top = dirname(nodeModules)
  const seen = new Set<string>()
  const queue: { name: string; from: string; optional: boolean }[] = []
  const enqueue = (pkg: PackageJson, from: string): void => {
    for (const n of Object.keys(pkg.dependencies ?? {})) queue.push({ name: n, from, optional: false })
    for (const n of Object.keys(pkg.optionalDependencies ?? {})) queue.push({ name: n, from, optional: true })
    for (const n of Object.keys(pkg.peerDependencies ?? {})) queue.push({ name: n, from, optional: true })
  }
  enqueue(rootPkg, top)
  while (queue.length) {
    const { name, from, optional } = queue.shift()!
    const dir = await resolvePackage(name, from, top)
    if (!dir) {
      if (optional) continue
      throw new ImageInputError(`production dependency ${name} is not installed under ${nodeModules} (run npm ci)`, { name })
    }
    if (seen.has(dir)) continue
    const pkg = await readJson(join(dir, 'package.json'))
    // npm's own rule: a package whose os/cpu excludes the target is not installed there.
    if (!platformAllows(pkg.os, 'linux') || !platformAllows(pkg.cpu, arch)) continue
    seen.add(dir)
    enqueue(pkg, dir)
  }
  return [...seen].map((d) => toPosix(relative(top, d))).sort()
}

export async function sha256File(path: string | Buffer): Promise<string> {
  const h = createHash('sha256')
  if (Buffer.isBuffer(path)) return h.update(path).digest('hex')
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer)
  return h.digest('hex')
}

async function checkElf(file: string, shown: string, arch: TargetArch, hint: string): Promise<void> {
  const machine = await readElfMachine(file)
  if (machine !== TARGET_ARCHES[arch]) throw new ArchMismatchError(shown, archName(arch), machineName(machine), hint)
}

/** Builds the bundle; returns its path, sha256 and size. */
export async function buildBundle(input: BundleInput): Promise<BundleResult> {
  const root = resolve(input.root)
  const dist = resolve(input.dist ?? join(root, 'dist'))
  const nodeModules = resolve(input.nodeModules ?? join(root, 'node_modules'))
  if (!(TARGET_ARCHES as Record<string, number>)[input.arch]) throw new ImageInputError(`unknown architecture ${input.arch} (arm64 or x64)`)
  for (const [p, what] of [
    [join(root, 'package.json'), 'package.json'],
    [join(dist, 'bin'), 'built appliance (dist/bin: run npm run build)'],
    [nodeModules, 'node_modules'],
  ] as const) {
    if (!(await exists(p))) throw new ImageInputError(`missing ${what}: ${p}`, { path: p })
  }
  const rootPkg = await readJson(join(root, 'package.json'))
  const entries: Collected = new Map()
  await addTree(entries, dist, 'dist', false)
  const launcher = join(root, 'bin', 'dpuctl.mjs')
  if (!(await exists(launcher))) throw new ImageInputError(`missing launcher ${launcher}`)
  entries.set('bin', { type: 'dir', path: 'bin', mode: 0o755 })
  entries.set('bin/dpuctl.mjs', { type: 'file', path: 'bin/dpuctl.mjs', mode: 0o755, size: (await stat(launcher)).size, source: launcher })
  entries.set('package.json', { type: 'file', path: 'package.json', mode: 0o644, size: (await stat(join(root, 'package.json'))).size, source: join(root, 'package.json') })
  entries.set('node_modules', { type: 'dir', path: 'node_modules', mode: 0o755 })
  const top = dirname(nodeModules)
  for (const pkgDir of await productionPackages(rootPkg, nodeModules, input.arch)) {
    await addTree(entries, join(top, pkgDir), pkgDir, true)
    // Scoped packages: the scope directory itself needs an entry too.
    const parent = pkgDir.slice(0, pkgDir.lastIndexOf('/'))
    if (!entries.has(parent)) entries.set(parent, { type: 'dir', path: parent, mode: 0o755 })
  }
  for (const [pkg, file] of Object.entries(input.native ?? {})) {
    const pkgPath = [...entries.keys()].find((k) => k === `node_modules/${pkg}`)
    if (!pkgPath) throw new ImageInputError(`--native ${pkg}: package is not among the production dependencies`)
    for (const k of [...entries.keys()]) if (k.startsWith(`${pkgPath}/`) && k.endsWith('.node')) entries.delete(k)
    const dest = `${pkgPath}/build/Release/${pkg.replace(/^@[^/]+\//, '').replace(/-/g, '_')}.node`
    await checkElf(file, `--native ${pkg}=${file}`, input.arch, '')
    for (const d of [`${pkgPath}/build`, `${pkgPath}/build/Release`]) if (!entries.has(d)) entries.set(d, { type: 'dir', path: d, mode: 0o755 })
    entries.set(dest, { type: 'file', path: dest, mode: 0o755, size: (await stat(file)).size, source: file })
  }
  for (const e of entries.values()) {
    if (e.type === 'file' && e.path.endsWith('.node') && typeof e.source === 'string') {
      const pkg = /^(?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(e.path)?.[1] ?? ''
      await checkElf(e.source, e.path, input.arch, `give a ${input.arch} build with --native ${pkg}=FILE`)
    }
  }
  if (input.node) {
    await checkElf(input.node, `--node ${input.node}`, input.arch, `use a Node.js linux-${input.arch} binary`)
    entries.set('node', { type: 'dir', path: 'node', mode: 0o755 })
    entries.set('node/bin', { type: 'dir', path: 'node/bin', mode: 0o755 })
    entries.set('node/bin/node', { type: 'file', path: 'node/bin/node', mode: 0o755, size: (await stat(input.node)).size, source: input.node })
  }
  const files = [...entries.values()].filter((e): e is Extract<TarEntry, { type: 'file' }> => e.type === 'file').sort((a, b) => cmp(a.path, b.path))
  const manifest: string[] = []
  for (const f of files) manifest.push(`${await sha256File(f.source)}  ${f.path}`)
  const manifestBytes = Buffer.from(manifest.join('\n') + '\n')
  entries.set('MANIFEST.sha256', { type: 'file', path: 'MANIFEST.sha256', mode: 0o644, size: manifestBytes.length, source: manifestBytes })
  const ordered = [...entries.values()].sort((a, b) => cmp(a.path, b.path))
  await writeTarGz(input.out, ordered, input.mtime ?? 0)
  return { path: input.out, sha256: await sha256File(input.out), files: files.length + 1, bytes: (await stat(input.out)).size }
}

/** Byte-wise order, independent of locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
