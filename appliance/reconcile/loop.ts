/**
 * A level-triggered reconcile loop with coalesced triggers.
 *
 * Holds: whether a run is in progress, whether another run was requested meanwhile (`dirty`), and the retry
 * timer after a failure. Callers only say "something changed" (`trigger(reason)`); the loop runs the
 * reconciler's whole read -> compute -> diff -> apply pass at most once at a time, and once more afterwards if
 * anything was triggered during the run. There is no periodic re-push: a failed pass is retried with backoff
 * (retryable errors) or waits for the next trigger (bad input), and drift detection is a separate `verify`.
 */
import { isRetryable } from '../../api/errors.js'
import { backoffDelay, type BackoffOptions } from '../../api/support/backoff.js'

export interface LoopHooks {
  onRun?(info: { name: string; reasons: string[]; durationMs: number; error?: unknown }): void
}

export interface ReconcileLoopOptions {
  name: string
  /** One full pass. Must be idempotent: running it twice with no change sends nothing the second time. */
  pass: (reasons: string[]) => Promise<void>
  /** Delay before the first pass after a trigger, to coalesce bursts (ms). */
  debounceMs?: number
  /** Retry backoff for retryable failures (default 100 ms doubling to 30 s, full jitter). */
  backoff?: Partial<BackoffOptions>
  hooks?: LoopHooks
}

export class ReconcileLoop {
  private running = false
  private reasons = new Set<string>()
  /** Cancels the scheduled pass; set while one is scheduled. */
  private timer: (() => void) | undefined
  private failures = 0
  private stopped = false
  private idleWaiters: Array<() => void> = []
  private lastError: unknown

  constructor(private readonly options: ReconcileLoopOptions) {}

  get name(): string {
    return this.options.name
  }

  /** The error of the last pass, if it failed. */
  get error(): unknown {
    return this.lastError
  }

  /** Ask for a pass; bursts of triggers collapse into one pass. */
  trigger(reason: string): void {
    if (this.stopped) return
    this.reasons.add(reason)
    if (this.running || this.timer) return
    this.schedule(this.options.debounceMs ?? 0)
  }

  /** Resolves when no pass is running or pending (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.running && !this.timer && this.reasons.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  stop(): void {
    this.stopped = true
    this.timer?.()
    this.timer = undefined
    this.reasons.clear()
    this.settleIdle()
  }

  private schedule(delayMs: number): void {
    const run = () => {
      this.timer = undefined
      void this.runPass()
    }
    // Node's setTimeout(0) waits at least 1 ms; setImmediate still runs after every trigger of the current tick,
    // so a burst (one store commit's watch events) still collapses into one pass.
    if (delayMs <= 0) {
      const h = setImmediate(run)
      h.unref()
      this.timer = () => clearImmediate(h)
    } else {
      const h = setTimeout(run, delayMs)
      h.unref()
      this.timer = () => clearTimeout(h)
    }
  }

  private async runPass(): Promise<void> {
    if (this.stopped || this.running) return
    this.running = true
    const reasons = [...this.reasons].sort()
    this.reasons.clear()
    const started = performance.now()
    let error: unknown
    try {
      await this.options.pass(reasons)
      this.failures = 0
      this.lastError = undefined
    } catch (err) {
      error = err
      this.lastError = err
    } finally {
      this.running = false
    }
    this.options.hooks?.onRun?.({ name: this.options.name, reasons, durationMs: performance.now() - started, error })
    if (this.stopped) return this.settleIdle()
    if (error !== undefined && isRetryable(error)) {
      // Full-jitter exponential backoff; the reasons are kept so the retry redoes the skipped work.
      this.failures++
      for (const r of reasons) this.reasons.add(r)
      this.schedule(backoffDelay(this.failures - 1, { initialMs: this.options.backoff?.initialMs ?? 100, maxMs: this.options.backoff?.maxMs ?? 30_000 }))
      return
    }
    if (this.reasons.size > 0) this.schedule(0)
    else this.settleIdle()
  }

  private settleIdle(): void {
    if (this.running || this.timer || this.reasons.size > 0) return
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const w of waiters) w()
  }
}
