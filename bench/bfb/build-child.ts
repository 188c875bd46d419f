/**
 * One build (or, with `verify` as the fourth argument, one verify) in a fresh process, so its peak RSS is the
 * builder's own. The parent times this process from spawn to exit, as it times `cat`; the internal times printed
 * here (JSON) only show how much of that is process start-up.
 */
import { buildBfb, parsePartName, fileSource, verifyBfb } from '../../image/bfb/index.js'

const [kernel, initramfs, out, mode] = process.argv.slice(2) as [string, string, string, string | undefined]
const t0 = process.hrtime.bigint()
if (mode === 'verify') await verifyBfb(out)
else
  await buildBfb({
    parts: [
      { ...parsePartName('image'), source: fileSource(kernel) },
      { ...parsePartName('initramfs'), source: fileSource(initramfs) },
      { ...parsePartName('boot-args-v2'), source: fileSource(kernel, 0, 64) },
    ],
    out,
  })
const t1 = process.hrtime.bigint()
process.stdout.write(JSON.stringify({ innerMs: Number(t1 - t0) / 1e6, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + '\n')
