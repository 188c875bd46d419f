/** A protocol-level AgentPort held in memory, for simulated agents (no SQLite, no OVS): the benchmark measures the hub. */
import type { AgentPort, AgentStatusReport, AgentSyncState, HubRevisionPush } from '../../api/federation/agent-port.js'

export class MemoryAgentPort implements AgentPort {
  applied = 0
  readonly hashes = new Map<string, string>()
  /** When each revision was committed (ms), just before its ack is written. */
  readonly commits: Array<{ revision: number; at: number }> = []

  readSyncState(): AgentSyncState {
    return { appliedRevision: this.applied, lastGoodRevision: this.applied, objectHashes: Object.fromEntries(this.hashes) }
  }

  commitRevision(push: HubRevisionPush): void {
    for (const k of push.removals) this.hashes.delete(k)
    for (const u of push.upserts) this.hashes.set(u.key, u.hash)
    this.applied = push.revision
    this.commits.push({ revision: push.revision, at: Date.now() })
  }

  readStatus(): AgentStatusReport {
    return { revision: this.applied, phase: 'applied', objects: [] }
  }

  onStatusChange(): () => void {
    return () => {}
  }
}
