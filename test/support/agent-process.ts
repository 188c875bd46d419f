/**
 * A federation agent as its own process, over the test AgentPort (SqliteAgentPort), for process-level tests
 * and the fleet benchmark. Configured by environment:
 *   AGENT_HUB, AGENT_DPU, AGENT_DB, AGENT_STATE (JSON file rewritten every 100 ms: connection state + stats),
 *   AGENT_CERT/AGENT_KEY/AGENT_CA (or AGENT_INSECURE=1), AGENT_LABELS (JSON),
 *   AGENT_FAULT=kill-after-commit  (SIGKILL itself after the store commit, before the ack is sent)
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { startAgent } from '../../federation/agent/agent.js'
import { SqliteAgentPort } from './sqlite-agent-port.js'

const env = process.env
const port = new SqliteAgentPort(env.AGENT_DB!)
const agent = startAgent({
  hub: env.AGENT_HUB!,
  dpuName: env.AGENT_DPU!,
  tls: env.AGENT_INSECURE === '1' ? 'insecure' : { cert: readFileSync(env.AGENT_CERT!), key: readFileSync(env.AGENT_KEY!), ca: readFileSync(env.AGENT_CA!) },
  port,
  ...(env.AGENT_LABELS ? { labels: JSON.parse(env.AGENT_LABELS) as Record<string, string> } : {}),
  backoff: { initialMs: 100, maxMs: 1000 },
  statusDebounceMs: 50,
  ...(env.AGENT_FAULT === 'kill-after-commit' ? { afterCommit: () => process.kill(process.pid, 'SIGKILL') } : {}),
})

const writeState = (): void => {
  if (!env.AGENT_STATE) return
  writeFileSync(`${env.AGENT_STATE}.tmp`, JSON.stringify({ ...agent.state(), ...agent.stats(), pid: process.pid }))
  renameSync(`${env.AGENT_STATE}.tmp`, env.AGENT_STATE)
}
const timer = setInterval(writeState, 100)
const stop = (): void => {
  clearInterval(timer)
  void agent.stop().then(() => {
    writeState()
    port.close()
    process.exit(0)
  })
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
