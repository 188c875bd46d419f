/**
 * Everything that watches the switch work without changing it, wired in one place for the composition root:
 * Prometheus metrics (chains, loop passes, flow batches, connections), the chain counters refresher, the REST
 * switch view and the `?wait=installed` hook. Two steps because the loop-pass metrics must exist before the
 * controller that reports to them: `createNodeMetrics` first, then `startSwitchObservers` with the controller.
 */
import type { SwitchViewDeps } from './switch-view.js'
import type { StoredObject } from '../../api/meta.js'
import type { Logger, Registry } from '../observe/index.js'
import { createSwitchMetrics, type ChainMetricSample, type SwitchMetrics } from '../observe/index.js'
import type { OvsNode } from '../node/ovs-node.js'
import type { Store } from '../store/index.js'
import { ChainCountersRefresher } from './chain-counters.js'
import type { NodeController } from './controller.js'
import { readNodeObjects } from './node-objects.js'
import { createSwitchView } from './switch-view.js'

export interface NodeMetrics {
  metrics: SwitchMetrics
  /** Pass to `NodeController` as `onLoopRun`. */
  onLoopRun: (run: { name: string; durationMs: number; error?: unknown }) => void
}

function chainSamples(chains: Iterable<StoredObject>): ChainMetricSample[] {
  const byName = (a: StoredObject, b: StoredObject) => (a.metadata.namespace + '/' + a.metadata.name < b.metadata.namespace + '/' + b.metadata.name ? -1 : 1)
  return [...chains].sort(byName).map((c) => {
    const switches = (c.status.switches ?? []) as Array<{ flows?: number }>
    return {
      namespace: c.metadata.namespace,
      name: c.metadata.name,
      ready: c.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false,
      flows: switches.reduce((n, s) => n + (s.flows ?? 0), 0),
    }
  })
}

/** Metrics of the node's switch work; `controller` is read lazily (it is created after the metrics). */
export function createNodeMetrics(opts: { registry: Registry; store: Store; ovs: OvsNode; nodeName: string; controller: () => NodeController | undefined }): NodeMetrics {
  const { ovs } = opts
  const metrics = createSwitchMetrics(opts.registry, {
    // A scrape reads the chains loop's copy when it has one: listing and parsing every stored object per scrape
    // cost ~60 ms at 1,000 chains, and its garbage slowed the next chain change.
    chains: () => chainSamples(opts.controller()?.chainObjects() ?? readNodeObjects(opts.store, opts.nodeName).chains),
    ovsdbConnected: () => ovs.connected,
    openflow: () => ovs.bridgesWithProgrammers().map((bridge) => ({ bridge, connected: ovs.openflow(bridge)?.connected ?? false })),
    installedResourceVersion: () => opts.controller()?.chainsProgress.installedResourceVersion ?? 0,
  })
  ovs.on('flows-applied', (bridge, r) => {
    metrics.flowBatches.inc({ bridge, kind: r.full ? 'full' : 'diff' })
    if (r.added) metrics.flowMods.inc({ bridge, op: 'added' }, r.added)
    if (r.modified) metrics.flowMods.inc({ bridge, op: 'modified' }, r.modified)
    if (r.removed) metrics.flowMods.inc({ bridge, op: 'removed' }, r.removed)
    metrics.flowBatchDuration.observe({ bridge }, r.ms / 1000)
  })
  ovs.on('flows-restored', (bridge, r) => metrics.flowRestoreSeconds.set({ bridge }, r.ms / 1000))
  return {
    metrics,
    onLoopRun: (run) => {
      metrics.reconcilePasses.inc({ loop: run.name, result: run.error === undefined ? 'ok' : 'error' })
      metrics.reconcileDuration.observe({ loop: run.name }, run.durationMs / 1000)
    },
  }
}

export interface SwitchObserversOptions extends SwitchViewDeps {
  log: Logger
  metrics?: SwitchMetrics
  /** Chain counters refresh period (default 10 s). */
  countersIntervalMs?: number
}

export function startSwitchObservers(opts: SwitchObserversOptions) {
  const refresher = new ChainCountersRefresher({
    store: opts.store,
    ovs: opts.ovs,
    nodeName: opts.nodeName,
    log: opts.log,
    chains: () => opts.controller.chainObjects(),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.countersIntervalMs !== undefined ? { intervalMs: opts.countersIntervalMs } : {}),
  }).start()
  const view = createSwitchView({
    store: opts.store,
    ovs: opts.ovs,
    controller: opts.controller,
    nodeName: opts.nodeName,
    rundir: opts.rundir,
    ...(opts.ovsCtl ? { ovsCtl: opts.ovsCtl } : {}),
  })
  return {
    view,
    refresher,
    waitInstalled: (resourceVersion: number, timeoutMs: number) => opts.controller.chainsProgress.waitInstalled(resourceVersion, timeoutMs),
    stop: () => refresher.stop(),
  }
}
