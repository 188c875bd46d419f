/**
 * The mapping from what node and OpenSSL report to the hub's stable reasons, for the cases the real-handshake
 * tests in hub-abuse.test.ts cannot produce with a node client: alerts a client sends about the hub's
 * certificate, OpenSSL codes known only by their reason text, and verification errors outside the usual ones.
 */
import { describe, expect, it } from 'vitest'
import { classifyHandshakeError } from './handshake-log.js'

describe('classifyHandshakeError', () => {
  it('prefers the hub verification result on the socket over the ECONNRESET node reports with it', () => {
    expect(classifyHandshakeError({ code: 'ECONNRESET' }, 'CERT_HAS_EXPIRED')).toEqual({ reason: 'tls.expired', detail: 'CERT_HAS_EXPIRED', rejectedBy: 'hub' })
    expect(classifyHandshakeError({ code: 'ECONNRESET' }, 'DEPTH_ZERO_SELF_SIGNED_CERT')).toMatchObject({ reason: 'tls.unknown-ca' })
    expect(classifyHandshakeError({ code: 'ECONNRESET' }, 'CERT_REVOKED')).toEqual({ reason: 'tls.bad-certificate', detail: 'CERT_REVOKED', rejectedBy: 'hub' })
  })

  it("says when the client refused the hub's certificate", () => {
    expect(classifyHandshakeError({ code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' }, null)).toEqual({ reason: 'tls.unknown-ca', detail: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', rejectedBy: 'client' })
    expect(classifyHandshakeError({ code: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED' }, null)).toMatchObject({ reason: 'tls.expired', rejectedBy: 'client' })
  })

  it('falls back on the reason text, then on tls.aborted', () => {
    expect(classifyHandshakeError({ code: 'ERR_SSL_SOMETHING_RENAMED', reason: 'wrong version number' }, null)).toMatchObject({ reason: 'tls.plaintext' })
    expect(classifyHandshakeError({ code: 'ERR_SSL_NO_APPLICATION_PROTOCOL' }, null)).toMatchObject({ reason: 'tls.protocol' })
    expect(classifyHandshakeError({ code: 'ECONNRESET' }, null)).toEqual({ reason: 'tls.aborted', detail: 'ECONNRESET', rejectedBy: 'hub' })
    expect(classifyHandshakeError({}, undefined)).toMatchObject({ reason: 'tls.aborted', detail: 'closed before the handshake completed' })
  })
})
