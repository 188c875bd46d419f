/** A one-line progress bar on a terminal; nothing at all when stderr is a pipe or a file. */
import type { CliIO } from '../api/cli.js'

export function progressReporter(io: CliIO, label: string): ((done: number, total: number) => void) | undefined {
  if (!io.stderr.isTTY) return undefined
  return (done, total) => {
    const frac = total ? done / total : 1
    const width = 30
    const filled = Math.round(frac * width)
    const mib = (n: number): string => (n / (1 << 20)).toFixed(0)
    io.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mib(done)}/${mib(total)} MiB`)
    if (done >= total) io.stderr.write('\n')
  }
}
