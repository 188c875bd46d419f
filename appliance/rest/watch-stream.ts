/**
 * `?watch=true` as server-sent events: one SSE message per change, `event:` ADDED|MODIFIED|DELETED, `id:` the
 * resourceVersion (so EventSource's Last-Event-ID resumes), `data:` `{type, object}` as Kubernetes watch sends.
 * Without `resourceVersion` the stream starts with ADDED for every current object, as a Kubernetes watch does.
 * The subscription is made before the response starts, so a too-old resourceVersion is a 410 problem, not a
 * broken stream, and a watch past the caps a 429 (`WatchAdmission`).
 *
 * A watcher that does not read gets at most `maxQueuedEvents`/`maxQueuedBytes` of changes queued past the
 * initial list; then the queue is dropped and the stream ends with an ERROR event (a Kubernetes `Status`, code
 * 410, naming the last resourceVersion sent): the client watches again from there (`resourceVersion` or
 * Last-Event-ID), or lists if the window has moved on.
 *
 * What a resumed watch replays from the store's resume window (the changes after its resourceVersion) is sent
 * like the initial list: it does not count against that bound, which is for changes that arrive while the
 * stream is open. It is bounded on its own, by the window (DEFAULT_WATCH_HISTORY), and holds only references to
 * the window's objects. Otherwise a client dropped for being more than `maxQueuedEvents` behind would be
 * dropped again at once on every resume and could never catch up.
 */
import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { StoredObject } from '../../api/meta.js'
import { ApplianceError } from '../../api/errors.js'
import type { Store, WatchEvent } from '../store/index.js'
import { eventBytes } from '../store/watch.js'
import type { WatchAdmission } from './watch-limits.js'
import type { AppEnv } from './env.js'

export interface WatchFilter {
  apiVersion: string
  kind: string
  namespace?: string
  matches: (o: StoredObject) => boolean
}

function parseResourceVersion(value: string | undefined): number | undefined {
  if (value === undefined || value === '' || value === '0') return undefined
  if (!/^\d+$/.test(value)) {
    throw new ApplianceError('api.validation', `resourceVersion must be a non-negative integer, got "${value}"`, {
      issues: [{ path: 'resourceVersion', message: 'expected a non-negative integer' }],
    })
  }
  return Number(value)
}

export interface WatchStreamOptions {
  heartbeatMs: number
  admission: WatchAdmission
  /** Who is asking (the peer address), for the per-client cap. */
  client: string
}

/** The `data` of the ERROR event that ends a dropped watcher's stream: a Kubernetes `Status`. */
function slowWatcherStatus(lastSent: number | undefined, queued: number): Record<string, unknown> {
  const resume = lastSent === undefined ? 'list and watch again' : `watch again from resourceVersion ${lastSent}`
  return {
    type: 'ERROR',
    object: {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      code: 410,
      reason: 'Expired',
      message: `this watcher fell ${queued} changes behind and was dropped; ${resume}`,
      ...(lastSent === undefined ? {} : { metadata: { resourceVersion: String(lastSent) } }),
    },
  }
}

export function watchResponse(c: Context<AppEnv>, store: Store, filter: WatchFilter, options: WatchStreamOptions): Response {
  const { heartbeatMs, admission } = options
  const { maxQueuedEvents, maxQueuedBytes } = admission.limits
  const since = parseResourceVersion(c.req.query('resourceVersion') ?? c.req.header('last-event-id'))
  const selected = (o: StoredObject) =>
    o.kind === filter.kind && o.apiVersion === filter.apiVersion && (filter.namespace === undefined || o.metadata.namespace === filter.namespace) && filter.matches(o)
  // `list`: the initial list (items not in resourceVersion order); `replay`: the resume window's changes after
  // `since`, in order; `live`: changes committed while the stream is open, the only ones the queue bound counts.
  const queue: Array<{ e: WatchEvent; bytes: number; from: 'list' | 'replay' | 'live' }> = []
  let wake: (() => void) | undefined
  // Changes queued past the initial list, and their bytes: what a slow reader makes us hold.
  let pending = 0
  let pendingBytes = 0
  let overflowed = false
  // list and subscribe in the same synchronous turn: no change can fall between them
  if (since === undefined) {
    for (const o of store.objects.list({ apiVersion: filter.apiVersion, kind: filter.kind, namespace: filter.namespace })) {
      if (filter.matches(o)) queue.push({ e: { type: 'ADDED', object: o, resourceVersion: Number(o.metadata.resourceVersion) }, bytes: 0, from: 'list' })
    }
  }
  // Once the initial list is sent, the client has the state as of this resourceVersion (items are not in order).
  const listedAt = store.resourceVersion()
  const initial = queue.length
  const release = admission.admit(options.client)
  let unsubscribe: () => void
  // The store replays the window synchronously inside `store.watch`, before it returns.
  let replaying = true
  try {
    unsubscribe = store.watch(
      (e) => {
        if (overflowed || !selected(e.object)) return
        if (replaying) {
          queue.push({ e, bytes: 0, from: 'replay' })
          return
        }
        const bytes = eventBytes(e)
        queue.push({ e, bytes, from: 'live' })
        pending++
        pendingBytes += bytes
        if (pending > maxQueuedEvents || pendingBytes > maxQueuedBytes) {
          // Hold nothing more for this reader: drop what it has not read and end its stream.
          overflowed = true
          queue.length = 0
        }
        wake?.()
      },
      since === undefined ? {} : { sinceResourceVersion: since },
    )
  } catch (err) {
    release()
    throw err
  }
  replaying = false
  let sentInitial = 0
  return streamSSE(c, async (stream) => {
    let open = true
    let lastSent: number | undefined = since ?? (initial === 0 ? listedAt : undefined)
    stream.onAbort(() => {
      open = false
      unsubscribe()
      wake?.()
    })
    try {
      while (open) {
        while (queue.length > 0 && open && !overflowed) {
          const { e, bytes, from } = queue.shift()!
          if (from === 'list') sentInitial++
          else if (from === 'live') {
            pending--
            pendingBytes -= bytes
          }
          await stream.writeSSE({ event: e.type, id: String(e.resourceVersion), data: JSON.stringify({ type: e.type, object: e.object }) })
          if (from !== 'list') lastSent = e.resourceVersion
          else if (sentInitial === initial) lastSent = listedAt
        }
        if (overflowed && open) {
          unsubscribe()
          admission.noteDropped()
          c.get('log')?.warn({ client: options.client, queued: pending, lastSent }, 'watcher too slow; dropped its stream')
          await stream.writeSSE({ event: 'ERROR', data: JSON.stringify(slowWatcherStatus(lastSent, pending)) })
          break
        }
        if (!open) break
        const idle = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), heartbeatMs)
          wake = () => {
            clearTimeout(timer)
            resolve(false)
          }
        })
        wake = undefined
        if (idle && open) await stream.write(': keep-alive\n\n')
      }
    } finally {
      unsubscribe()
      release()
    }
  })
}
