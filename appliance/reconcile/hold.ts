/**
 * A window in which one loop's view of OVS is deliberately incomplete, so another loop waits before reading it.
 * The ports pass re-opens a service port (removes it, waits for vswitchd, adds it back with the same ofport)
 * inside `during()`; the chains pass calls `wait()` first, so it never compiles the moment the port is gone and
 * churns every flow of its switch only to restore them a few milliseconds later.
 */
export class Hold {
  private pending: Promise<void> | undefined

  /** Runs `work` with the hold closed; waiters resume when it settles (either way). */
  async during<T>(work: () => Promise<T>): Promise<T> {
    let release!: () => void
    const previous = this.pending
    const mine = new Promise<void>((resolve) => (release = resolve))
    this.pending = mine
    try {
      if (previous) await previous
      return await work()
    } finally {
      release()
      if (this.pending === mine) this.pending = undefined
    }
  }

  /** Resolves at once, or when the current window closes. */
  wait(): Promise<void> {
    return this.pending ?? Promise.resolve()
  }
}
