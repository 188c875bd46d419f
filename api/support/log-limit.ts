/**
 * Rate limit for repeated log lines: per key, at most one line per interval. Lines held back in between are
 * counted, and the next line that passes says so (`repeated: N` and "(repeated N times in the last Xs)"), so
 * a failure that repeats five times a second costs one line a minute and nothing is silently lost.
 *
 * Holds, per key, when its last line was written and how many were held back since; a key is dropped by
 * `reset` (the condition cleared: the next failure is news and is written at once) and the oldest keys are
 * dropped past `maxKeys`, so keys built from peer names cannot grow without bound.
 *
 * It lives in api/ because both daemons need it and appliance/ and federation/ may not import each other; it
 * imports nothing (the logger is any pino-shaped object), so api/ stays a leaf.
 */

/** The pino-shaped logger surface this needs; pino's `Logger` and federation's `Logger` satisfy it. */
export interface LevelLogger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export type LimitedLevel = keyof LevelLogger

export interface LogLimiterOptions {
  /** At most one line per key per this many ms (default 60 s). */
  intervalMs?: number
  /** Clock (tests). */
  now?: () => number
  /** Keys remembered at most; the least recently written are forgotten first (default 1000). */
  maxKeys?: number
}

/** What `take` decided for a line that may be written: how many lines of its key were held back, over how long. */
export interface Admitted {
  /** Lines of this key held back since the last one written (0: nothing to summarize). */
  repeated: number
  /** Milliseconds since the last line of this key was written (0 for the first one). */
  sinceMs: number
}

interface KeyState {
  lastWritten: number
  held: number
}

export class LogLimiter {
  readonly intervalMs: number
  private readonly now: () => number
  private readonly maxKeys: number
  private readonly keys = new Map<string, KeyState>()

  constructor(options: LogLimiterOptions = {}) {
    this.intervalMs = options.intervalMs ?? 60_000
    this.now = options.now ?? Date.now
    this.maxKeys = options.maxKeys ?? 1000
  }

  /** Whether a line of `key` may be written now (and what it should summarize); `undefined`: hold it back. */
  take(key: string): Admitted | undefined {
    const now = this.now()
    const state = this.keys.get(key)
    if (state && now - state.lastWritten < this.intervalMs) {
      state.held++
      return undefined
    }
    const admitted = state ? { repeated: state.held, sinceMs: now - state.lastWritten } : { repeated: 0, sinceMs: 0 }
    // Delete then set: Map order is insertion order, so the first key is always the least recently written.
    this.keys.delete(key)
    this.keys.set(key, { lastWritten: now, held: 0 })
    if (this.keys.size > this.maxKeys) this.keys.delete(this.keys.keys().next().value!)
    return admitted
  }

  /**
   * Writes `msg` with `fields` at `level` unless a line of `key` was written less than `intervalMs` ago.
   * Returns whether it was written.
   * @example limiter.log(log, 'warn', `protocol:${bridge}`, { bridge, err: err.message }, 'OpenFlow protocol error; reconnecting')
   */
  log(logger: LevelLogger, level: LimitedLevel, key: string, fields: object, msg: string): boolean {
    const admitted = this.take(key)
    if (!admitted) return false
    logger[level](admitted.repeated > 0 ? { ...fields, repeated: admitted.repeated } : fields, msg + repeatedSuffix(admitted))
    return true
  }

  /** Forget every key that starts with `prefix` (the condition cleared): their next line is written at once. */
  reset(prefix: string): void {
    for (const key of [...this.keys.keys()]) if (key.startsWith(prefix)) this.keys.delete(key)
  }
}

/** " (repeated N times in the last Xs)" for a line that summarizes held-back ones, else "". */
export function repeatedSuffix(a: Admitted): string {
  return a.repeated > 0 ? ` (repeated ${a.repeated} time${a.repeated === 1 ? '' : 's'} in the last ${Math.round(a.sinceMs / 1000)}s)` : ''
}
