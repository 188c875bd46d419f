/**
 * A unix-socket proxy in front of a real server (ovsdb-server's db.sock) for fault tests: it forwards bytes both
 * ways and lets a test cut connections, refuse new ones for a while, or write raw bytes (garbage, over-long or
 * truncated messages, replies to unknown ids) to the client as if the server had sent them.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JsonStreamSplitter } from '../../appliance/ovs/ovsdb/framing.js'

export interface SocketProxy {
  /** `unix:<path>` to give the client. */
  remote: string
  /** Connections accepted so far. */
  readonly accepted: number
  /** Destroy every open client/upstream pair. */
  dropAll(): void
  /** While true, new connections are closed at once (the client stays disconnected). */
  refuse: boolean
  /** Stop forwarding server -> client on open connections (a silent, half-dead server). */
  stall(): void
  /** Write raw bytes to every connected client; `end` closes the client side right after. */
  inject(bytes: string | Buffer, options?: { end?: boolean }): void
  close(): Promise<void>
}

export interface SocketProxyOptions {
  /**
   * Answer requests for these methods with `"error":"unknown method"` (what ovsdb-server's jsonrpc layer sends
   * for a method it lacks) instead of forwarding them: an older server, for fallback tests.
   */
  unknownMethods?: readonly string[]
}

export async function startSocketProxy(upstreamPath: string, options: SocketProxyOptions = {}): Promise<SocketProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-'))
  const path = join(dir, 'proxy.sock')
  const pairs = new Set<{ client: Socket; upstream: Socket }>()
  let accepted = 0
  const server: Server = createServer((client) => {
    accepted++
    if (proxy.refuse) {
      client.destroy()
      return
    }
    const upstream = createConnection({ path: upstreamPath })
    const pair = { client, upstream }
    pairs.add(pair)
    const drop = (): void => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    if (options.unknownMethods?.length) {
      const splitter = new JsonStreamSplitter()
      client.on('data', (chunk: Buffer) => {
        for (const message of splitter.push(chunk) as { method?: string; id?: unknown }[]) {
          if (message.method && options.unknownMethods!.includes(message.method)) {
            client.write(JSON.stringify({ id: message.id, result: null, error: 'unknown method' }))
          } else {
            upstream.write(JSON.stringify(message))
          }
        }
      })
    } else {
      client.pipe(upstream)
    }
    upstream.pipe(client)
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve))
  const proxy: SocketProxy = {
    remote: `unix:${path}`,
    get accepted() {
      return accepted
    },
    refuse: false,
    dropAll() {
      for (const { client, upstream } of pairs) {
        client.destroy()
        upstream.destroy()
      }
      pairs.clear()
    },
    stall() {
      for (const { client, upstream } of pairs) upstream.unpipe(client)
    },
    inject(bytes, options = {}) {
      for (const { client, upstream } of pairs) {
        // Stop forwarding first so server bytes cannot interleave with the injected ones.
        if (options.end) upstream.unpipe(client)
        client.write(bytes)
        if (options.end) client.end()
      }
    },
    async close() {
      proxy.dropAll()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return proxy
}
