/**
 * The hub under test, in its own process so its RSS is its own. Counts every TCP byte its server sockets read
 * and write (node:diagnostics_channel `net.server.socket`), i.e. gRPC + HTTP/2 (+ TLS) payload, no IP headers.
 */
import { subscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { startHub } from '../../federation/hub/hub.js'
import { ManifestDirSource } from '../../federation/hub/sources/manifest-dir.js'
import { parseManifest, render } from '../../test/support/federation-fixtures.js'

const sockets = new Set<Socket>()
let closedBytes = 0
subscribe('net.server.socket', (msg) => {
  const socket = (msg as { socket: Socket }).socket
  sockets.add(socket)
  socket.once('close', () => {
    closedBytes += socket.bytesRead + socket.bytesWritten
    sockets.delete(socket)
  })
})
const socketBytes = (): number => closedBytes + [...sockets].reduce((n, s) => n + s.bytesRead + s.bytesWritten, 0)

const [dataDir, manifests, idleTimeoutMs] = process.argv.slice(2)
const hub = await startHub({
  dataDir: dataDir!,
  listen: '127.0.0.1:0',
  tls: 'insecure',
  sources: [new ManifestDirSource({ dir: manifests!, parse: parseManifest })],
  render,
  idleTimeoutMs: Number(idleTimeoutMs ?? 90_000),
})
process.on('message', (m: { cmd: string; since?: number }) => {
  if (m.cmd === 'stats') {
    global.gc?.()
    const synced = [...hub.sessions.values()].filter((s) => s.inflight === null && !s.behind()).length
    process.send!({
      ev: 'stats',
      rss: process.memoryUsage().rss,
      heapUsed: process.memoryUsage().heapUsed,
      sessions: hub.sessions.size,
      synced,
      socketBytes: socketBytes(),
      encodes: hub.planner.generation,
    })
  } else if (m.cmd === 'acks-after') {
    // When the hub received each agent's ack (stamped by the session as it handles the ack), not when the agent
    // committed: the fleet figure is how long until the hub knows the change landed everywhere.
    const since = m.since ?? 0
    const acked = hub.db
      .all()
      .filter((r) => r.name.startsWith('sim-'))
      .map((r) => (r.ackedAt !== null && r.ackedAt >= since ? r.ackedAt : null))
    process.send!({ ev: 'acks', acked })
  } else if (m.cmd === 'stop') void hub.stop().then(() => process.exit(0))
})
process.send!({ ev: 'ready', grpcPort: hub.grpcPort })
