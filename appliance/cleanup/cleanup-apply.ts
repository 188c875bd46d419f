/**
 * Carries out a cleanup plan: OVS first (one transaction removing the owned bridges and our ports on foreign
 * bridges, then waiting for ovs-vswitchd to let go of the netdevs), then the service veths, then the recorded
 * namespaces. Each host removal is idempotent; its record is forgotten only once it is gone, so an interrupted
 * cleanup can simply be run again. A failed item does not stop the others; the outcome lists it.
 */
import type { OvsdbClient } from '../ovs/ovsdb/index.js'
import { whereUuid } from '../ovs/ovsdb/index.js'
import { deleteNetns, listLinks, listNetns, removeServiceVeth, runCommand, type CommandRunner } from '../runtime/ports/index.js'
import type { HostResource } from '../store/index.js'
import { describeVeth, type CleanupPlan, type CleanupSettings, type ObservedHost } from './cleanup-plan.js'

export interface CleanupDeps {
  /** Connected client whose cache the plan was computed from; absent with `--ovsdb none`. */
  ovsdb?: OvsdbClient
  /** Drops a store record once what it names is gone. */
  forget(r: HostResource): void
  /** Each removal as it completes (`bridge br-sfc`), for progress output. */
  onRemoved?(what: string): void
  run?: CommandRunner
  /** How long ovs-vswitchd may take to apply the removal (default 10 s); slower is a warning, not a failure. */
  vswitchdTimeoutMs?: number
}

export interface CleanupOutcome {
  removed: string[]
  failed: { what: string; error: string }[]
  warnings: string[]
}

/** Reads the namespaces, and the links of every namespace a veth of the plan may live in. */
export async function readObservedHost(recorded: readonly HostResource[], settings: CleanupSettings, run: CommandRunner = runCommand): Promise<ObservedHost> {
  const netns = await listNetns({ run })
  const spaces = new Set<string>(['', ...(settings.ovsNetns ? [settings.ovsNetns] : []), ...recorded.flatMap((r) => (r.kind === 'veth' && r.netns ? [r.netns] : []))])
  const links = new Map<string, Set<string>>()
  for (const space of spaces) {
    if (space !== '' && !netns.includes(space)) continue // gone, and its links with it
    links.set(space, new Set((await listLinks(space === '' ? { run } : { netns: space, run })).map((l) => l.name)))
  }
  return { netns, links }
}

/** Removes what `plan` names. */
export async function applyCleanupPlan(plan: CleanupPlan, deps: CleanupDeps): Promise<CleanupOutcome> {
  const run = deps.run ?? runCommand
  const out: CleanupOutcome = { removed: [], failed: [], warnings: [] }
  const done = (what: string) => {
    out.removed.push(what)
    deps.onRemoved?.(what)
  }
  const fail = (what: string, err: unknown) => out.failed.push({ what, error: err instanceof Error ? err.message : String(err) })

  if (deps.ovsdb && (plan.bridges.length > 0 || plan.ports.length > 0)) {
    const ovs = deps.ovsdb
    const what = [...plan.bridges.map((b) => `bridge ${b.name}`), ...plan.ports.map((p) => `port ${p.name} from bridge ${p.bridge}`)]
    try {
      const txn = ovs.txn()
      const root = ovs.cache.openVSwitch()
      if (plan.bridges.length > 0 && root) txn.mutate('Open_vSwitch', whereUuid(root._uuid), [['bridges', 'delete', plan.bridges.map((b) => b.uuid)]])
      const byBridge = new Map<string, string[]>()
      for (const p of plan.ports) byBridge.set(p.bridgeUuid, [...(byBridge.get(p.bridgeUuid) ?? []), p.uuid])
      for (const [bridge, ports] of byBridge) txn.mutate('Bridge', whereUuid(bridge), [['ports', 'delete', ports]])
      txn.comment(`dpuctl appliance cleanup: ${what.join('; ')}`)
      txn.incrementNextCfg()
      const result = await ovs.transact(txn)
      what.forEach(done)
      // Until vswitchd applied it, it may still hold the veths open; the database change itself is done.
      if (result.nextCfg !== undefined) {
        await ovs.waitForCurCfg(result.nextCfg, { timeoutMs: deps.vswitchdTimeoutMs ?? 10_000 }).catch((err: Error) => {
          out.warnings.push(`ovs-vswitchd did not confirm the removal (${err.message}); the database no longer has them`)
        })
      }
    } catch (err) {
      for (const w of what) fail(w, err)
    }
  }

  for (const veth of plan.veths) {
    const what = describeVeth(veth)
    try {
      await removeServiceVeth(veth.name, { run, ...(veth.netns ? { outerNetns: veth.netns } : {}) })
      deps.forget(veth)
      done(what)
    } catch (err) {
      fail(what, err)
    }
  }
  for (const name of plan.netns) {
    try {
      await deleteNetns(name, { run })
      deps.forget({ kind: 'netns', name })
      done(`netns ${name}`)
    } catch (err) {
      fail(`netns ${name}`, err)
    }
  }
  for (const r of plan.staleRecords) deps.forget(r)
  return out
}
