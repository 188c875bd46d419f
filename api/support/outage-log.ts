/**
 * The log of one connection a daemon keeps retrying (the appliance to its Open vSwitch database, the agent to
 * its hub): one clear line at the first failure (with a hint saying what the operator can do), then at most
 * one reminder per interval saying for how long it has failed and after how many attempts, and one line when
 * it connects. Retrying every few seconds for hours costs a line a minute, not thousands.
 *
 *   connected --lost()--> failing --failed()...--> failing --connected()--> connected
 *                 (one warn)          (first: warn + hint; then a reminder per interval)   (one info)
 *
 * Holds when the current outage began and how many attempts failed since; `connected()` clears both. Lives in
 * api/ beside the LogLimiter it builds on (see log-limit.ts for why api/).
 */
import { LogLimiter, type LevelLogger } from './log-limit.js'

export interface OutageLogOptions {
  logger: LevelLogger
  /** What is being reached, for messages: "Open vSwitch database", "federation hub". */
  what: string
  /** Fields on every line, e.g. `{ remote: 'unix:/var/run/openvswitch/db.sock' }` (the address, once per line). */
  fields?: object
  /** What the operator can do about a failure; on the first line and on reminders. */
  hint?: string
  /** At most one reminder per this many ms (default 60 s). */
  intervalMs?: number
  now?: () => number
}

const REMINDER = 'reminder'
const LOST = 'lost'

export class OutageLog {
  private readonly limiter: LogLimiter
  private readonly now: () => number
  private since: number | undefined
  private attempts = 0

  constructor(private readonly o: OutageLogOptions) {
    this.now = o.now ?? Date.now
    this.limiter = new LogLimiter({ intervalMs: o.intervalMs ?? 60_000, now: this.now })
  }

  /** Whether an outage is running (a failure since the last connect). */
  get failing(): boolean {
    return this.since !== undefined
  }

  /** An established connection dropped (`reason`: short, without the address). Rate-limited: a flapping peer. */
  lost(reason: string | undefined): void {
    if (this.since === undefined) {
      this.since = this.now()
      this.limiter.take(REMINDER) // failures right after this line are the outage it announced: remind later
    }
    this.limiter.log(this.o.logger, 'warn', LOST, { ...this.o.fields, ...(reason ? { error: reason } : {}) }, `lost the connection to the ${this.o.what}${reason ? ` (${reason})` : ''}; reconnecting`)
  }

  /** An attempt failed (`reason`: short, without the address, e.g. "no such socket (ENOENT)"). */
  failed(reason: string): void {
    const now = this.now()
    const first = this.since === undefined
    this.since ??= now
    this.attempts++
    const fields = { ...this.o.fields, error: reason, attempts: this.attempts, failingForS: Math.round((now - this.since) / 1000) }
    const hint = this.o.hint ? `; ${this.o.hint}` : ''
    if (first) {
      // The reminder clock starts at the first line, so the first reminder comes one interval later.
      this.limiter.take(REMINDER)
      this.o.logger.warn(fields, `${this.o.what} unavailable: ${reason}${hint}; retrying`)
      return
    }
    if (!this.limiter.take(REMINDER)) return
    this.o.logger.warn(fields, `${this.o.what} still unavailable after ${fields.failingForS}s and ${this.attempts} attempts: ${reason}${hint}`)
  }

  /** The connection is up: one line (saying how long it took, after failures) and the outage is over. */
  connected(fields: object = {}, msg = `connected to the ${this.o.what}`): void {
    const after = this.since === undefined ? {} : { attempts: this.attempts, failedForS: Math.round((this.now() - this.since) / 1000) }
    const suffix = this.since === undefined ? '' : ` after ${after.attempts} failed attempt${after.attempts === 1 ? '' : 's'} over ${after.failedForS}s`
    this.o.logger.info({ ...this.o.fields, ...fields, ...after }, msg + suffix)
    this.since = undefined
    this.attempts = 0
    this.limiter.reset(REMINDER)
  }
}
