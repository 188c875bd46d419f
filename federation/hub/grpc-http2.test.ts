/**
 * The hub reaches into grpc-js for its http2 servers (grpc-http2.ts). This fails loudly, naming that file, if
 * the installed grpc-js no longer keeps them where the hub looks or no longer emits what the hub listens to.
 */
import * as grpc from '@grpc/grpc-js'
import type { ServerHttp2Session } from 'node:http2'
import { Server as TlsServer } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makePki, removeDir, type Pki } from '../../test/support/federation-fixtures.js'
import { CHANNEL_OPTIONS, FEDERATION_SERVICE, FederationClient, SERVER_OPTIONS, type SyncClientStream } from '../wire/service.js'
import { GrpcInternalsError, http2ServersOf } from './grpc-http2.js'

let pki: Pki
beforeAll(async () => {
  pki = await makePki(['dpu-a'])
})
afterAll(async () => removeDir(pki?.dir))

async function bound(creds: grpc.ServerCredentials): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server(SERVER_OPTIONS)
  server.addService(FEDERATION_SERVICE, { sync: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end() })
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))))
  return { server, port }
}

describe('grpc-js keeps its http2 servers where the hub looks', () => {
  it('throws GrpcInternalsError, naming the module, before anything is bound', () => {
    const server = new grpc.Server()
    expect(() => http2ServersOf(server)).toThrow(GrpcInternalsError)
    expect(() => http2ServersOf(server)).toThrow(/federation\/hub\/grpc-http2\.ts/)
  })

  it('finds the TLS http2 server of a bound mTLS server, and it emits session with the peer certificate', async () => {
    const hub = await pki.tls('hub')
    const { server, port } = await bound(grpc.ServerCredentials.createSsl(hub.ca, [{ cert_chain: hub.cert, private_key: hub.key }], true))
    try {
      const servers = http2ServersOf(server)
      expect(servers).toHaveLength(1)
      expect(servers[0]).toBeInstanceOf(TlsServer)
      const subject = new Promise<string | undefined>((resolve) =>
        servers[0]!.once('session', (s: ServerHttp2Session) => resolve((s.socket as unknown as { getPeerCertificate(): { subject?: { CN?: string } } }).getPeerCertificate().subject?.CN)),
      )
      const a = await pki.tls('dpu-a')
      const client = new FederationClient(`localhost:${port}`, grpc.credentials.createSsl(a.ca, a.key, a.cert), CHANNEL_OPTIONS)
      const call = (client as unknown as { sync(): SyncClientStream }).sync()
      call.on('error', () => {})
      expect(await subject).toBe('dpu-a')
      call.cancel()
      client.close()
    } finally {
      server.forceShutdown()
    }
  })

  it('finds the plaintext http2 server of an insecure server', async () => {
    const { server } = await bound(grpc.ServerCredentials.createInsecure())
    try {
      const servers = http2ServersOf(server)
      expect(servers).toHaveLength(1)
      expect(servers[0]).not.toBeInstanceOf(TlsServer)
    } finally {
      server.forceShutdown()
    }
  })
})
