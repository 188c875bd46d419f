/**
 * The node:http2 servers under a bound grpc-js `Server`: the one place the hub reaches into grpc-js internals.
 *
 * Why: grpc-js has no public per-connection hook. Its handlers see streams only, so it cannot tell the hub that
 * a certificate holds 500 idle connections (each a socket, TLS state and HTTP/2 buffers), nor that a TLS
 * handshake was refused (grpc-js drops those without a trace). The http2 server it creates per bound address
 * emits both (`session`, `tlsClientError`); grpc-js keeps them in the private field `http2Servers`
 * (a `Map<Http2Server, …>`, filled before `bindAsync` calls back; checked against @grpc/grpc-js 1.14).
 *
 * If grpc-js renames or reshapes that field this throws at hub start, naming this file, rather than leaving
 * the hub silently without its connection bound; grpc-http2.test.ts checks the same against the installed
 * grpc-js, so an upgrade that breaks it fails there first.
 */
import type * as grpc from '@grpc/grpc-js'
import type { Http2SecureServer, Http2Server } from 'node:http2'
import { Server as NetServer } from 'node:net'

export class GrpcInternalsError extends Error {
  override readonly name = 'GrpcInternalsError'
}

/** The http2 servers `server` listens with (one per bound address); throws GrpcInternalsError if grpc-js changed. */
export function http2ServersOf(server: grpc.Server): Array<Http2Server | Http2SecureServer> {
  const field: unknown = (server as unknown as { http2Servers?: unknown }).http2Servers
  if (!(field instanceof Map)) {
    throw new GrpcInternalsError(
      `grpc-js Server has no Map "http2Servers" (found ${typeof field}): grpc-js internals changed, so the hub cannot bound connections per identity or log refused TLS handshakes; update federation/hub/grpc-http2.ts`,
    )
  }
  const servers = [...(field as Map<unknown, unknown>).keys()]
  if (servers.length === 0 || !servers.every((s) => s instanceof NetServer && s.listening)) {
    throw new GrpcInternalsError(
      `grpc-js Server.http2Servers holds ${servers.length} entries, not listening net servers: call after bindAsync succeeded, or grpc-js internals changed (update federation/hub/grpc-http2.ts)`,
    )
  }
  return servers as Array<Http2Server | Http2SecureServer>
}
