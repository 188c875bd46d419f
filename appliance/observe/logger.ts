/** JSON-lines logger on stderr (stdout stays free for command output). */
import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

export interface LoggerOptions {
  level?: LevelWithSilent
  /** Fields on every line, e.g. `{ component: 'appliance', node: 'dpu-a' }`. */
  base?: Record<string, unknown>
  /** Where lines go (default: stderr, file descriptor 2, written synchronously so a crash loses nothing). */
  destination?: NodeJS.WritableStream
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const destination = opts.destination ?? pino.destination({ fd: 2, sync: true })
  return pino(
    {
      level: opts.level ?? 'info',
      base: opts.base ?? null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  )
}
