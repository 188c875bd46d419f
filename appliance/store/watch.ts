/**
 * Watchers of object changes. Holds the listeners and a ring of the most recent committed changes, so a
 * client that lost its stream can resume from the resourceVersion it last saw (as etcd and Kubernetes do).
 * The ring lives in memory: after a restart, resuming works only from the current resourceVersion onwards;
 * older versions get `store.expired` and the client lists again.
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

export class WatchHub {
  readonly #listeners = new Set<WatchListener>()
  readonly #history: WatchEvent[] = []
  /** Every change with a resourceVersion above this is in `#history`. */
  #floor: number

  constructor(currentResourceVersion: number, readonly historySize = 10_000) {
    this.#floor = currentResourceVersion
  }

  /** Replays changes after `sinceResourceVersion` (if given), then follows new ones. Returns the unsubscribe. */
  subscribe(listener: WatchListener, opts: { sinceResourceVersion?: number } = {}): () => void {
    const since = opts.sinceResourceVersion
    if (since !== undefined) {
      if (since < this.#floor) throw new WatchExpiredError(since, this.#floor + 1)
      for (const e of this.#history) if (e.resourceVersion > since) listener(e)
    }
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  deliver(events: readonly WatchEvent[]): void {
    for (const e of events) {
      this.#history.push(e)
      if (this.#history.length > this.historySize) this.#floor = this.#history.shift()!.resourceVersion
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
