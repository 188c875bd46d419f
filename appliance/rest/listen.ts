/**
 * Puts the REST app on a socket: plain HTTP, or HTTPS when a certificate and key are given. The token is a
 * bearer secret, so listening beyond loopback without TLS is allowed (a DPU's management network may be
 * trusted) but said out loud once at start.
 */
import { readFileSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { isIP } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import type { Hono } from 'hono'
import { ApplianceError } from '../../api/errors.js'
import type { Logger } from '../../api/support/logger.js'
import type { AppEnv } from './env.js'

export interface RestTls {
  certFile: string
  keyFile: string
}

export interface ListenOptions {
  host: string
  port: number
  tls?: RestTls
  log: Logger
}

export interface RestListener {
  server: ServerType
  url: string
}

/** Loopback by address or by name; anything else can be reached from off the box. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase()
  if (h === 'localhost' || h === '::1') return true
  return isIP(h) === 4 && h.startsWith('127.')
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new ApplianceError('config.invalid', `cannot read the REST API's TLS ${what} ${path}: ${(err as Error).message}`, { context: { path } })
  }
}

export async function listenRest(app: Hono<AppEnv>, opts: ListenOptions): Promise<RestListener> {
  const tls = opts.tls ? { cert: readPem(opts.tls.certFile, 'certificate'), key: readPem(opts.tls.keyFile, 'key') } : undefined
  if (!tls && !isLoopbackHost(opts.host)) {
    opts.log.warn({ listen: opts.host }, `REST API listens on ${opts.host} without TLS: the bearer token and objects cross the network in clear; pass --api-tls-cert and --api-tls-key`)
  }
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port, ...(tls ? { createServer: createHttpsServer, serverOptions: tls } : {}) }, () => resolve(s))
    s.once('error', reject)
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return { server, url: `${tls ? 'https' : 'http'}://${host}:${address.port}` }
}
