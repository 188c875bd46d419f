/**
 * The one log format of every daemon (appliance, hub): JSON lines on stderr with an ISO 8601 `time` and `level`
 * as a name (`"info"`, not pino's 30), so `jq`, journald and our own tests read both daemons the same way.
 * stdout stays free for command output (`hub run` prints one machine-readable line there).
 *
 * It lives in api/ because appliance/ and federation/ may not import each other and both daemons must log
 * alike; it imports nothing of ours, only pino.
 *
 * `component` is never a field of the root logger: pino appends a child's bindings to its parent's without
 * replacing them, so a root `component` plus `log.child({ component: 'ovs' })` would write the key twice on one
 * line. Composition roots bind `component` once, on the children they hand out.
 */
import { pino, type Logger } from 'pino'

export type { Logger }

/** The levels `--log-level` accepts, most severe first. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v)
}

export interface LoggerOptions {
  level?: LogLevel
  /** Fields on every line, e.g. `{ node: 'dpu-a' }`. Not `component`: children bind it (see above). */
  base?: Record<string, unknown> & { component?: never }
  /** Where lines go (default: stderr, file descriptor 2, written synchronously so a crash loses nothing). */
  destination?: NodeJS.WritableStream
}

/**
 * The root logger of a daemon; hand out `createLogger(...).child({ component })`.
 * @example const log = createLogger({ level: 'info', base: { node: 'dpu-a' } }).child({ component: 'appliance' })
 */
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
