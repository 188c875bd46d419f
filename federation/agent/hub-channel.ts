/**
 * How the agent dials its hub: gRPC channel credentials and options for `hub` (`HOST:PORT`, `[V6]:PORT`).
 *
 * grpc-js sends the target host as the TLS server name (SNI) whatever it is, and node warns (DEP0123) when
 * that is an IP address: RFC 6066 §3 allows only DNS host names there, and a later node will drop it. A hub
 * dialled by IP address (the demo, most fleets without DNS) therefore gets the name of the hub certificate
 * as SNI (a hint the hub does not use) while the certificate is still verified against the address dialled,
 * just as grpc-js would have done: an address the certificate does not name is refused. A hub dialled by DNS
 * name is dialled exactly as grpc-js does by default.
 */
import { isIP } from 'node:net'
import { checkServerIdentity } from 'node:tls'
import * as grpc from '@grpc/grpc-js'
import { HUB_COMMON_NAME } from '../certs/identity.js'

export interface HubTls {
  cert: Buffer
  key: Buffer
  ca: Buffer
}

export interface HubChannel {
  credentials: grpc.ChannelCredentials
  options: grpc.ChannelOptions
}

/** The host part of `HOST:PORT` or `[V6]:PORT`. */
function hostOf(hub: string): string {
  return hub.slice(0, hub.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1')
}

/**
 * Credentials and options for a channel to `hub`; `insecure` is plaintext.
 * @example const { credentials, options } = hubChannel('10.0.0.5:7445', tls); new FederationClient(hub, credentials, options)
 */
export function hubChannel(hub: string, tls: HubTls | 'insecure'): HubChannel {
  if (tls === 'insecure') return { credentials: grpc.credentials.createInsecure(), options: {} }
  const host = hostOf(hub)
  if (isIP(host) === 0) return { credentials: grpc.credentials.createSsl(tls.ca, tls.key, tls.cert), options: {} }
  return {
    // grpc-js checks the certificate against the override name; ours checks it against the address dialled.
    credentials: grpc.credentials.createSsl(tls.ca, tls.key, tls.cert, { checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert) }),
    options: { 'grpc.ssl_target_name_override': HUB_COMMON_NAME },
  }
}
