/**
 * Per-chain packet and byte counters from flow stats: one OFPMP_FLOW read per programmed bridge, summed by cookie
 * (one cookie per chain), mapped back to chains by the cookie hash of `namespace/name`.
 *
 * The refresher is read-only towards the switch (no flow mods) and slow (default every 10 s): it writes
 * `status.counters {flows, packets, bytes}` on a chain only when a number changed, all chains in one store
 * transaction, so an idle node writes nothing, and advances the Prometheus counters by the difference. A counter
 * that went down (flows re-added after a vswitchd restart) counts as a reset: the new value is the increase.
 */
import type { StoredObject } from '../../api/meta.js'
import type { Logger, SwitchMetrics } from '../observe/index.js'
import type { OvsNode } from '../node/ovs-node.js'
import { readStatsByCookie, type CookieStats } from '../ovs/openflow/index.js'
import { chainCookie } from '../sfc/cookie.js'
import type { Store } from '../store/index.js'
import { readNodeObjects } from './node-objects.js'

export interface ChainCounters {
  flows: number
  packets: number
  bytes: number
}

/** Flow stats of every programmed bridge, summed per cookie (read on demand; no flow mods). */
export async function readCookieCounters(ovs: OvsNode, bridges = ovs.bridgesWithProgrammers()): Promise<Map<bigint, CookieStats>> {
  const out = new Map<bigint, CookieStats>()
  await Promise.all(
    bridges.map(async (bridge) => {
      const conn = ovs.openflow(bridge)
      if (!conn?.connected) return
      for (const [cookie, s] of await readStatsByCookie(conn)) {
        const sum = out.get(cookie) ?? { cookie, flows: 0, packets: 0n, bytes: 0n }
        sum.flows += s.flows
        sum.packets += s.packets
        sum.bytes += s.bytes
        out.set(cookie, sum)
      }
    }),
  )
  return out
}

/** The counters of each chain (`namespace/name`), zero for a chain with no flows installed. Pure. */
export function computeChainCounters(chains: readonly StoredObject[], byCookie: ReadonlyMap<bigint, CookieStats>): Map<string, ChainCounters> {
  const out = new Map<string, ChainCounters>()
  for (const c of chains) {
    const s = byCookie.get(chainCookie(c.metadata.namespace, c.metadata.name))
    out.set(`${c.metadata.namespace}/${c.metadata.name}`, { flows: s?.flows ?? 0, packets: Number(s?.packets ?? 0n), bytes: Number(s?.bytes ?? 0n) })
  }
  return out
}

export interface ChainCountersRefresherOptions {
  store: Store
  ovs: OvsNode
  nodeName: string
  log: Logger
  metrics?: SwitchMetrics
  intervalMs?: number
  /** This node's chains without a store read (the chains loop's copy), when there is one. */
  chains?: () => Iterable<StoredObject> | undefined
}

export class ChainCountersRefresher {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<number> | undefined
  /** Last counters seen per chain, for the Prometheus increments. */
  private readonly seen = new Map<string, ChainCounters>()

  constructor(private readonly options: ChainCountersRefresherOptions) {}

  start(): this {
    const every = this.options.intervalMs ?? 10_000
    this.timer = setInterval(() => void this.refresh().catch((err: unknown) => this.options.log.debug({ err: (err as Error).message }, 'chain counters not read')), every)
    this.timer.unref?.()
    return this
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** One read and write; returns how many chains' status changed. At most one refresh runs at a time. */
  refresh(): Promise<number> {
    this.running ??= this.refreshOnce().finally(() => (this.running = undefined))
    return this.running
  }

  private async refreshOnce(): Promise<number> {
    const { store, ovs, nodeName, metrics } = this.options
    if (!ovs.connected || ovs.bridgesWithProgrammers().length === 0) return 0
    const byCookie = await readCookieCounters(ovs)
    // Read the chains after the stats so a chain deleted meanwhile is not written back.
    const chains = [...(this.options.chains?.() ?? readNodeObjects(store, nodeName).chains)]
    const counters = computeChainCounters(chains, byCookie)
    let written = 0
    store.batch(() => {
      for (const c of chains) {
        const key = `${c.metadata.namespace}/${c.metadata.name}`
        const next = counters.get(key)!
        const prev = c.status.counters as Partial<ChainCounters> | undefined
        if (prev && prev.flows === next.flows && prev.packets === next.packets && prev.bytes === next.bytes) continue
        // Also write the first zero reading: `counters` present means "read", absent means "never read".
        const ref = { apiVersion: c.apiVersion, kind: c.kind, namespace: c.metadata.namespace, name: c.metadata.name }
        store.objects.setStatus(ref, { ...c.status, counters: next })
        written++
      }
    })
    if (metrics) this.advanceMetrics(metrics, counters)
    return written
  }

  private advanceMetrics(metrics: SwitchMetrics, counters: Map<string, ChainCounters>): void {
    for (const [key, next] of counters) {
      const [namespace, name] = key.split('/') as [string, string]
      const prev = this.seen.get(key)
      const dp = prev && next.packets >= prev.packets ? next.packets - prev.packets : next.packets
      const db = prev && next.bytes >= prev.bytes ? next.bytes - prev.bytes : next.bytes
      // inc(0) still creates the series, so a chain shows up at 0 before its first packet.
      metrics.chainPackets.inc({ namespace, name }, dp)
      metrics.chainBytes.inc({ namespace, name }, db)
      this.seen.set(key, next)
    }
    for (const key of [...this.seen.keys()]) {
      if (counters.has(key)) continue
      const [namespace, name] = key.split('/') as [string, string]
      metrics.chainPackets.remove({ namespace, name })
      metrics.chainBytes.remove({ namespace, name })
      this.seen.delete(key)
    }
  }
}
