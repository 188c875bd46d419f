/**
 * What a client can make the appliance hold through `logs -f`: each follow stream keeps a tail of a container's
 * log file open (the process backend) or a podman API connection (podman) until the client goes away. Capped in
 * total and per client (its peer address), as watches are (`watch-limits.ts`); a plain (not followed) log read
 * ends by itself and is not counted.
 */
import { ApplianceError } from '../../api/errors.js'
import { TooManyWatchesError, WatchAdmission } from './watch-limits.js'

export interface LogFollowLimitOptions {
  /** Open follow streams in total (default 32). */
  maxFollows?: number
  /** Open follow streams per client address (default 8). */
  maxFollowsPerClient?: number
}

export const DEFAULT_LOG_FOLLOW_LIMITS: Required<LogFollowLimitOptions> = { maxFollows: 32, maxFollowsPerClient: 8 }

export class TooManyLogFollowsError extends ApplianceError {
  constructor(scope: string, limit: number, client: string) {
    const where = scope === 'total' ? 'on this appliance' : `from ${client}`
    super('rest.too-many-log-follows', `${limit} log follow streams are already open ${where}; stop one or retry later`, { context: { scope, limit, client }, retryable: true })
  }
}

/** Counts open follow streams and admits new ones within the caps (the counting is the watches'). */
export class LogFollowAdmission {
  readonly limits: Required<LogFollowLimitOptions>
  readonly #slots: WatchAdmission

  constructor(options: LogFollowLimitOptions = {}) {
    this.limits = { ...DEFAULT_LOG_FOLLOW_LIMITS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) }
    this.#slots = new WatchAdmission({ maxWatches: this.limits.maxFollows, maxWatchesPerClient: this.limits.maxFollowsPerClient })
  }

  /** Takes a slot for `client` or throws `TooManyLogFollowsError`; the returned function gives it back (once). */
  admit(client: string): () => void {
    try {
      return this.#slots.admit(client)
    } catch (err) {
      if (err instanceof TooManyWatchesError) {
        const c = err.context as { scope: string; limit: number }
        throw new TooManyLogFollowsError(c.scope, c.limit, client)
      }
      throw err
    }
  }

  get open(): number {
    return this.#slots.stats.open
  }
}
