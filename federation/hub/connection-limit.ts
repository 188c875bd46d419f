/**
 * HTTP/2 connections per identity (issue #14): streams are capped per identity in hub.ts, but each connection
 * costs a socket, TLS state and HTTP/2 buffers whether or not it carries a stream, so one certificate must not
 * hold hundreds. An agent needs one; two lets a reconnect overlap a connection the hub has not yet seen die.
 *
 * The identity is the client certificate's DPU (the same rule as for streams); a certificate from the hub's CA
 * that names no DPU is counted under its fingerprint, so it is bounded too. In --insecure mode there is no
 * certificate and nothing to count by: connections are only counted in total.
 *
 * A connection over the cap gets a GOAWAY (ENHANCE_YOUR_CALM, the reason as debug data) before any stream and
 * is closed; the connections already open are untouched.
 */
import { constants, type Http2Server, type Http2SecureServer, type ServerHttp2Session } from 'node:http2'
import type { TLSSocket } from 'node:tls'
import type { LogLimiter } from '../../api/support/log-limit.js'
import { identifyDpu } from '../certs/identity.js'
import type { Logger } from '../wire/logger.js'

export const CONNECTION_LIMIT_REASON = 'federation.connection-limit'

export interface ConnectionLimitOptions {
  maxPerIdentity: number
  logger: Logger
  logLimit: LogLimiter
  /** Counts a refused connection (dpu_hub_connections_refused_total{reason}). */
  onRefused(reason: typeof CONNECTION_LIMIT_REASON): void
}

export class ConnectionLimit {
  /** Open connections by identity; an identity is forgotten when its last connection closes. */
  private readonly byIdentity = new Map<string, number>()
  private total = 0

  constructor(private readonly o: ConnectionLimitOptions) {}

  /** Open HTTP/2 connections (accepted ones only). */
  get open(): number {
    return this.total
  }

  /** Open connections of one identity. */
  of(identity: string): number {
    return this.byIdentity.get(identity) ?? 0
  }

  /** Counts, and bounds, every HTTP/2 session `server` accepts. */
  watch(server: Http2Server | Http2SecureServer): void {
    server.on('session', (session: ServerHttp2Session) => this.admit(session))
  }

  private admit(session: ServerHttp2Session): void {
    const socket = session.socket as Partial<TLSSocket>
    const peer = `${socket.remoteAddress}:${socket.remotePort}`
    const key = typeof socket.getPeerCertificate === 'function' ? identityKey(socket.getPeerCertificate()) : null
    if (key !== null && this.of(key) >= this.o.maxPerIdentity) return this.refuse(session, key, peer)
    this.total++
    if (key !== null) this.byIdentity.set(key, this.of(key) + 1)
    session.once('close', () => {
      this.total--
      if (key === null) return
      const n = this.of(key) - 1
      if (n > 0) this.byIdentity.set(key, n)
      else this.byIdentity.delete(key)
    })
  }

  private refuse(session: ServerHttp2Session, identity: string, peer: string): void {
    const details = `"${identity}" already has ${this.of(identity)} open connections; at most ${this.o.maxPerIdentity} allowed`
    this.o.onRefused(CONNECTION_LIMIT_REASON)
    this.o.logLimit.log(this.o.logger, 'warn', `${identity}\0${CONNECTION_LIMIT_REASON}`, { peer, identity, reason: CONNECTION_LIMIT_REASON, details }, 'refusing agent connection')
    // Last stream id 0: no stream of this connection is processed. close() sends the GOAWAY and ends the
    // session once it is written (it has no stream yet); destroy() follows in case the peer stops reading.
    session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from(details))
    session.close()
    setTimeout(() => session.destroyed || session.destroy(), 5_000).unref()
  }
}

/** The DPU a certificate names, else its fingerprint (a certificate from our CA naming no DPU is still bounded). */
function identityKey(cert: ReturnType<TLSSocket['getPeerCertificate']> | undefined): string | null {
  if (!cert || Object.keys(cert).length === 0) return null
  const id = identifyDpu(cert)
  return id.ok ? id.name : `certificate ${cert.fingerprint256}`
}
