/**
 * One log line per refused TLS connection (rate-limited per peer host and reason), with a stable reason, so an
 * operator can tell a DPU with an expired certificate from a port scanner or a plaintext client.
 *
 * What node reports, and where (node 20, OpenSSL 3, a server with requestCert + rejectUnauthorized as grpc-js
 * makes it):
 * - The hub's own verification of the client certificate (unknown CA, expired, not yet valid, wrong EKU) does
 *   not fail the handshake in OpenSSL: node completes it, finds `verifyError()`, destroys the socket and reports
 *   `tlsClientError` as a plain ECONNRESET "socket hang up". The verification result is on the socket, as
 *   `authorizationError` (CERT_HAS_EXPIRED, CERT_NOT_YET_VALID, INVALID_PURPOSE, UNABLE_TO_VERIFY_LEAF_SIGNATURE…).
 * - Failures inside OpenSSL carry `err.code`: ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE (no client certificate),
 *   ERR_SSL_WRONG_VERSION_NUMBER / ERR_SSL_HTTP_REQUEST (plaintext: an h2c preface or an HTTP/1 request),
 *   ERR_SSL_NO_APPLICATION_PROTOCOL (no h2 in ALPN).
 * - A client that rejects the hub's certificate either sends an alert (OpenSSL, Go: ERR_SSL_TLSV1_ALERT_UNKNOWN_CA,
 *   ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED; logged with `rejectedBy: 'client'`) or just closes (node clients):
 *   then the hub sees an ECONNRESET like any aborted connection, `tls.aborted`.
 * By the time `tlsClientError` fires the socket is destroyed and its `remoteAddress` gone, so the peer is read
 * when the connection arrives (see `peerOf`).
 */
import type { Socket } from 'node:net'
import type { TLSSocket, Server as TlsServer } from 'node:tls'
import type { LogLimiter } from '../../api/support/log-limit.js'
import type { Logger } from '../wire/logger.js'

export const HANDSHAKE_REFUSALS = [
  'tls.unknown-ca',
  'tls.expired',
  'tls.not-yet-valid',
  'tls.bad-eku',
  'tls.bad-certificate',
  'tls.no-client-cert',
  'tls.plaintext',
  'tls.protocol',
  'tls.aborted',
] as const
export type HandshakeRefusal = (typeof HANDSHAKE_REFUSALS)[number]

export interface Classified {
  reason: HandshakeRefusal
  /** The code node or OpenSSL gave (authorizationError or err.code), for the log. */
  detail: string
  /** 'hub': the hub refused the client's certificate or bytes; 'client': the client refused the hub's certificate. */
  rejectedBy: 'hub' | 'client'
}

/** The hub's verification of the client certificate (`TLSSocket.authorizationError`, X509_V_ERR_* names). */
const VERIFY: Record<string, HandshakeRefusal> = {
  UNABLE_TO_GET_ISSUER_CERT: 'tls.unknown-ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'tls.unknown-ca',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tls.unknown-ca',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'tls.unknown-ca',
  SELF_SIGNED_CERT_IN_CHAIN: 'tls.unknown-ca',
  CERT_UNTRUSTED: 'tls.unknown-ca',
  CERT_HAS_EXPIRED: 'tls.expired',
  CERT_NOT_YET_VALID: 'tls.not-yet-valid',
  INVALID_PURPOSE: 'tls.bad-eku',
  CERT_REJECTED: 'tls.bad-eku',
}

/** OpenSSL errors during the handshake (`err.code`); `client` marks alerts the client sent about the hub's certificate. */
const OPENSSL: Record<string, [HandshakeRefusal, 'hub' | 'client']> = {
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: ['tls.no-client-cert', 'hub'],
  ERR_SSL_WRONG_VERSION_NUMBER: ['tls.plaintext', 'hub'],
  ERR_SSL_HTTP_REQUEST: ['tls.plaintext', 'hub'],
  ERR_SSL_HTTPS_PROXY_REQUEST: ['tls.plaintext', 'hub'],
  ERR_SSL_PACKET_LENGTH_TOO_LONG: ['tls.plaintext', 'hub'],
  ERR_SSL_NO_APPLICATION_PROTOCOL: ['tls.protocol', 'hub'],
  ERR_SSL_UNSUPPORTED_PROTOCOL: ['tls.protocol', 'hub'],
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: ['tls.protocol', 'hub'],
  ERR_SSL_NO_SHARED_CIPHER: ['tls.protocol', 'hub'],
  ERR_SSL_VERSION_TOO_LOW: ['tls.protocol', 'hub'],
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: ['tls.unknown-ca', 'client'],
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: ['tls.expired', 'client'],
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: ['tls.bad-certificate', 'client'],
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: ['tls.bad-certificate', 'client'],
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: ['tls.bad-certificate', 'client'],
}

/** Maps a `tlsClientError` (and the socket's verification result) to a stable reason. */
export function classifyHandshakeError(err: { code?: unknown; reason?: unknown }, authorizationError: unknown): Classified {
  if (typeof authorizationError === 'string' && authorizationError !== '') {
    return { reason: VERIFY[authorizationError] ?? 'tls.bad-certificate', detail: authorizationError, rejectedBy: 'hub' }
  }
  const code = typeof err.code === 'string' ? err.code : ''
  const known = OPENSSL[code]
  if (known) return { reason: known[0], detail: code, rejectedBy: known[1] }
  // Unknown OpenSSL codes: the reason text still tells plaintext apart (OpenSSL has renamed codes before).
  const text = typeof err.reason === 'string' ? err.reason : ''
  if (/wrong version number|http request|https proxy request/i.test(text)) return { reason: 'tls.plaintext', detail: code || text, rejectedBy: 'hub' }
  if (/did not return a certificate|certificate required/i.test(text)) return { reason: 'tls.no-client-cert', detail: code || text, rejectedBy: 'hub' }
  return { reason: 'tls.aborted', detail: code || text || 'closed before the handshake completed', rejectedBy: 'hub' }
}

export interface HandshakeLogOptions {
  logger: Logger
  /** Shared with the hub's other refusal lines: one line per key per interval. */
  logLimit: LogLimiter
  /** Counts the refusal (dpu_hub_connections_refused_total{reason}). */
  onRefused(reason: HandshakeRefusal): void
}

/**
 * Where the connection came from. The TLS socket node hands to `tlsClientError` is destroyed and has lost its
 * address; it wraps the TCP socket of the `connection` event (node's `_parent`, not public API), whose address
 * `rememberPeer` read and node cached while the connection was alive.
 */
const peers = new WeakMap<Socket, string>()
function rememberPeer(raw: Socket): void {
  peers.set(raw, `${raw.remoteAddress}:${raw.remotePort}`)
}
function peerOf(socket: TLSSocket): string {
  if (socket.remoteAddress) return `${socket.remoteAddress}:${socket.remotePort}`
  const parent = (socket as unknown as { _parent?: unknown })._parent
  return (typeof parent === 'object' && parent !== null ? peers.get(parent as Socket) : undefined) ?? 'unknown'
}

/** Logs and counts every connection `server` refuses before TLS completes. */
export function logRefusedHandshakes(server: TlsServer, o: HandshakeLogOptions): void {
  server.prependListener('connection', rememberPeer)
  server.on('tlsClientError', (err: Error & { code?: unknown; reason?: unknown }, socket: TLSSocket) => {
    const c = classifyHandshakeError(err, socket.authorizationError)
    o.onRefused(c.reason)
    const peer = peerOf(socket)
    const host = peer.replace(/:\d+$/, '')
    o.logLimit.log(o.logger, 'warn', `${host}\0${c.reason}`, { peer, reason: c.reason, detail: c.detail, rejectedBy: c.rejectedBy }, 'refusing TLS connection')
  })
}
