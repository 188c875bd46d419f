/**
 * One `dpuctl appliance cleanup`: take the data dir lock (an appliance still running would recreate what this
 * removes, so it is refused the way a second `appliance run` is), read the store's records, OVS and the host,
 * compute the plan and, unless dry, apply it. Everything opened here is closed before it returns.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { OvsdbClient, OvsdbNotConnectedError } from '../ovs/ovsdb/index.js'
import { acquireDataDirLock, openStore, type DataDirLock, type Store } from '../store/index.js'
import { applyCleanupPlan, readObservedHost, type CleanupOutcome } from './cleanup-apply.js'
import { computeCleanupPlan, type CleanupPlan, type CleanupSettings } from './cleanup-plan.js'

export interface CleanupTarget {
  dataDir: string
  /** `unix:PATH`, `tcp:HOST:PORT`, or `none` (leave OVS alone). */
  ovsdb: string
  ovsNetns?: string | undefined
  serviceNetnsPrefix?: string | undefined
}

export interface CleanupResult {
  plan: CleanupPlan
  /** Absent on a dry run. */
  outcome?: CleanupOutcome
  /** What was not looked at, and why (no data dir, `--ovsdb none`). */
  notes: string[]
}

export interface CleanupRunOptions {
  dryRun: boolean
  onRemoved?(what: string): void
}

/** Cleans up after the appliance of `target.dataDir`. Throws `store.locked` while an appliance holds it. */
export async function runCleanup(target: CleanupTarget, options: CleanupRunOptions): Promise<CleanupResult> {
  const settings: CleanupSettings = { ...(target.ovsNetns ? { ovsNetns: target.ovsNetns } : {}), serviceNetnsPrefix: target.serviceNetnsPrefix ?? '' }
  const notes: string[] = []
  const dbPath = join(target.dataDir, 'state.db')
  let lock: DataDirLock | undefined
  let store: Store | undefined
  let ovsdb: OvsdbClient | undefined
  try {
    // A data dir that does not exist holds no records, and no appliance: there is nothing to lock.
    if (existsSync(target.dataDir)) lock = acquireDataDirLock(target.dataDir, 'appliance cleanup')
    if (existsSync(dbPath)) store = openStore(dbPath)
    else notes.push(`no store at ${dbPath}: no recorded namespaces or veths; OVS is cleaned by its owner marks only`)
    if (target.ovsdb === 'none') notes.push('--ovsdb none: Open vSwitch left alone')
    else ovsdb = await connect(target.ovsdb)

    const recorded = store?.hostResources.list() ?? []
    const host = await readObservedHost(recorded, settings)
    const plan = computeCleanupPlan(ovsdb?.cache, recorded, host, settings)
    if (options.dryRun) return { plan, notes }
    const s = store
    const outcome = await applyCleanupPlan(plan, {
      ...(ovsdb ? { ovsdb } : {}),
      forget: (r) => s?.hostResources.forget(r),
      ...(options.onRemoved ? { onRemoved: options.onRemoved } : {}),
    })
    return { plan, outcome, notes }
  } finally {
    ovsdb?.close()
    store?.close()
    lock?.release()
  }
}

async function connect(remote: string): Promise<OvsdbClient> {
  try {
    // No reconnect attempts worth waiting for: a one-shot command either reaches OVS now or says so.
    return await OvsdbClient.connect({ remote, connectTimeoutMs: 5000, probeIntervalMs: 0 })
  } catch (err) {
    throw new OvsdbNotConnectedError(`cannot reach Open vSwitch at ${remote}: ${(err as Error).message} (start it, or pass --ovsdb none to remove host links only)`, { remote }, err)
  }
}
