/**
 * bench/bfb: build a BFB from a 32 MiB kernel and a 1 GiB initramfs and compare with `cat` of the same inputs
 * (the budget: <= 1.5x), and check the builder's peak RSS stays under 100 MiB. Inputs live in a temp dir that
 * is deleted afterwards. Both sides are timed the same way: a child process from spawn to exit (`sh -c cat` and
 * `node build-child.js`), alternating in one run; medians and ranges are printed.
 * Run: npx tsx bench/bfb/index.ts [--size-mib 1024] [--runs 5]
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import { fmt, load, spread } from '../support/stats.js'

const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '1024' }, runs: { type: 'string', default: '5' } } })
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

/** Runs a child to completion; its wall time from spawn to exit. */
function timed(cmd: string, args: string[]): { ms: number; stdout: string } {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return { ms, stdout: r.stdout }
}

const dir = await mkdtemp(join(tmpdir(), 'bench-bfb-'))
try {
  const kernel = join(dir, 'kernel')
  const initramfs = join(dir, 'initramfs')
  await fill(kernel, 32)
  await fill(initramfs, sizeMiB)
  const catMs: number[] = []
  const buildMs: number[] = []
  const buildInnerMs: number[] = []
  const verifyMs: number[] = []
  const rss: number[] = []
  // Compiled to plain JS first, as dist/ would be: a TypeScript loader in the child would inflate its RSS.
  const repo = new URL('../../', import.meta.url).pathname
  const js = join(dir, 'js')
  const tsc = spawnSync(
    process.execPath,
    [
      join(repo, 'node_modules/typescript/bin/tsc'),
      '--outDir',
      js,
      '--rootDir',
      repo,
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--skipLibCheck',
      '--types',
      'node',
      join(repo, 'bench/bfb/build-child.ts'),
    ],
    { encoding: 'utf8' },
  )
  if (tsc.status !== 0) throw new Error(`tsc failed: ${tsc.stdout}${tsc.stderr}`)
  await writeFile(join(js, 'package.json'), '{"type":"module"}\n')
  const child = join(js, 'bench/bfb/build-child.js')
  const out = join(dir, 'out.bfb')
  for (let i = 0; i < runs; i++) {
    catMs.push(timed('sh', ['-c', `cat "$1" "$2" > "$3"`, 'sh', kernel, initramfs, join(dir, 'cat.out')]).ms)
    await rm(join(dir, 'cat.out'))
    const b = timed(process.execPath, [child, kernel, initramfs, out])
    const inner = JSON.parse(b.stdout) as { innerMs: number; maxRssMiB: number }
    buildMs.push(b.ms)
    buildInnerMs.push(inner.innerMs)
    rss.push(inner.maxRssMiB)
    const v = timed(process.execPath, [child, kernel, initramfs, out, 'verify'])
    verifyMs.push(v.ms)
    rss.push((JSON.parse(v.stdout) as { maxRssMiB: number }).maxRssMiB)
    await rm(out)
  }
  const cat = spread(catMs)
  const ours = spread(buildMs)
  const peak = Math.max(...rss)
  const ratios = buildMs.map((b, i) => b / catMs[i]!)
  console.log(`inputs: kernel 32 MiB + initramfs ${sizeMiB} MiB, ${runs} alternating runs, each side a child process timed spawn -> exit`)
  console.log(`cat (baseline):  ${fmt(cat)}`)
  console.log(`dpuctl build:    ${fmt(ours)}  ratio of medians ${(ours.median / cat.median).toFixed(2)}x (per run ${fmt(spread(ratios), 'x', 2)}) (budget <= 1.5x)`)
  console.log(`  of which inside the builder (after node start-up): ${fmt(spread(buildInnerMs))}`)
  console.log(`dpuctl verify:   ${fmt(spread(verifyMs))}`)
  console.log(`peak RSS:        ${peak.toFixed(1)} MiB (budget < 100 MiB)`)
  console.log(load())
  process.exitCode = ours.median / cat.median <= 1.5 && peak < 100 ? 0 : 1
} finally {
  await rm(dir, { recursive: true, force: true })
}
