/**
 * The two AgentPorts the hub's guarantees are tested against, behind one test view: the small SQLite port of
 * test/support (used by process tests and the fleet benchmark) and the appliance's real port over its store
 * (appliance/federation/agent-port-impl.ts). A hub suite runs `describe.each(AGENT_PORTS)` so "delivers
 * exactly", "never applies twice" and "nacks, keeps the last good revision" hold for the port the product ships.
 */
import { join } from 'node:path'
import type { AgentPort, AgentSyncState, HubRevisionPush } from '../../api/federation/agent-port.js'
import { createStoreAgentPort } from '../../appliance/federation/agent-port-impl.js'
import { openStore } from '../../appliance/store/index.js'
import { SqliteAgentPort } from './sqlite-agent-port.js'

export type PushedObject = HubRevisionPush['upserts'][number]['object']

export interface TestAgentPort {
  /** What the agent is given. */
  readonly port: AgentPort
  readSyncState(): AgentSyncState
  /** Hub objects the port holds. */
  objects(): Array<{ object: { kind: string; metadata: { name: string }; spec: Record<string, unknown> } }>
  /** Revisions committed, in order; a revision applied twice would appear twice. */
  commits(): Array<{ revision: number; upserts: number; removals: number }>
  close(): void
}

export interface TestAgentPortOptions {
  /** Rejects an object before the port sees it (the agent then nacks); models a port-side validation failure. */
  validate?: (obj: PushedObject) => void
}

export interface AgentPortKind {
  name: string
  open(dir: string, dpu: string, opts?: TestAgentPortOptions): TestAgentPort
}

const sqlite: AgentPortKind = {
  name: 'SqliteAgentPort (test/support)',
  open(dir, dpu, opts) {
    const p = new SqliteAgentPort(join(dir, `${dpu}.db`), opts?.validate ? { validate: opts.validate } : {})
    return { port: p, readSyncState: () => p.readSyncState(), objects: () => p.objects(), commits: () => p.commits(), close: () => p.close() }
  },
}

const appliance: AgentPortKind = {
  name: 'appliance store port (agent-port-impl)',
  open(dir, dpu, opts) {
    const store = openStore(join(dir, `${dpu}-state.db`), { nodeName: dpu })
    const real = createStoreAgentPort(store)
    // The store keeps no per-revision history, so record each commit the real port accepted (it throws on a
    // stale revision, and then nothing is recorded: a second apply of one revision cannot hide here).
    const commits: Array<{ revision: number; upserts: number; removals: number }> = []
    const port: AgentPort = {
      readSyncState: () => real.readSyncState(),
      readStatus: () => real.readStatus(),
      onStatusChange: (l) => real.onStatusChange(l),
      commitRevision(push) {
        for (const u of push.upserts) opts?.validate?.(u.object)
        real.commitRevision(push)
        commits.push({ revision: push.revision, upserts: push.upserts.length, removals: push.removals.length })
      },
    }
    return {
      port,
      readSyncState: () => real.readSyncState(),
      objects: () =>
        store.objects
          .list()
          .filter((o) => o.metadata.origin === 'hub')
          .map((o) => ({ object: { kind: o.kind, metadata: { name: o.metadata.name }, spec: o.spec as Record<string, unknown> } })),
      commits: () => [...commits],
      close: () => store.close(),
    }
  },
}

export const AGENT_PORTS: readonly AgentPortKind[] = [sqlite, appliance]
