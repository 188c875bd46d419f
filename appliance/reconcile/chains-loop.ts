/**
 * The chains pass: ServiceChains + ServiceInterfaces + the ports OVSDB shows -> desired flows per bridge ->
 * each bridge's flow programmer (minimal diff, one atomic bundle, barrier) -> chain status.
 * Triggered by store changes of chains and interfaces, OVSDB changes of interfaces (ofport, attached MAC), and
 * every OpenFlow (re)connect (a restarted vswitchd has an empty table). HBN service ports are wired to their patch
 * twins on br-hbn here too (`ChainCompiler.setWires`), from what OVSDB shows.
 *
 * Incremental: the reconciler follows the store's watch (no re-read of every object per pass), hands the changes
 * to the `ChainCompiler` (which redoes only the chains they can affect), patches each programmer's desired table
 * with the changed chains' flows, and writes the status of those chains only. Observed ports are re-read only when
 * OVSDB or OpenFlow triggered the pass. A bridge gets its whole flow set (`setDesired`, itself a minimal diff
 * against what the switch holds) on its first pass, after an OpenFlow reconnect, and after a batch that was not
 * confirmed; otherwise the patch.
 */
import type { StoredObject } from '../../api/meta.js'
import type { Logger } from '../observe/index.js'
import type { OvsNode } from '../node/ovs-node.js'
import { ChainCompiler } from '../sfc/chain-compiler.js'
import { formatCookie } from '../sfc/cookie.js'
import type { ChainReport, ObservedPort, PortWire } from '../sfc/model.js'
import { describeProblem } from '../sfc/resolve.js'
import type { Store } from '../store/index.js'
import type { WatchEvent } from '../store/watch.js'
import { chainInputs, interfaceInputs } from './chain-inputs.js'
import { readNodeObjects } from './node-objects.js'
import { readObservedInterfaces } from './ports.js'
import { writeReady } from './status.js'

export interface ChainsPassDeps {
  store: Store
  ovs: OvsNode
  /** Bridges chains may program (the owned chaining bridges). */
  chainBridges: readonly string[]
  nodeName: string
  log: Logger
  /** How long to wait for a bridge's batch before reporting it pending (the programmer keeps going). */
  applyTimeoutMs?: number
}

export interface ChainsPassResult {
  /** The compile report of a chain (`namespace/name`). */
  report(key: string): ChainReport | undefined
  /** Bridges whose desired flows are confirmed installed (barrier reply). */
  installed: Map<string, boolean>
}

const SVC = 'svc.dpu.nvidia.com/v1alpha1'
const keyOf = (o: StoredObject) => `${o.metadata.namespace}/${o.metadata.name}`

export class ChainsReconciler {
  readonly #compiler = new ChainCompiler()
  /** This node's chains as last seen in the store (their status is what a status write compares against). */
  readonly #chains = new Map<string, StoredObject>()
  /** What the compiler was given per interface, as text: a write that leaves it alone (status) is no change. */
  readonly #interfaceInputs = new Map<string, string>()
  #loaded = false
  #portsRead = false
  /** Chains whose status must be written on the next pass even if their compile output did not change. */
  readonly #statusDue = new Set<string>()
  /** Bridges whose programmer holds our whole desired set (since its last (re)connect, confirmed). */
  readonly #synced = new Set<string>()
  #installed = new Map<string, boolean>()
  /** Readiness of the Service running each serviceID: a chain through a service that is down is not Ready. */
  readonly #services = new Map<string, ServiceHealth>()
  /** serviceID of each service-type interface (`namespace/name`). */
  readonly #interfaceService = new Map<string, string>()
  readonly #unsubscribe: () => void

  constructor(private readonly deps: ChainsPassDeps) {
    this.#unsubscribe = deps.store.watch((ev) => this.#onStoreEvent(ev))
  }

  stop(): void {
    this.#unsubscribe()
  }

  /** This node's chains as the store holds them now (status included), once the first pass has loaded them. */
  chainObjects(): Iterable<StoredObject> | undefined {
    return this.#loaded ? this.#chains.values() : undefined
  }

  #forNode(o: StoredObject): boolean {
    const node = (o.spec as { node?: string } | undefined)?.node
    return node === undefined || node === this.deps.nodeName
  }

  #onStoreEvent(ev: WatchEvent): void {
    const o = ev.object
    if (!this.#loaded || o.apiVersion !== SVC) return // before the first pass, the pass's full read covers it
    const key = keyOf(o)
    const present = ev.type !== 'DELETED' && this.#forNode(o)
    if (o.kind === 'Service') {
      const id = (o.spec as { serviceID?: string }).serviceID
      if (id === undefined) return
      const before = JSON.stringify(this.#services.get(id) ?? null)
      if (present) this.#services.set(id, serviceHealth(o))
      else if (this.#services.get(id)?.key === key) this.#services.delete(id)
      if (JSON.stringify(this.#services.get(id) ?? null) === before) return
      // Chains through its interfaces say so in their status (flows stay as they are).
      for (const chainKey of this.#chains.keys()) {
        const report = this.#compiler.report(chainKey)
        if (report?.switches.some((sw) => sw.interfaces.some((i) => i !== undefined && this.#interfaceService.get(i) === id))) this.#statusDue.add(chainKey)
      }
      return
    }
    if (o.kind === 'ServiceInterface') {
      const id = present ? (o.spec as { service?: { serviceID?: string } }).service?.serviceID : undefined
      if (id === undefined) this.#interfaceService.delete(key)
      else this.#interfaceService.set(key, id)
    }
    if (o.kind === 'ServiceChain') {
      const prev = this.#chains.get(key)
      if (!present) {
        if (prev) {
          this.#chains.delete(key)
          this.#compiler.setChain(key, undefined)
        }
        return
      }
      this.#chains.set(key, o)
      if (prev && prev.metadata.generation === o.metadata.generation && prev.metadata.uid === o.metadata.uid) return // status only
      this.#compiler.setChain(key, chainInputs([o])[0]!)
      this.#statusDue.add(key)
    } else if (o.kind === 'ServiceInterface') {
      if (!present) {
        if (this.#interfaceInputs.delete(key)) this.#compiler.setInterface(key, undefined)
        return
      }
      const input = interfaceInputs([o])[0]!
      const text = JSON.stringify(input)
      if (this.#interfaceInputs.get(key) === text) return
      this.#interfaceInputs.set(key, text)
      this.#compiler.setInterface(key, input)
    }
  }

  #loadAll(): void {
    const objs = readNodeObjects(this.deps.store, this.deps.nodeName)
    for (const svc of objs.services) {
      const id = (svc.spec as { serviceID?: string }).serviceID
      if (id !== undefined && !this.#services.has(id)) this.#services.set(id, serviceHealth(svc))
    }
    for (const si of objs.interfaces) {
      const id = (si.spec as { service?: { serviceID?: string } }).service?.serviceID
      if (id !== undefined) this.#interfaceService.set(keyOf(si), id)
    }
    const interfaces = interfaceInputs(objs.interfaces)
    objs.interfaces.forEach((o, i) => {
      this.#interfaceInputs.set(keyOf(o), JSON.stringify(interfaces[i]))
      this.#compiler.setInterface(keyOf(o), interfaces[i])
    })
    const chains = chainInputs(objs.chains)
    objs.chains.forEach((o, i) => {
      this.#chains.set(keyOf(o), o)
      this.#compiler.setChain(keyOf(o), chains[i])
      this.#statusDue.add(keyOf(o))
    })
    this.#loaded = true
  }

  /**
   * One pass. `onInstalled` hears the result as soon as every bridge answered (before the status writes), so a
   * writer waiting for its flows (`?wait=installed`) is answered without waiting for them.
   */
  async pass(reasons: readonly string[], onInstalled?: (result: ChainsPassResult) => void): Promise<ChainsPassResult | undefined> {
    const { ovs, log } = this.deps
    const client = ovs.ovsdb
    if (!client || client.state !== 'connected') return undefined
    if (!this.#loaded) this.#loadAll()
    // Store changes alone cannot move a port: the observed ports are re-read only when OVS said something.
    if (!this.#portsRead || reasons.some((r) => !r.startsWith('store:'))) {
      const ports = new Map<string, ObservedPort>()
      const wires = new Map<string, PortWire>()
      for (const [key, o] of readObservedInterfaces(client.cache)) {
        if (o.bridge) ports.set(key, { bridge: o.bridge, ...(o.ofport !== undefined ? { ofport: o.ofport } : {}), ...(o.mac ? { mac: o.mac } : {}) })
        const h = o.hbn
        if (h?.ofport && h.ofport > 0 && h.patchOfport && h.patchOfport > 0) wires.set(key, { bridge: h.bridge, a: h.ofport, b: h.patchOfport })
      }
      this.#compiler.setPorts(ports)
      this.#compiler.setWires(wires)
      this.#portsRead = true
    }
    const delta = this.#compiler.compile()
    const reconnected = new Set(reasons.filter((r) => r.startsWith('openflow-connected:')).map((r) => r.slice('openflow-connected:'.length)))

    const installed = new Map<string, boolean>()
    /** Bridges without an OpenFlow connection, and why. */
    const disconnected = new Map<string, string>()
    // Logged after the answers to waiting writers: a log line is a write to another process (journald, a pipe).
    const batches: Record<string, unknown>[] = []
    const bridges = new Set([...this.deps.chainBridges, ...this.#compiler.bridges(), ...delta.bridges.keys()])
    await Promise.all(
      [...bridges].map(async (bridge) => {
        if (!client.cache.bridge(bridge)) return // not created yet; the bridges loop's change event brings us back
        if (reconnected.has(bridge) || this.#installed.get(bridge) === false) this.#synced.delete(bridge)
        const patch = delta.bridges.get(bridge)
        const full = !this.#synced.has(bridge)
        const conn = ovs.openflow(bridge)
        if (conn && !conn.connected && conn.generation > 0) {
          // The connection was lost (vswitchd gone, protocols changed): nothing is known to be installed. The
          // programmer keeps our latest desired set and installs it on the reconnect (whose event brings us back
          // to confirm it). A connection still making its first handshake is waited for like any batch.
          this.#synced.delete(bridge)
          if (full || patch)
            ovs
              .programmer(bridge)
              .setDesired(this.#compiler.flows(bridge))
              .catch(() => undefined)
          disconnected.set(bridge, conn.failure?.message ?? 'not connected')
          return installed.set(bridge, false)
        }
        if (!full && !patch) return installed.set(bridge, true)
        const flows = full ? this.#compiler.flows(bridge) : []
        // An empty desired set on a bridge we never programmed needs no flow mods at all.
        if (full && flows.length === 0 && !ovs.hasProgrammer(bridge)) return installed.set(bridge, true)
        const programmer = ovs.programmer(bridge)
        const apply = full ? programmer.setDesired(flows) : programmer.patchDesired(patch!)
        let timer: NodeJS.Timeout | undefined
        const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.deps.applyTimeoutMs ?? 10_000)))
        try {
          const r = await Promise.race([apply, timeout])
          installed.set(bridge, r !== 'timeout')
          if (r !== 'timeout') {
            if (full) this.#synced.add(bridge)
            if (r.added || r.modified || r.removed) batches.push({ bridge, ...r })
          }
        } catch (err) {
          installed.set(bridge, false)
          log.warn({ bridge, err: (err as Error).message }, 'flow batch failed')
        } finally {
          clearTimeout(timer)
          apply.catch(() => undefined) // a later pass owns the retry
        }
      }),
    )

    const compiler = this.#compiler
    const result: ChainsPassResult = { report: (key) => compiler.report(key), installed }
    onInstalled?.(result)

    // Status: chains whose output changed or whose spec moved, and every chain of a bridge whose confirmation flipped.
    const due = new Set([...this.#statusDue, ...delta.changed])
    const flipped = [...installed].filter(([b, ok]) => this.#installed.get(b) !== ok).map(([b]) => b)
    if (flipped.length > 0) {
      for (const key of this.#chains.keys()) {
        if (this.#compiler.report(key)?.switches.some((s) => s.bridge !== undefined && flipped.includes(s.bridge))) due.add(key)
      }
    }
    this.#installed = installed
    this.#statusDue.clear()
    const compiledAt = new Map([...due].map((key) => [key, this.#chains.get(key)?.metadata.generation]))
    // Let the answers to waiting writers go out first; status is for readers and follows in the same pass.
    await new Promise((resolve) => setImmediate(resolve))
    for (const batch of batches) log.info(batch, 'flows installed')
    for (const [key, generation] of compiledAt) {
      const chain = this.#chains.get(key)
      const report = this.#compiler.report(key)
      // A spec that changed meanwhile has its own pass coming: do not stamp its generation on this report.
      if (chain && report && chain.metadata.generation === generation) writeChainStatus(this.deps.store, chain, report, installed, disconnected, (si) => this.#serviceOf(si))
    }
    return result
  }

  #serviceOf(interfaceKey: string): ServiceHealth | undefined {
    const id = this.#interfaceService.get(interfaceKey)
    return id === undefined ? undefined : this.#services.get(id)
  }
}

/** What a chain shows of a service its traffic goes through. */
interface ServiceHealth {
  key: string
  ready: boolean
  reason: string
}

function serviceHealth(o: StoredObject): ServiceHealth {
  const c = (o.status.conditions ?? []).find((x) => x.type === 'Ready')
  return { key: keyOf(o), ready: c?.status === 'True', reason: c ? `${c.reason}: ${c.message}` : 'not reconciled yet' }
}

function writeChainStatus(
  store: Store,
  chain: StoredObject,
  r: ChainReport,
  installed: Map<string, boolean>,
  disconnected: ReadonlyMap<string, string>,
  serviceOf: (interfaceKey: string) => ServiceHealth | undefined,
): void {
  const problems = r.switches.flatMap((s) => s.problems.map((p) => `switch ${s.index}: ${describeProblem(p)}`))
  const down = [...new Set(r.switches.flatMap((s) => (s.bridge !== undefined && disconnected.has(s.bridge) ? [s.bridge] : [])))]
  const pendingBridges = [...new Set(r.switches.filter((s) => s.programmed && s.bridge && !installed.get(s.bridge)).map((s) => s.bridge!))]
  const switches = r.switches.map((s) => ({
    index: s.index,
    interfaces: s.interfaces.map((i) => i ?? null),
    ofports: s.ofports.map((p) => p ?? null),
    bridge: s.bridge ?? null,
    flows: s.flowCount,
    programmed: s.programmed,
  }))
  const extra = { cookie: formatCookie(r.cookie), switches }
  const offloadable = r.offloadFindings.length === 0
  const services = new Map<string, ServiceHealth>()
  for (const sw of r.switches) for (const i of sw.interfaces) if (i !== undefined && serviceOf(i)) services.set(serviceOf(i)!.key, serviceOf(i)!)
  const servicesDown = [...services.values()].filter((s) => !s.ready)
  const conditions = [
    {
      type: 'Offloadable',
      status: offloadable ? ('True' as const) : ('False' as const),
      reason: offloadable ? 'OffloadableActions' : 'NotOffloadable',
      message: offloadable ? 'every flow uses matches and actions BlueField offloads' : r.offloadFindings.join('; '),
    },
    ...(services.size > 0
      ? [
          {
            type: 'ServicesReady',
            status: servicesDown.length === 0 ? ('True' as const) : ('False' as const),
            reason: servicesDown.length === 0 ? 'ServicesReady' : 'ServiceNotReady',
            message: servicesDown.length === 0 ? `services ${[...services.keys()].sort().join(', ')} Ready` : servicesDown.map((s) => `service ${s.key}: ${s.reason}`).join('; '),
          },
        ]
      : []),
  ]
  if (problems.length > 0) {
    writeReady(store, chain, { ready: false, reason: 'PortsUnresolved', message: problems.join('; '), extra, conditions })
  } else if (down.length > 0) {
    const why = down.map((b) => `${b} (${disconnected.get(b)})`).join(', ')
    writeReady(store, chain, { ready: false, reason: 'SwitchDisconnected', message: `no OpenFlow connection to ${why}: flows are restored when ovs-vswitchd is back`, extra, conditions })
  } else if (pendingBridges.length > 0) {
    writeReady(store, chain, { ready: false, reason: 'FlowsPending', message: `flows not yet confirmed on ${pendingBridges.join(', ')}`, extra, conditions })
  } else if (servicesDown.length > 0) {
    const flows = r.switches.reduce((n, s) => n + s.flowCount, 0)
    writeReady(store, chain, {
      ready: false,
      reason: 'ServiceNotReady',
      message: `${flows} flows installed, but traffic goes through ${servicesDown.map((s) => `service ${s.key} (${s.reason})`).join('; ')}`,
      extra,
      conditions,
    })
  } else {
    const flows = r.switches.reduce((n, s) => n + s.flowCount, 0)
    writeReady(store, chain, { ready: true, reason: 'FlowsInstalled', message: `${r.switches.length} switch(es), ${flows} flows installed`, extra, conditions })
  }
}
