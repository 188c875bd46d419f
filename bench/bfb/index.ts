/**
 * bench/bfb: build a BFB from a 32 MiB kernel and a 1 GiB initramfs and compare with `cat` of the same inputs
 * (the budget: <= 1.5x), and check the builder's peak RSS stays under 100 MiB. Inputs live in a temp dir that
 * is deleted afterwards. Run: npx tsx bench/bfb/index.ts [--size-mib 1024] [--runs 3]
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'

const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '1024' }, runs: { type: 'string', default: '3' } } })
const sizeMiB = Number(values['size-mib'])
const runs = Number(values.runs)
const MIB = 1 << 20

async function fill(path: string, mib: number): Promise<void> {
  const fh = await open(path, 'w')
  const block = randomBytes(MIB)
  for (let i = 0; i < mib; i++) {
    block.writeUInt32LE(i, 0) // every MiB differs, nothing dedupes
    await fh.write(block)
  }
  await fh.write(Buffer.from('tail')) // not a multiple of 8
  await fh.close()
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const dir = await mkdtemp(join(tmpdir(), 'bench-bfb-'))
try {
  const kernel = join(dir, 'kernel')
  const initramfs = join(dir, 'initramfs')
  await fill(kernel, 32)
  await fill(initramfs, sizeMiB)
  const catMs: number[] = []
  const build: { buildMs: number; verifyMs: number; maxRssMiB: number }[] = []
  // Compiled to plain JS first, as dist/ would be: a TypeScript loader in the child would inflate its RSS.
  const repo = new URL('../../', import.meta.url).pathname
  const js = join(dir, 'js')
  const tsc = spawnSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '--outDir', js, '--rootDir', repo, '--module', 'nodenext',
    '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', join(repo, 'bench/bfb/build-child.ts')], { encoding: 'utf8' })
  if (tsc.status !== 0) throw new Error(`tsc failed: ${tsc.stdout}${tsc.stderr}`)
  await writeFile(join(js, 'package.json'), '{"type":"module"}\n')
  const child = join(js, 'bench/bfb/build-child.js')
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint()
    const c = spawnSync('sh', ['-c', `cat "$1" "$2" > "$3"`, 'sh', kernel, initramfs, join(dir, 'cat.out')])
    catMs.push(Number(process.hrtime.bigint() - t0) / 1e6)
    if (c.status !== 0) throw new Error(`cat failed: ${c.stderr}`)
    await rm(join(dir, 'cat.out'))
    const r = spawnSync(process.execPath, [child, kernel, initramfs, join(dir, 'out.bfb')], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`)
    build.push(JSON.parse(r.stdout) as { buildMs: number; verifyMs: number; maxRssMiB: number })
    await rm(join(dir, 'out.bfb'))
  }
  const cat = median(catMs)
  const ours = median(build.map((b) => b.buildMs))
  const rss = Math.max(...build.map((b) => b.maxRssMiB))
  console.log(`inputs: kernel 32 MiB + initramfs ${sizeMiB} MiB, ${runs} runs, medians`)
  console.log(`cat (baseline):  ${cat.toFixed(0)} ms`)
  console.log(`dpuctl build:    ${ours.toFixed(0)} ms   ratio ${(ours / cat).toFixed(2)}x (budget <= 1.5x)`)
  console.log(`dpuctl verify:   ${median(build.map((b) => b.verifyMs)).toFixed(0)} ms`)
  console.log(`peak RSS:        ${rss.toFixed(1)} MiB (budget < 100 MiB)`)
  process.exitCode = ours / cat <= 1.5 && rss < 100 ? 0 : 1
} finally {
  await rm(dir, { recursive: true, force: true })
}
