/**
 * Smoke test of bench/abuse with tiny floods: the bench runs end to end against a real hub process, and what it
 * reports shows the hub's bounds at work (refusals, the delta cache within its bytes, fds back after the
 * connections close). Outcomes only; the ceiling on RSS is generous (the plateau was 1.09 GiB).
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const run = fileURLToPath(new URL('./run.ts', import.meta.url))

it('runs both floods against a real hub and reports the bounds holding', async () => {
  const identities = 2
  const streams = 24
  const connections = 6
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', run, '--json', '--identities', String(identities), '--hellos', '12', '--connections', String(connections), '--streams', String(streams), '--limits', '{"helloTimeoutMs":3000}'],
    { maxBuffer: 16 * 1024 * 1024, timeout: 240_000 },
  )
  const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    limits: { maxStreamsPerIdentity: number; maxConnectionsPerIdentity: number; deltaCacheBytes: number }
    idle: { fds: number; rssMiB: number }
    noHelloFlood: { outcomes: Record<string, number>; peakOpenStreams: number; connectionsHeld: { openStreams: number }; connectionsClosed: { fds: number } }
    helloFlood: { hellos: number; accepted: number; refused: number; oversizeAccepted: number; peakRssMiB: number; peakDeltaCacheMiB: number }
    legitAgentConnectedThroughout: boolean
  }
  const admitted = identities * r.limits.maxStreamsPerIdentity
  // No-hello flood: connections past the cap per certificate are refused with GOAWAY (their streams end as
  // ENHANCE_YOUR_CALM or "refused", depending on when the GOAWAY lands); on the kept connections the stream cap
  // refuses the rest at once, and the hello timeout closes the admitted ones.
  const perConnection = streams / connections
  const keptConnections = identities * r.limits.maxConnectionsPerIdentity
  const { 'streams per identity': overCap, 'hello timeout': timedOut, ...onRefusedConnections } = r.noHelloFlood.outcomes
  expect(timedOut).toBe(admitted)
  expect(overCap).toBe(keptConnections * perConnection - admitted)
  expect(Object.keys(onRefusedConnections).every((k) => k === 'http2 ENHANCE_YOUR_CALM' || k.startsWith('UNAVAILABLE'))).toBe(true)
  expect(Object.values(onRefusedConnections).reduce((a, b) => a + b, 0)).toBe((connections - keptConnections) * perConnection)
  expect(r.noHelloFlood.peakOpenStreams).toBeLessThanOrEqual(admitted + 1)
  expect(r.noHelloFlood.connectionsHeld.openStreams).toBe(1)
  expect(r.noHelloFlood.connectionsClosed.fds).toBeLessThanOrEqual(r.idle.fds + 4)
  // Hello-list flood: every oversize list refused, some lists within the bound served, the cache within its bytes.
  expect(r.helloFlood.hellos).toBe(12)
  expect(r.helloFlood.refused).toBeGreaterThan(0)
  expect(r.helloFlood.oversizeAccepted).toBe(0)
  expect(r.helloFlood.accepted).toBeGreaterThan(0)
  expect(r.helloFlood.peakDeltaCacheMiB * 2 ** 20).toBeLessThanOrEqual(r.limits.deltaCacheBytes)
  expect(r.helloFlood.peakRssMiB).toBeLessThan(1024)
  expect(r.legitAgentConnectedThroughout).toBe(true)
}, 300_000)
