/**
 * What a client can make the appliance hold through watches: how many streams (in total and per client, a
 * client being its peer address: the appliance has one bearer token, so "per token" would be the total), and
 * how many undelivered changes each stream may queue before it is dropped. A dropped watcher resumes from the
 * last resourceVersion it received, as a Kubernetes client does after the API server closes a slow watch.
 */
import { ApplianceError } from '../../api/errors.js'

export interface WatchLimitOptions {
  /** Open watch streams in total (default 256). */
  maxWatches?: number
  /** Open watch streams per client address (default 64). */
  maxWatchesPerClient?: number
  /** Changes queued for one slow watcher before it is dropped (default 1,000). */
  maxQueuedEvents?: number
  /** Bytes (objects as JSON) queued for one slow watcher before it is dropped (default 8 MiB). */
  maxQueuedBytes?: number
}

export const DEFAULT_WATCH_LIMITS: Required<WatchLimitOptions> = {
  maxWatches: 256,
  maxWatchesPerClient: 64,
  maxQueuedEvents: 1_000,
  maxQueuedBytes: 8 * 1024 * 1024,
}

export class TooManyWatchesError extends ApplianceError {
  constructor(scope: 'total' | 'client', limit: number, client: string) {
    const where = scope === 'total' ? 'on this appliance' : `from ${client}`
    super('rest.too-many-watches', `${limit} watch streams are already open ${where}; close one or retry later`, { context: { scope, limit, client }, retryable: true })
  }
}

/** Counts open watch streams and admits new ones within the caps. */
export class WatchAdmission {
  readonly limits: Required<WatchLimitOptions>
  #total = 0
  readonly #perClient = new Map<string, number>()
  #refused = 0
  #dropped = 0

  constructor(options: WatchLimitOptions = {}) {
    this.limits = { ...DEFAULT_WATCH_LIMITS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) }
  }

  /** Takes a slot for `client` or throws `TooManyWatchesError`; the returned function gives it back (once). */
  admit(client: string): () => void {
    const mine = this.#perClient.get(client) ?? 0
    if (this.#total >= this.limits.maxWatches) {
      this.#refused++
      throw new TooManyWatchesError('total', this.limits.maxWatches, client)
    }
    if (mine >= this.limits.maxWatchesPerClient) {
      this.#refused++
      throw new TooManyWatchesError('client', this.limits.maxWatchesPerClient, client)
    }
    this.#total++
    this.#perClient.set(client, mine + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      this.#total--
      const left = (this.#perClient.get(client) ?? 1) - 1
      if (left <= 0) this.#perClient.delete(client)
      else this.#perClient.set(client, left)
    }
  }

  /** A slow watcher was closed because its queue passed a bound. */
  noteDropped(): void {
    this.#dropped++
  }

  get stats(): { open: number; clients: number; refused: number; dropped: number } {
    return { open: this.#total, clients: this.#perClient.size, refused: this.#refused, dropped: this.#dropped }
  }
}
