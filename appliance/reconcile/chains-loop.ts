/**
 * The chains pass: ServiceChains + ServiceInterfaces + the ports OVSDB shows -> desired flows per bridge ->
 * each bridge's flow programmer (minimal diff, one atomic bundle, barrier) -> chain status.
 * Triggered by store changes of chains and interfaces, OVSDB changes of interfaces (ofport, attached MAC), and
 * every OpenFlow (re)connect (a restarted vswitchd has an empty table).
 */
import type { StoredObject } from '../../api/meta.js'
import type { Logger } from '../observe/index.js'
import type { OvsNode } from '../node/ovs-node.js'
import { compileChains } from '../sfc/compile.js'
import { formatCookie } from '../sfc/cookie.js'
import type { ChainReport, ObservedPort } from '../sfc/model.js'
import { describeProblem } from '../sfc/resolve.js'
import type { Store } from '../store/index.js'
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
  reports: ChainReport[]
  /** Bridges whose desired flows are confirmed installed (barrier reply). */
  installed: Map<string, boolean>
}

export async function runChainsPass(deps: ChainsPassDeps): Promise<ChainsPassResult | undefined> {
  const client = deps.ovs.ovsdb
  if (!client || client.state !== 'connected') return undefined
  const objs = readNodeObjects(deps.store, deps.nodeName)
  const ports = new Map<string, ObservedPort>()
  for (const [key, o] of readObservedInterfaces(client.cache)) {
    if (o.bridge) ports.set(key, { bridge: o.bridge, ...(o.ofport !== undefined ? { ofport: o.ofport } : {}), ...(o.mac ? { mac: o.mac } : {}) })
  }
  const out = compileChains({ chains: chainInputs(objs.chains), interfaces: interfaceInputs(objs.interfaces), ports })

  const installed = new Map<string, boolean>()
  const bridges = new Set([...deps.chainBridges, ...out.flows.keys()])
  await Promise.all(
    [...bridges].map(async (bridge) => {
      if (!client.cache.bridge(bridge)) return // not created yet; the bridges loop's change event brings us back
      const flows = out.flows.get(bridge) ?? []
      // An empty desired set on a bridge we never programmed needs no connection at all.
      if (flows.length === 0 && !deps.ovs.hasProgrammer(bridge)) return installed.set(bridge, true)
      const programmer = deps.ovs.programmer(bridge)
      const apply = programmer.setDesired(flows)
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), deps.applyTimeoutMs ?? 10_000)))
      try {
        const r = await Promise.race([apply, timeout])
        installed.set(bridge, r !== 'timeout')
        if (r !== 'timeout' && (r.added || r.modified || r.removed)) deps.log.info({ bridge, ...r }, 'flows installed')
      } catch (err) {
        installed.set(bridge, false)
        deps.log.warn({ bridge, err: (err as Error).message }, 'flow batch failed')
      } finally {
        clearTimeout(timer)
        apply.catch(() => undefined) // a later pass owns the retry
      }
    }),
  )
  writeChainStatus(deps.store, objs.chains, out.reports, installed)
  return { reports: out.reports, installed }
}

function writeChainStatus(store: Store, chains: StoredObject[], reports: ChainReport[], installed: Map<string, boolean>): void {
  const byKey = new Map(reports.map((r) => [`${r.namespace}/${r.name}`, r]))
  for (const chain of chains) {
    const r = byKey.get(`${chain.metadata.namespace}/${chain.metadata.name}`)
    if (!r) continue
    const problems = r.switches.flatMap((s) => s.problems.map((p) => `switch ${s.index}: ${describeProblem(p)}`))
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
    const conditions = [
      {
        type: 'Offloadable',
        status: offloadable ? ('True' as const) : ('False' as const),
        reason: offloadable ? 'OffloadableActions' : 'NotOffloadable',
        message: offloadable ? 'every flow uses matches and actions BlueField offloads' : r.offloadFindings.join('; '),
      },
    ]
    if (problems.length > 0) {
      writeReady(store, chain, { ready: false, reason: 'PortsUnresolved', message: problems.join('; '), extra, conditions })
    } else if (pendingBridges.length > 0) {
      writeReady(store, chain, { ready: false, reason: 'FlowsPending', message: `flows not yet confirmed on ${pendingBridges.join(', ')}`, extra, conditions })
    } else {
      const flows = r.switches.reduce((n, s) => n + s.flowCount, 0)
      writeReady(store, chain, { ready: true, reason: 'FlowsInstalled', message: `${r.switches.length} switch(es), ${flows} flows installed`, extra, conditions })
    }
  }
}
