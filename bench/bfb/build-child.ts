/** One timed build in a fresh process, so its peak RSS is the builder's own. Prints JSON. */
import { buildBfb, parsePartName, fileSource, verifyBfb } from '../../image/bfb/index.js'

const [kernel, initramfs, out] = process.argv.slice(2) as [string, string, string]
const t0 = process.hrtime.bigint()
await buildBfb({
  parts: [
    { ...parsePartName('image'), source: fileSource(kernel) },
    { ...parsePartName('initramfs'), source: fileSource(initramfs) },
    { ...parsePartName('boot-args-v2'), source: fileSource(kernel, 0, 64) },
  ],
  out,
})
const t1 = process.hrtime.bigint()
await verifyBfb(out)
const t2 = process.hrtime.bigint()
process.stdout.write(
  JSON.stringify({ buildMs: Number(t1 - t0) / 1e6, verifyMs: Number(t2 - t1) / 1e6, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + '\n',
)
