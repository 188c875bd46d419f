/** `dpuctl bfb inspect|extract|verify|build`: the BFB codec on the command line. */
import { UsageError, type CliCommand, type CliIO } from '../api/cli.js'
import { parseFlags, type OptionSpec } from '../api/cli-flags.js'
import { buildBfb, extractBfb, parsePartName, partValueSource } from './bfb/build.js'
import { checkBfb, readTrailer, verifyBfb, type BfbLayout } from './bfb/reader.js'
import { fileSource } from './bfb/source.js'
import type { BfbPart } from './bfb/writer.js'
import { hex32 } from './errors.js'
import { progressReporter } from './progress.js'

/** parseFlags (the one flag parser) for commands that take exactly `positionals` file arguments. */
export function parseFileArgs(args: string[], options: OptionSpec, positionals: number) {
  const parsed = parseFlags(args, options, positionals)
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(positionals ? `expected ${positionals} file argument(s), got ${parsed.positionals.length}` : `unexpected argument ${parsed.positionals[0]}`)
  }
  return { values: parsed.values as Record<string, string | boolean | string[] | undefined>, positionals: parsed.positionals }
}

async function trailerKind(layout: BfbLayout): Promise<string> {
  if (!layout.trailer) return ''
  const head = (await readTrailer(layout.path, { offset: layout.trailer.offset, length: Math.min(layout.trailer.length, 64) })).toString('utf8')
  return /^\s*\{/.test(head) ? 'ignition' : /^[\s#A-Za-z_]/.test(head) ? 'bf.cfg' : 'unknown'
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n'
}

const INSPECT = `Usage: dpuctl bfb inspect FILE [-o json]

Lists the images of a BFB (id, name, version, length, CRC check) and any trailer (bf.cfg or Ignition).
Exits 1 if an image's CRC does not match.
`
const EXTRACT = `Usage: dpuctl bfb extract FILE [--only NAME]... [-d DIR]

Writes each image's payload to DIR/<name>-v<version> (DIR defaults to the current directory).
--only initramfs selects every version of an image, --only boot-args-v2 just one. A trailer goes to DIR/trailer.
`
const VERIFY = `Usage: dpuctl bfb verify FILE [--allow-trailer]

Checks headers, lengths, padding and CRCs; exits 1 naming the image and byte offset of the first problem.
Bytes after the last image are an error unless --allow-trailer (a BFB with bf.cfg or Ignition appended).
`
const BUILD = `Usage: dpuctl bfb build -o FILE [--base BFB] [parts...]

Builds a BFB from named parts in canonical order; with --base, each part replaces the image with the same
id and version and every other image is copied unchanged. A VALUE is a file, or =text for a literal string.

Parts:
  --kernel VALUE          Linux kernel Image (image 62)
  --initramfs VALUE       initramfs (image 63)
  --boot-args-v0 VALUE    kernel command line, BlueField-1/2 (--boot-args is the same)
  --boot-args-v2 VALUE    kernel command line, BlueField-3
  --boot-path VALUE       UEFI boot path, e.g. =VenHw(F019E406-8C9C-11E5-8797-001ACA00BFC4)/Image
  --boot-desc VALUE       boot menu description, e.g. "=Linux from rshim"
  --capsule VALUE         UEFI capsule (boot_update2.cap)
  --info VALUE            BFB versioning info JSON
  --part NAME=VALUE       any image by name, e.g. --part bl2-v1=bl2.bin or --part image_id_70=x; repeatable
  --trailer FILE          bytes to append after the last image (bf.cfg, Ignition)
`

const NAMED_PARTS: Record<string, string> = {
  kernel: 'image',
  initramfs: 'initramfs',
  'boot-args': 'boot-args-v0',
  'boot-args-v0': 'boot-args-v0',
  'boot-args-v2': 'boot-args-v2',
  'boot-path': 'boot-path',
  'boot-desc': 'boot-desc',
  capsule: 'capsule',
  info: 'info',
}

function hasProblem(checks: { ok: boolean }[]): boolean {
  return checks.some((c) => !c.ok)
}

async function inspect(args: string[], io: CliIO): Promise<0 | 1> {
  const { values, positionals } = parseFileArgs(args, { output: { type: 'string', short: 'o' } }, 1)
  if (values.output !== undefined && values.output !== 'json' && values.output !== 'table') throw new UsageError('-o must be json or table')
  const { layout, checks } = await checkBfb(positionals[0]!, { onProgress: progressReporter(io, 'checking') })
  const kind = await trailerKind(layout)
  if (values.output === 'json') {
    const doc = {
      file: layout.path,
      size: layout.size,
      images: checks.map(({ entry: e, actualCrc, ok }) => ({
        index: e.index,
        offset: e.offset,
        id: e.id,
        name: e.name,
        version: e.version,
        nextVersion: e.nextVersion,
        headerWords: e.headerWords,
        length: e.length,
        crc: `0x${hex32(e.crc)}`,
        computedCrc: `0x${hex32(actualCrc)}`,
        crcOk: ok,
        following: `0x${e.following.toString(16)}`,
      })),
      trailer: layout.trailer ? { ...layout.trailer, kind } : null,
    }
    io.stdout.write(JSON.stringify(doc, null, 2) + '\n')
  } else {
    const rows = [['#', 'OFFSET', 'ID', 'NAME', 'VERSION', 'LENGTH', 'CRC', 'CRC OK']]
    for (const { entry: e, ok } of checks) rows.push([String(e.index), String(e.offset), String(e.id), e.name, String(e.version), String(e.length), `0x${hex32(e.crc)}`, ok ? 'ok' : 'BAD'])
    io.stdout.write(table(rows))
    if (layout.trailer) io.stdout.write(`trailer: ${layout.trailer.length} bytes at offset ${layout.trailer.offset} (${kind})\n`)
  }
  return hasProblem(checks) ? 1 : 0
}

async function extract(args: string[], io: CliIO): Promise<0> {
  const { values, positionals } = parseFileArgs(args, { only: { type: 'string', multiple: true }, dir: { type: 'string', short: 'd' } }, 1)
  const dir = (values.dir as string | undefined) ?? io.cwd
  const files = await extractBfb(positionals[0]!, dir, (values.only as string[] | undefined) ?? [])
  for (const f of files) io.stdout.write(`${f}\n`)
  return 0
}

async function verify(args: string[], io: CliIO): Promise<0> {
  const { values, positionals } = parseFileArgs(args, { 'allow-trailer': { type: 'boolean' } }, 1)
  const layout = await verifyBfb(positionals[0]!, { strict: !values['allow-trailer'], onProgress: progressReporter(io, 'verifying') })
  const trailer = layout.trailer ? `, trailer of ${layout.trailer.length} bytes at offset ${layout.trailer.offset}` : ''
  io.stdout.write(`ok: ${layout.images.length} images, ${layout.size} bytes${trailer}\n`)
  return 0
}

async function build(args: string[], io: CliIO): Promise<0> {
  const options: OptionSpec = {
    output: { type: 'string', short: 'o' },
    base: { type: 'string' },
    part: { type: 'string', multiple: true },
    trailer: { type: 'string' },
  }
  for (const k of Object.keys(NAMED_PARTS)) options[k] = { type: 'string' }
  const { values } = parseFileArgs(args, options, 0)
  const out = values.output as string | undefined
  if (!out) throw new UsageError('-o FILE is required')
  const parts: BfbPart[] = []
  for (const [flag, name] of Object.entries(NAMED_PARTS)) {
    const v = values[flag] as string | undefined
    if (v !== undefined) parts.push({ ...parsePartName(name), source: partValueSource(v) })
  }
  for (const spec of (values.part as string[] | undefined) ?? []) {
    const eq = spec.indexOf('=')
    if (eq <= 0) throw new UsageError(`--part ${spec}: expected NAME=VALUE`)
    parts.push({ ...parsePartName(spec.slice(0, eq)), source: partValueSource(spec.slice(eq + 1)) })
  }
  if (!parts.length && !values.base) throw new UsageError('nothing to build: give parts or --base')
  const trailer = values.trailer as string | undefined
  const written = await buildBfb({ parts, base: values.base as string | undefined, out, trailer: trailer ? fileSource(trailer) : undefined }, { onProgress: progressReporter(io, 'building') })
  if (io.stdout.isTTY) io.stdout.write(`wrote ${out}: ${written.length} images\n`)
  return 0
}

export const bfbCommands: CliCommand[] = [
  { path: ['bfb', 'inspect'], summary: 'list the images of a BFB and check their CRCs', usage: INSPECT, run: inspect },
  { path: ['bfb', 'extract'], summary: 'extract the images of a BFB to files', usage: EXTRACT, run: extract },
  { path: ['bfb', 'verify'], summary: 'verify a BFB, naming the image and offset of the first problem', usage: VERIFY, run: verify },
  { path: ['bfb', 'build'], summary: 'build a BFB from parts, or merge parts into a base BFB', usage: BUILD, run: build },
]
