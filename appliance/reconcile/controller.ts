/**
 * The node controller: connects the store and the OVS node to the reconcile loops and decides which change
 * triggers which loop. No loop polls; each runs when one of its inputs changed:
 *
 *   store DPUFlavor                              ──► bridges
 *   store ServiceInterface, DPUServiceNAD, chain ──► ports, chains
 *   store DPUServiceIPAM                         ──► ports (service interface addresses)
 *   OVSDB Open_vSwitch/Bridge/Port/Interface     ──► bridges, ports, chains (ofport, attached MAC)
 *   OpenFlow (re)connect of a bridge             ──► chains (a restarted vswitchd has an empty table)
 *   OpenFlow disconnect of a bridge              ──► chains (their Ready follows the switch)
 *   OVSDB (re)connect or full resync             ──► every loop
 */
import { isApplianceError } from '../../api/errors.js'
import type { StoredObject } from '../../api/meta.js'
import { LogLimiter } from '../../api/support/log-limit.js'
import type { Logger } from '../observe/index.js'
import type { RowChange } from '../ovs/ovsdb/index.js'
import type { OvsNode } from '../node/ovs-node.js'
import type { Store } from '../store/index.js'
import { isOwned } from '../node/ownership.js'
import { computeDesiredSwitch, FLOW_CLEARING_COLUMNS, flavorOtherConfig, planSwitch, readObservedBridges, type ObservedBridge, type SwitchSettings } from './bridges.js'
import { ChainsReconciler, type ChainsPassResult } from './chains-loop.js'
import { ChainsProgress } from './chains-progress.js'
import { DEFAULT_VERIFY_INTERVAL_MS, FlowVerifier } from './flow-verifier.js'
import { Hold } from './hold.js'
import { ReconcileLoop } from './loop.js'
import { runPortsPass } from './ports-loop.js'
import { ServicesReconciler, type ServicesDeps } from '../services/services-reconciler.js'

export interface NodeControllerOptions {
  store: Store
  ovs: OvsNode
  settings: SwitchSettings
  nodeName: string
  /** This DPU's node labels (a DPUServiceIPAM's nodeSelector). */
  nodeLabels?: Readonly<Record<string, string>>
  log: Logger
  /** The flavor whose OVS keys apply (`namespace/name`); default: the only DPUFlavor stored, if exactly one. */
  flavor?: string
  /** Network namespace of ovs-vswitchd when not ours (service veth outer ends go there). */
  ovsNetns?: string
  /** Period of the flow verify (drift check, not a re-push); 0 turns it off. Default 30 s. */
  verifyIntervalMs?: number
  /** Runs Service objects (pods) when given: the backends this appliance has and where pod files live. */
  services?: {
    runtimes: ServicesDeps['runtimes']
    defaultRuntime: ServicesDeps['defaultRuntime']
    /** emptyDir and configMap volumes (`<dataDir>/services`). */
    stateDir: string
  }
  /** Every finished loop pass (metrics). */
  onLoopRun?: (run: { name: string; reasons: string[]; durationMs: number; error?: unknown }) => void
}

export interface LoopRegistration {
  loop: ReconcileLoop
  /** Which OVSDB changes should trigger it (default: none; it still runs on resync). */
  onOvsChange?: (changes: RowChange[]) => boolean
  /** Which stored object kinds trigger it. */
  kinds?: readonly string[]
  /**
   * What of an object this loop reads, per kind (default: generation, labels and annotations). A write that
   * leaves it unchanged (a status update, the counters refresher) does not trigger the loop.
   */
  inputOf?: Partial<Record<string, (o: StoredObject) => string>>
}

/** What a loop reads of an object by default: its spec (generation), labels and annotations, not its status. */
function defaultInput(o: StoredObject): string {
  return `${o.metadata.generation}|${JSON.stringify(o.metadata.labels ?? {})}|${JSON.stringify(o.metadata.annotations ?? {})}`
}

/** The ports loop reads a Service only for its serviceID (its pod sandbox provides that namespace). */
function serviceIdInput(o: StoredObject): string {
  return String((o.spec as { serviceID?: unknown }).serviceID)
}

/** The chains loop reads a Service's serviceID and Ready condition (chains through it report it). */
function serviceReadyInput(o: StoredObject): string {
  const ready = (o.status.conditions ?? []).find((c) => c.type === 'Ready')
  return `${serviceIdInput(o)}|${ready?.status}|${ready?.reason}|${ready?.message}`
}

/** The services loop reads an interface's spec and whether it is Ready (its containers start once all are). */
function interfaceReadyInput(o: StoredObject): string {
  const ready = (o.status.conditions ?? []).find((c) => c.type === 'Ready')?.status
  return `${defaultInput(o)}|${ready}`
}

/**
 * The ports loop reads chains only for serviceMTU (it sets the MTU of the switch's ports) and for the ports that
 * ask for IPAM (service-ipam.ts).
 */
function chainMtuInput(o: StoredObject): string {
  const switches = (o.spec as { switches?: Array<{ serviceMTU?: number; ports?: Array<{ serviceInterface?: { ipam?: unknown } }> }> }).switches ?? []
  const ipam = switches.flatMap((s) => (s.ports ?? []).filter((p) => p.serviceInterface?.ipam !== undefined))
  return JSON.stringify([switches.filter((s) => s.serviceMTU !== undefined).map((s) => [s.serviceMTU, s.ports]), ipam])
}

const FLAVOR_API_VERSION = 'provisioning.dpu.nvidia.com/v1alpha1'

const touches = (tables: readonly string[]) => (changes: RowChange[]) => changes.some((c) => tables.includes(c.table))

export class NodeController {
  readonly bridges: ReconcileLoop
  readonly ports: ReconcileLoop
  readonly chains: ReconcileLoop
  /** Present when the appliance runs services (`options.services`). */
  readonly services: ReconcileLoop | undefined
  readonly servicesReconciler: ServicesReconciler | undefined
  /** The last chains pass: compile reports and which bridges confirmed their flows. */
  lastChains: ChainsPassResult | undefined
  /** Which store resourceVersion the installed flows reflect (`?wait=installed`). */
  readonly chainsProgress = new ChainsProgress()
  private readonly loops: LoopRegistration[] = []
  /** Periodic read-back of every programmed bridge's flows; drift is repaired by re-reading. */
  readonly verifier: FlowVerifier
  /** Closed by the ports pass while it re-opens a port; the chains pass waits for it. */
  private readonly portsHold = new Hold()
  private readonly chainsReconciler: ChainsReconciler
  private readonly unsubscribe: Array<() => void> = []
  /** Per loop and object, the last input seen in a store event (see `LoopRegistration.inputOf`). */
  private readonly seenInputs = new Map<string, string>()
  /**
   * Owned bridges on which a flow-clearing column changed (`FLOW_CLEARING_COLUMNS`): vswitchd may have dropped their
   * flows, so the bridges pass re-reads them once vswitchd has applied the change (and our repair of it).
   */
  private readonly rereadDue = new Set<string>()
  /** A pass failing the same way on every trigger (or every retry) logs once a minute per loop and error. */
  private readonly failureLog = new LogLimiter()

  constructor(private readonly options: NodeControllerOptions) {
    this.bridges = new ReconcileLoop({
      name: 'bridges',
      pass: () => this.reconcileBridges(),
      hooks: { onRun: (r) => this.logRun(r) },
    })
    this.addLoop({
      loop: this.bridges,
      kinds: ['DPUFlavor'],
      onOvsChange: touches(['Open_vSwitch', 'Bridge', 'Port', 'Interface']),
    })
    const { store, ovs, settings, nodeName, log } = options
    this.ports = new ReconcileLoop({
      name: 'ports',
      pass: () =>
        runPortsPass({
          store,
          ovs,
          settings,
          nodeName,
          log,
          hold: this.portsHold,
          ...(options.nodeLabels ? { nodeLabels: options.nodeLabels } : {}),
          ...(options.ovsNetns ? { ovsNetns: options.ovsNetns } : {}),
        }),
      hooks: { onRun: (r) => this.logRun(r) },
    })
    this.addLoop({
      loop: this.ports,
      kinds: ['ServiceInterface', 'DPUServiceNAD', 'ServiceChain', 'DPUServiceIPAM', 'Service'],
      inputOf: { ServiceChain: chainMtuInput, Service: serviceIdInput },
      onOvsChange: touches(['Bridge', 'Port', 'Interface']),
    })
    this.chainsReconciler = new ChainsReconciler({ store, ovs, nodeName, log, chainBridges: [settings.bridges.sfc, settings.bridges.hbn] })
    this.chains = new ReconcileLoop({
      name: 'chains',
      pass: async (reasons) => {
        await this.portsHold.wait()
        const readAt = store.resourceVersion()
        const r = await this.chainsReconciler.pass(reasons, (installed) => this.chainsProgress.passed(readAt, installed))
        if (r) this.lastChains = r
      },
      hooks: { onRun: (r) => this.logRun(r) },
    })
    this.addLoop({
      loop: this.chains,
      kinds: ['ServiceInterface', 'ServiceChain', 'Service'],
      // A chain reads a Service only for whether it is Ready (its status says so); flows do not depend on it.
      inputOf: { Service: serviceReadyInput },
      onOvsChange: touches(['Bridge', 'Port', 'Interface']),
    })
    if (options.services) {
      const svc = options.services
      let loop: ReconcileLoop | undefined
      this.servicesReconciler = new ServicesReconciler({
        store,
        nodeName,
        log: log.child({ loop: 'services' }),
        runtimes: svc.runtimes,
        defaultRuntime: svc.defaultRuntime,
        ...(settings.serviceNetnsPrefix ? { netnsPrefix: settings.serviceNetnsPrefix } : {}),
        pods: { stateDir: svc.stateDir },
        triggerPorts: () => this.ports.trigger('service-sandbox'),
        trigger: (reason) => loop?.trigger(reason),
        flavor: () => this.activeFlavor(),
      })
      const reconciler = this.servicesReconciler
      loop = new ReconcileLoop({ name: 'services', pass: () => reconciler.pass(), hooks: { onRun: (r) => this.logRun(r) } })
      this.services = loop
      this.addLoop({ loop, kinds: ['Service', 'ServiceInterface', 'DPUFlavor'], inputOf: { ServiceInterface: interfaceReadyInput } })
    }
    this.verifier = new FlowVerifier({ ovs, log, intervalMs: options.verifyIntervalMs ?? DEFAULT_VERIFY_INTERVAL_MS })
  }

  addLoop(reg: LoopRegistration): void {
    this.loops.push(reg)
  }

  start(): this {
    const { store, ovs } = this.options
    this.unsubscribe.push(
      ovs.on('resync', () => {
        for (const r of this.loops) r.loop.trigger('ovsdb-resync')
      }),
      ovs.on('change', (changes) => {
        for (const name of flowClearingChanges(changes)) this.rereadDue.add(name)
        for (const r of this.loops) if (r.onOvsChange?.(changes)) r.loop.trigger('ovsdb-change')
      }),
      ovs.on('openflow-connected', (bridge) => this.chains.trigger(`openflow-connected:${bridge}`)),
      // The switch may have lost its flows (vswitchd died): its chains are not Ready until the reconnect restores them.
      ovs.on('openflow-disconnected', (bridge) => this.chains.trigger(`openflow-disconnected:${bridge}`)),
      // A pass that gave up waiting reported FlowsPending; the late barrier reply is what makes the chains Ready.
      ovs.on('flows-applied', (bridge) => {
        if (this.lastChains?.installed.get(bridge) === false) this.chains.trigger(`flows-applied:${bridge}`)
      }),
      store.watch((ev) => {
        const key = `${ev.object.apiVersion}/${ev.object.kind}/${ev.object.metadata.namespace}/${ev.object.metadata.name}`
        for (const r of this.loops) {
          if (!r.kinds?.includes(ev.object.kind)) continue
          const seenKey = `${r.loop.name}|${key}`
          if (ev.type === 'DELETED') {
            this.seenInputs.delete(seenKey)
          } else {
            const input = (r.inputOf?.[ev.object.kind] ?? defaultInput)(ev.object)
            if (this.seenInputs.get(seenKey) === input) continue // only status changed: nothing this loop reads
            this.seenInputs.set(seenKey, input)
          }
          r.loop.trigger(`store:${ev.object.kind}`)
        }
      }),
    )
    if (ovs.connected) for (const r of this.loops) r.loop.trigger('start')
    this.verifier.start()
    return this
  }

  /** Resolves when no loop has work pending (tests). */
  async idle(): Promise<void> {
    for (let i = 0; i < 3; i++) await Promise.all(this.loops.map((r) => r.loop.idle()))
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u()
    for (const r of this.loops) r.loop.stop()
    this.chainsReconciler.stop()
    this.servicesReconciler?.stop()
    this.verifier.stop()
    this.chainsProgress.close()
  }

  /** This node's chains, kept current from the store's watch (no store read); undefined before the first pass. */
  chainObjects(): Iterable<StoredObject> | undefined {
    return this.chainsReconciler.chainObjects()
  }

  observedBridges(): ObservedBridge[] {
    const client = this.options.ovs.ovsdb
    return client ? readObservedBridges(client.cache) : []
  }

  private activeFlavor(): StoredObject | undefined {
    const flavors = this.options.store.objects.list({ apiVersion: FLAVOR_API_VERSION, kind: 'DPUFlavor' }).filter((f) => {
      const node = (f.spec as { node?: string } | undefined)?.node
      return node === undefined || node === this.options.nodeName
    })
    if (this.options.flavor) return flavors.find((f) => `${f.metadata.namespace}/${f.metadata.name}` === this.options.flavor)
    return flavors.length === 1 ? flavors[0] : undefined
  }

  private async reconcileBridges(): Promise<void> {
    const client = this.options.ovs.ovsdb
    if (!client || client.state !== 'connected') return // the resync after (re)connect triggers us again
    const flavor = this.activeFlavor()
    const script = (flavor?.spec as { ovs?: { rawConfigScript?: string } } | undefined)?.ovs?.rawConfigScript
    const desired = computeDesiredSwitch(this.options.settings, flavorOtherConfig(script))
    const txn = client.txn()
    const changes = planSwitch(desired, client.cache, txn)
    const reread = [...this.rereadDue]
    this.rereadDue.clear()
    if (changes.length > 0 || reread.length > 0) {
      // With no change of ours, the transaction is only the next_cfg handshake: once vswitchd reports it in
      // cur_cfg, it has applied every earlier change, including the one that may have dropped the flows.
      if (changes.length > 0) txn.comment(`dpu-appliance: ${changes.join('; ')}`)
      txn.incrementNextCfg()
      const result = await client.transact(txn)
      if (changes.length > 0) this.options.log.info({ changes }, 'bridges reconciled')
      // vswitchd has created the bridges (and their .mgmt sockets) once it reports the new cur_cfg.
      if (result.nextCfg !== undefined) await client.waitForCurCfg(result.nextCfg, { timeoutMs: 10_000 }).catch(() => undefined)
    }
    for (const bridge of reread) this.rereadFlows(bridge)
    // One OpenFlow connection per owned bridge that exists: ovs-vswitchd's liveness for readiness and chain status.
    for (const b of desired.bridges) if (client.cache.bridge(b.name)) this.options.ovs.connection(b.name)
    if (flavor) this.reportFlavor(flavor, desired.otherConfig)
  }

  /**
   * Puts back what vswitchd dropped on `bridge`: the programmer reads the switch and sends only the difference (the
   * whole table after a flush). A bridge without a programmer has no flows of ours to lose. Not awaited: with the
   * OpenFlow connection down (protocols changed), the reconnect completes it.
   */
  private rereadFlows(bridge: string): void {
    const { ovs, log } = this.options
    if (!ovs.hasProgrammer(bridge)) return
    ovs
      .programmer(bridge)
      .reread()
      .then(
        (r) => {
          if (r.added || r.modified || r.removed) log.info({ bridge, added: r.added, modified: r.modified, removed: r.removed }, 'flows restored after a bridge reconfiguration')
        },
        (err: unknown) => log.warn({ bridge, err: (err as Error).message }, 'flow re-read after a bridge reconfiguration failed; the next verify retries'),
      )
  }

  private reportFlavor(flavor: StoredObject, keys: Record<string, string>): void {
    const { store } = this.options
    const ready = (flavor.status.conditions ?? []).find((c) => c.type === 'Ready')
    const message = Object.keys(keys).length ? `Open_vSwitch other_config set: ${Object.keys(keys).sort().join(', ')}` : 'no OVS settings in this flavor'
    if (ready?.status === 'True' && ready.message === message && flavor.status.observedGeneration === flavor.metadata.generation) return
    store.objects.setStatus(
      { apiVersion: flavor.apiVersion, kind: flavor.kind, namespace: flavor.metadata.namespace, name: flavor.metadata.name },
      {
        ...flavor.status,
        phase: 'Applied',
        observedGeneration: flavor.metadata.generation,
        conditions: [
          ...(flavor.status.conditions ?? []).filter((c) => c.type !== 'Ready'),
          { type: 'Ready', status: 'True', reason: 'Applied', message, lastTransitionTime: new Date().toISOString(), observedGeneration: flavor.metadata.generation },
        ],
      },
    )
  }

  private logRun(r: { name: string; reasons: string[]; durationMs: number; error?: unknown }): void {
    this.options.onLoopRun?.(r)
    if (r.error) {
      const err = r.error as Error
      const key = `${r.name}\0${isApplianceError(err) ? err.code : err.name}`
      this.failureLog.log(this.options.log, 'warn', key, { loop: r.name, reasons: r.reasons, err: err.message }, 'reconcile failed')
    } else {
      // Recovered: the next failure of this loop is news and is logged at once.
      this.failureLog.reset(`${r.name}\0`)
      this.options.log.debug({ loop: r.name, reasons: r.reasons, ms: Math.round(r.durationMs) }, 'reconciled')
    }
  }
}

/** Owned bridges whose flow-clearing columns changed in `changes` (vswitchd may have dropped their flows). */
function flowClearingChanges(changes: readonly RowChange[]): string[] {
  const out: string[] = []
  for (const c of changes) {
    if (c.table !== 'Bridge' || c.kind !== 'modify' || !c.old || !c.new) continue
    const before = c.old as Record<string, unknown>
    const after = c.new as Record<string, unknown>
    if (!isOwned(after)) continue
    if (FLOW_CLEARING_COLUMNS.some((col) => JSON.stringify(before[col]) !== JSON.stringify(after[col]))) out.push(String(after.name))
  }
  return out
}
