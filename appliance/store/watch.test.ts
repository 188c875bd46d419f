import { describe, expect, it } from 'vitest'
import type { StoredObject } from '../../api/meta.js'
import { DEFAULT_WATCH_LIMITS } from '../rest/watch-limits.js'
import { WatchExpiredError } from './errors.js'
import { DEFAULT_WATCH_HISTORY, WatchHub, type WatchEvent } from './watch.js'

const change = (resourceVersion: number, pad = 0): WatchEvent => ({
  type: 'MODIFIED',
  resourceVersion,
  object: { apiVersion: 'v1', kind: 'ServiceInterface', metadata: { name: `si-${resourceVersion}`, namespace: 'default', annotations: { pad: 'x'.repeat(pad) } } } as unknown as StoredObject,
})

describe('the default watch resume window', () => {
  it('covers twice what a slow watcher may fall behind before it is dropped, in changes and in bytes', () => {
    expect(DEFAULT_WATCH_HISTORY.maxEvents).toBe(2 * DEFAULT_WATCH_LIMITS.maxQueuedEvents)
    expect(DEFAULT_WATCH_HISTORY.maxBytes).toBe(2 * DEFAULT_WATCH_LIMITS.maxQueuedBytes)
  })

  it('keeps the last maxEvents changes: a bookmark inside resumes with every later change, an older one is expired', () => {
    const hub = new WatchHub(0)
    const total = DEFAULT_WATCH_HISTORY.maxEvents + 500
    for (let rv = 1; rv <= total; rv++) hub.deliver([change(rv)])
    expect(hub.history.events).toBe(DEFAULT_WATCH_HISTORY.maxEvents)
    expect(hub.history.floor).toBe(500)

    // A watcher dropped 1,001 changes behind (the REST bound) and back at once finds everything it missed.
    const bookmark = total - DEFAULT_WATCH_LIMITS.maxQueuedEvents - 1
    const replayed: number[] = []
    hub.subscribe((e) => replayed.push(e.resourceVersion), { sinceResourceVersion: bookmark })()
    expect(replayed).toEqual(Array.from({ length: total - bookmark }, (_, i) => bookmark + 1 + i))

    expect(() => hub.subscribe(() => undefined, { sinceResourceVersion: 499 })).toThrow(WatchExpiredError)
  })

  it('holds at most maxBytes of objects however few changes that is', () => {
    const hub = new WatchHub(0, { maxBytes: 64 * 1024 })
    for (let rv = 1; rv <= 100; rv++) hub.deliver([change(rv, 4 * 1024)])
    expect(hub.history.bytes).toBeLessThanOrEqual(64 * 1024)
    expect(hub.history.events).toBeLessThan(16)
    expect(hub.history.floor).toBe(100 - hub.history.events)
  })
})
