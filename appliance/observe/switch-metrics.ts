/**
 * Prometheus metrics of the node's switch work: chains (ready, flows, packet and byte counters), reconcile passes
 * per loop, flow batches per bridge, and the OVSDB / OpenFlow connection state. Values that the process already
 * holds (chain conditions, connection state) are read at scrape time through the callbacks, so nothing is kept
 * twice; the per-chain packet and byte counters advance when the status refresher reads flow stats.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface ChainMetricSample {
  namespace: string
  name: string
  ready: boolean
  flows: number
}

export interface SwitchMetricSources {
  chains?: () => Iterable<ChainMetricSample>
  ovsdbConnected?: () => boolean
  openflow?: () => Iterable<{ bridge: string; connected: boolean }>
  installedResourceVersion?: () => number
}

export function createSwitchMetrics(registry: Registry, sources: SwitchMetricSources = {}, prefix = 'dpu_appliance') {
  const registers = [registry]
  return {
    chainReady: new Gauge({
      name: `${prefix}_chain_ready`,
      help: 'Whether the ServiceChain is Ready (1) or not (0)',
      labelNames: ['namespace', 'name'] as const,
      registers,
      collect() {
        if (!sources.chains) return
        this.reset()
        for (const c of sources.chains()) this.set({ namespace: c.namespace, name: c.name }, c.ready ? 1 : 0)
      },
    }),
    chainFlows: new Gauge({
      name: `${prefix}_chain_flows`,
      help: 'Flows the ServiceChain compiles to',
      labelNames: ['namespace', 'name'] as const,
      registers,
      collect() {
        if (!sources.chains) return
        this.reset()
        for (const c of sources.chains()) this.set({ namespace: c.namespace, name: c.name }, c.flows)
      },
    }),
    chainPackets: new Counter({
      name: `${prefix}_chain_packets_total`,
      help: "Packets matched by the chain's flows (flow stats, read by the status refresher)",
      labelNames: ['namespace', 'name'] as const,
      registers,
    }),
    chainBytes: new Counter({
      name: `${prefix}_chain_bytes_total`,
      help: "Bytes matched by the chain's flows (flow stats, read by the status refresher)",
      labelNames: ['namespace', 'name'] as const,
      registers,
    }),
    reconcilePasses: new Counter({
      name: `${prefix}_reconcile_passes_total`,
      help: 'Reconcile passes by loop and result',
      labelNames: ['loop', 'result'] as const,
      registers,
    }),
    reconcileDuration: new Histogram({
      name: `${prefix}_reconcile_duration_seconds`,
      help: 'Reconcile pass duration by loop',
      labelNames: ['loop'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    }),
    flowBatches: new Counter({
      name: `${prefix}_flow_batches_total`,
      help: 'Flow batches confirmed by a barrier, by bridge and kind (full sync or diff)',
      labelNames: ['bridge', 'kind'] as const,
      registers,
    }),
    flowMods: new Counter({
      name: `${prefix}_flow_mods_total`,
      help: 'Flows added, modified and removed by confirmed batches',
      labelNames: ['bridge', 'op'] as const,
      registers,
    }),
    flowBatchDuration: new Histogram({
      name: `${prefix}_flow_batch_duration_seconds`,
      help: 'From sending a flow batch to its barrier reply',
      labelNames: ['bridge'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    }),
    flowRestoreSeconds: new Gauge({
      name: `${prefix}_flow_restore_seconds`,
      help: 'Last restore of a bridge after an OpenFlow reconnect: from connection to barrier reply',
      labelNames: ['bridge'] as const,
      registers,
    }),
    ovsdbConnected: new Gauge({
      name: `${prefix}_ovsdb_connected`,
      help: 'Whether the OVSDB client is connected',
      registers,
      collect() {
        if (sources.ovsdbConnected) this.set(sources.ovsdbConnected() ? 1 : 0)
      },
    }),
    openflowConnected: new Gauge({
      name: `${prefix}_openflow_connected`,
      help: 'Whether the OpenFlow connection of a bridge is up',
      labelNames: ['bridge'] as const,
      registers,
      collect() {
        if (!sources.openflow) return
        this.reset()
        for (const o of sources.openflow()) this.set({ bridge: o.bridge }, o.connected ? 1 : 0)
      },
    }),
    installedResourceVersion: new Gauge({
      name: `${prefix}_chains_installed_resource_version`,
      help: 'Store resourceVersion whose chains are confirmed installed on every bridge',
      registers,
      collect() {
        if (sources.installedResourceVersion) this.set(sources.installedResourceVersion())
      },
    }),
  }
}

export type SwitchMetrics = ReturnType<typeof createSwitchMetrics>
