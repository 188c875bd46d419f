/**
 * A stream a command prints until the user stops it: aborted on Ctrl-C / SIGTERM or when stdout's reader goes
 * away (`dpuctl get -w | head`). `release()` removes the handlers again.
 */
import type { CliIO } from '../../api/cli.js'

export function abortOnInterrupt(io: CliIO): { signal: AbortSignal; release: () => void } {
  const ac = new AbortController()
  const stop = () => ac.abort()
  const signals = ['SIGINT', 'SIGTERM'] as const
  for (const s of signals) process.once(s, stop)
  io.stdout.once('close', stop)
  io.stdout.once('error', stop)
  return {
    signal: ac.signal,
    release: () => {
      for (const s of signals) process.off(s, stop)
      io.stdout.off('close', stop)
      io.stdout.off('error', stop)
    },
  }
}
