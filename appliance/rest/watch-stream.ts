/**
 * `?watch=true` as server-sent events: one SSE message per change, `event:` ADDED|MODIFIED|DELETED, `id:` the
 * resourceVersion (so EventSource's Last-Event-ID resumes), `data:` `{type, object}` as Kubernetes watch sends.
 * Without `resourceVersion` the stream starts with ADDED for every current object, as a Kubernetes watch does.
 * The subscription is made before the response starts, so a too-old resourceVersion is a 410 problem, not a
 * broken stream.
 */
import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { StoredObject } from '../../api/meta.js'
import { ApplianceError } from '../../api/errors.js'
import type { Store, WatchEvent } from '../store/index.js'
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

export function watchResponse(c: Context<AppEnv>, store: Store, filter: WatchFilter, heartbeatMs: number): Response {
  const since = parseResourceVersion(c.req.query('resourceVersion') ?? c.req.header('last-event-id'))
  const selected = (o: StoredObject) =>
    o.kind === filter.kind &&
    o.apiVersion === filter.apiVersion &&
    (filter.namespace === undefined || o.metadata.namespace === filter.namespace) &&
    filter.matches(o)
  const queue: WatchEvent[] = []
  let wake: (() => void) | undefined
  // list and subscribe in the same synchronous turn: no change can fall between them
  if (since === undefined) {
    for (const o of store.objects.list({ apiVersion: filter.apiVersion, kind: filter.kind, namespace: filter.namespace })) {
      if (filter.matches(o)) queue.push({ type: 'ADDED', object: o, resourceVersion: Number(o.metadata.resourceVersion) })
    }
  }
  const unsubscribe = store.watch(
    (e) => {
      if (!selected(e.object)) return
      queue.push(e)
      wake?.()
    },
    since === undefined ? {} : { sinceResourceVersion: since },
  )
  return streamSSE(c, async (stream) => {
    let open = true
    stream.onAbort(() => {
      open = false
      unsubscribe()
      wake?.()
    })
    try {
      while (open) {
        while (queue.length > 0 && open) {
          const e = queue.shift()!
          await stream.writeSSE({ event: e.type, id: String(e.resourceVersion), data: JSON.stringify({ type: e.type, object: e.object }) })
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
    }
  })
}
