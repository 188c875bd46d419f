/**
 * One process of simulated agents: the real agent code (federation/agent) over MemoryAgentPort, many per
 * process, each with its own HTTP/2 connection. Driven by the orchestrator over IPC.
 */
import { startAgent, type RunningAgent } from '../../federation/agent/agent.js'
import { MemoryAgentPort } from './memory-agent-port.js'

interface Sim {
  name: string
  port: MemoryAgentPort
  agent: RunningAgent
}
const sims: Sim[] = []

type Command =
  | { cmd: 'start'; hub: string; names: string[]; labels: Record<string, string>; ratePerSec: number; heartbeatMs: number }
  | { cmd: 'status' }
  | { cmd: 'commits-after'; since: number }
  | { cmd: 'stop' }

process.on('message', (m: Command) => {
  void (async () => {
    if (m.cmd === 'start') {
      const interval = 1000 / m.ratePerSec
      for (const name of m.names) {
        const port = new MemoryAgentPort()
        const agent = startAgent({ hub: m.hub, dpuName: name, tls: 'insecure', port, labels: m.labels, heartbeatMs: m.heartbeatMs, backoff: { initialMs: 500, maxMs: 10_000 } })
        sims.push({ name, port, agent })
        await new Promise((r) => setTimeout(r, interval))
      }
      process.send!({ ev: 'started', count: sims.length })
    } else if (m.cmd === 'status') {
      const connected = sims.filter((s) => s.agent.state().connection === 'connected').length
      const synced = sims.filter((s) => s.port.applied > 0).length
      const bytes = sims.reduce((n, s) => n + s.agent.stats().bytesReceived, 0)
      process.send!({ ev: 'status', connected, synced, bytes, rss: process.memoryUsage().rss })
    } else if (m.cmd === 'commits-after') {
      process.send!({ ev: 'commits', latencies: sims.map((s) => s.port.commits.find((c) => c.at >= m.since)?.at ?? null) })
    } else if (m.cmd === 'stop') {
      await Promise.all(sims.map((s) => s.agent.stop()))
      process.exit(0)
    }
  })()
})
process.send!({ ev: 'ready' })
