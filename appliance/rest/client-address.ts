/**
 * The peer address of a request served by node (`@hono/node-server`), for per-client limits and logs. Requests
 * handed to `app.fetch` directly (in-process callers) have no socket: they count as one client, "in-process".
 */
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'
import type { AppEnv } from './env.js'

export function clientAddress(c: Context<AppEnv>): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'in-process'
  }
}
