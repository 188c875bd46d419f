/**
 * The boundary between the federation agent (`federation/agent/`) and the appliance that stores what the hub
 * sends. The appliance implements it (`appliance/federation/agent-port-impl.ts`); the agent never imports
 * `appliance/`. All methods are synchronous on purpose: better-sqlite3 is synchronous, and no transaction may
 * be held across network I/O.
 */
import type { ObjectStatusReport, RevisionPhase, WireError, WireObject } from './messages.js'

export interface AgentSyncState {
  /** Last hub revision committed to the store (0: never synced). */
  appliedRevision: number
  /** Last revision known good; equals appliedRevision unless a later one was rolled back locally. */
  lastGoodRevision: number
  /** key -> hash of every hub-origin object in the store (the hub computes deltas from this on reconnect). */
  objectHashes: Record<string, string>
}

/** One complete revision from the hub (all chunks joined), to be stored atomically. */
export interface HubRevisionPush {
  revision: number
  upserts: WireObject[]
  /** Keys of hub-origin objects to delete. A key the store does not hold is ignored. */
  removals: string[]
}

export interface AgentStatusReport {
  revision: number
  phase: RevisionPhase
  objects: ObjectStatusReport[]
}

export interface AgentPort {
  readSyncState(): AgentSyncState
  /**
   * Stores the revision's objects (origin `hub`) and the new applied revision in ONE transaction; the agent acks
   * only after this returns. Throws an `ApplianceError` when the content is invalid: nothing is stored, the agent
   * nacks with that error and the last good revision stays. A revision <= appliedRevision must not be applied
   * twice (the agent checks this too).
   */
  commitRevision(push: HubRevisionPush): void
  /** Current per-object conditions and the applied revision's phase. */
  readStatus(): AgentStatusReport
  /** Called when anything readStatus() returns may have changed; returns an unsubscribe function. */
  onStatusChange(listener: () => void): () => void
}

/** How the appliance shows the link to the hub (`/readyz`, `dpuctl status`). */
export interface AgentConnectionState {
  connection: 'disabled' | 'connecting' | 'connected' | 'disconnected'
  hub: string
  dpu: string
  syncedRevision: number
  /** ISO time of the last message received from the hub, or null if never. */
  lastHubContact: string | null
  lastError: WireError | null
}
