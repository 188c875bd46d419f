/**
 * Watchers of object changes. Holds the listeners and a window of the most recent committed changes, so a
 * client that lost its stream can resume from the resourceVersion it last saw (as etcd and Kubernetes do).
 * The window is bounded twice, by changes and by bytes (objects as JSON), so large objects cannot make it hold
 * more memory than stated; a resourceVersion older than the window gets `store.expired` (410) and the client
 * lists again. The window lives in memory: after a restart it starts at the current resourceVersion.
 */
import type { StoredObject } from '../../api/meta.js'
import { WatchExpiredError } from './errors.js'

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface WatchEvent {
  type: WatchEventType
  /** The object after the change; for DELETED, its last state. */
  object: StoredObject
  resourceVersion: number
}

export type WatchListener = (event: WatchEvent) => void

export interface WatchHistoryLimits {
  /** Changes kept for resuming (default 2,000). */
  maxEvents?: number
  /** Bytes of the kept objects as JSON (default 16 MiB). */
  maxBytes?: number
}

/**
 * Twice what a slow watcher may fall behind before the REST layer drops it (1,000 changes / 8 MiB,
 * `DEFAULT_WATCH_LIMITS`), so a dropped watcher that comes back at once resumes instead of listing again. It was
 * 10,000 changes: with 1,000 chains that window alone held 9.5 MiB of the appliance's heap (issue #13, RSS budget
 * 96 MiB), about 1 KiB per change; 2,000 hold about 2 MiB.
 */
export const DEFAULT_WATCH_HISTORY = { maxEvents: 2_000, maxBytes: 16 * 1024 * 1024 } as const

/** The size a change is charged in the window: its object as JSON, the way it is stored and sent. */
export function eventBytes(e: WatchEvent): number {
  return Buffer.byteLength(JSON.stringify(e.object))
}

export class WatchHub {
  readonly #listeners = new Set<WatchListener>()
  readonly #history: Array<{ event: WatchEvent; bytes: number }> = []
  #bytes = 0
  /** Every change with a resourceVersion above this is in `#history`. */
  #floor: number
  readonly maxEvents: number
  readonly maxBytes: number

  constructor(currentResourceVersion: number, limits: WatchHistoryLimits = {}) {
    this.#floor = currentResourceVersion
    this.maxEvents = limits.maxEvents ?? DEFAULT_WATCH_HISTORY.maxEvents
    this.maxBytes = limits.maxBytes ?? DEFAULT_WATCH_HISTORY.maxBytes
  }

  /** What the resume window holds now (metrics, tests). */
  get history(): { events: number; bytes: number; floor: number } {
    return { events: this.#history.length, bytes: this.#bytes, floor: this.#floor }
  }

  /** Replays changes after `sinceResourceVersion` (if given), then follows new ones. Returns the unsubscribe. */
  subscribe(listener: WatchListener, opts: { sinceResourceVersion?: number } = {}): () => void {
    const since = opts.sinceResourceVersion
    if (since !== undefined) {
      if (since < this.#floor) throw new WatchExpiredError(since, this.#floor + 1)
      for (const { event } of this.#history) if (event.resourceVersion > since) listener(event)
    }
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  deliver(events: readonly WatchEvent[]): void {
    for (const e of events) {
      const bytes = eventBytes(e)
      this.#history.push({ event: e, bytes })
      this.#bytes += bytes
      // Oldest first, until both bounds hold; a single change larger than maxBytes is delivered but not kept.
      while (this.#history.length > 0 && (this.#history.length > this.maxEvents || this.#bytes > this.maxBytes)) {
        const dropped = this.#history.shift()!
        this.#bytes -= dropped.bytes
        this.#floor = dropped.event.resourceVersion
      }
      for (const l of this.#listeners) {
        try {
          l(e)
        } catch {
          // A broken watcher must not stop delivery to the others, nor fail a committed write.
        }
      }
    }
  }

  get listenerCount(): number {
    return this.#listeners.size
  }
}
