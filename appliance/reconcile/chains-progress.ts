/**
 * How far the chains loop has got, in store terms: the store resourceVersion read by the newest chains pass whose
 * flows every bridge confirmed with a barrier reply. A writer that committed at resourceVersion R knows its change
 * is in the switch once `installedResourceVersion >= R` (a pass starts from every write up to the version it
 * read: the store's watch delivers each commit before the write returns). `?wait=installed` on apply and the
 * `chains_installed_resource_version` metric use it.
 *
 * Holds: that version and the waiters for a newer one. Updated only by the chains loop (`passed`), never cleared.
 */
import type { ChainsPassResult } from './chains-loop.js'

interface Waiter {
  resourceVersion: number
  resolve: (installed: boolean) => void
  timer: NodeJS.Timeout
}

export class ChainsProgress {
  private installed = 0
  private waiters: Waiter[] = []

  /** Store resourceVersion of the newest pass whose flows are confirmed installed on every bridge. */
  get installedResourceVersion(): number {
    return this.installed
  }

  /** The chains loop finished a pass that read the store at `readAt`. */
  passed(readAt: number, result: ChainsPassResult | undefined): void {
    if (!result || readAt <= this.installed) return
    for (const ok of result.installed.values()) if (!ok) return
    this.installed = readAt
    const keep: Waiter[] = []
    for (const w of this.waiters) {
      if (w.resourceVersion <= readAt) {
        clearTimeout(w.timer)
        w.resolve(true)
      } else keep.push(w)
    }
    this.waiters = keep
  }

  /** Resolves true once a change committed at `resourceVersion` is installed, false after `timeoutMs`. */
  waitInstalled(resourceVersion: number, timeoutMs: number): Promise<boolean> {
    if (resourceVersion <= this.installed) return Promise.resolve(true)
    return new Promise((resolve) => {
      const w: Waiter = {
        resourceVersion,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w)
          resolve(false)
        }, timeoutMs),
      }
      this.waiters.push(w)
    })
  }

  /** Ends every wait with false (shutdown). */
  close(): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer)
      w.resolve(false)
    }
  }
}
