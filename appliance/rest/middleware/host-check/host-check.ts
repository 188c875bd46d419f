/**
 * DNS rebinding defence: a web page on evil.example whose name is re-pointed at 127.0.0.1 makes the browser
 * send `Host: evil.example` to the appliance. Only Host values that name this appliance are served: any IP
 * literal (a rebinding attack cannot produce one), `localhost`, the node and host names, and what the operator
 * lists (`--allowed-host`, `*` for any). A request without Host (HTTP/1.0 tools) is served.
 */
import type { MiddlewareHandler } from 'hono'
import { isIP } from 'node:net'
import { ApplianceError } from '../../../../api/errors.js'
import type { AppEnv } from '../../env.js'

export class HostNotAllowedError extends ApplianceError {
  constructor(host: string) {
    super('rest.host-not-allowed', `Host "${host}" does not name this appliance; use its address, or start it with --allowed-host ${host}`, { context: { host } })
  }
}

/** The name part of a Host header value (`[::1]:7443` -> `::1`, `dpu-a:7443` -> `dpu-a`), lower case. */
export function hostName(value: string): string {
  const v = value.trim().toLowerCase()
  if (v.startsWith('[')) return v.slice(1, v.indexOf(']') > 0 ? v.indexOf(']') : undefined)
  const colon = v.lastIndexOf(':')
  return (colon >= 0 && v.indexOf(':') === colon ? v.slice(0, colon) : v).replace(/\.$/, '')
}

export function hostAllowed(value: string, allowed: ReadonlySet<string>): boolean {
  if (allowed.has('*')) return true
  const name = hostName(value)
  return isIP(name) !== 0 || name === 'localhost' || allowed.has(name)
}

export function hostCheck({ allowedHosts }: { allowedHosts: readonly string[] }): MiddlewareHandler<AppEnv> {
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase().replace(/\.$/, '')))
  return async function hostCheck(c, next) {
    const host = c.req.header('host')
    if (host !== undefined && !hostAllowed(host, allowed)) throw new HostNotAllowedError(host)
    await next()
  }
}
