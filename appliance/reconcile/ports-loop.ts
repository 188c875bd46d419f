/**
 * The ports pass: ServiceInterfaces -> host links (service veths) -> one OVSDB transaction -> Ready conditions.
 * Host links come first so the OVS port finds its netdev; stale veths are listed before the transaction removes
 * their ports (afterwards nothing names them) and deleted after it. A veth found missing (its service deleted
 * the inner end, which takes the pair with it) is re-created with a new MAC and its port re-opened with the
 * same ofport, so only the flows naming the MAC change. Triggered by store changes of interfaces, NADs and
 * chains (serviceMTU) and by OVSDB changes of ports and interfaces (a vanished netdev shows as link_state down).
 * Namespaces and veths are recorded in the store before they are created (`appliance cleanup` removes what is
 * recorded); a veth this pass removes is forgotten again.
 */
import type { StoredObject } from '../../api/meta.js'
import type { Logger } from '../observe/index.js'
import type { OvsNode } from '../node/ovs-node.js'
import { isOwned } from '../node/ownership.js'
import { whereUuid } from '../ovs/ovsdb/index.js'
import { ensureServiceVeth, removeServiceVeth, SandboxMissingError } from '../runtime/ports/index.js'
import { desiredMtus } from '../sfc/compile.js'
import type { Store } from '../store/index.js'
import { chainInputs, interfaceInputs } from './chain-inputs.js'
import { readNodeObjects } from './node-objects.js'
import { computeDesiredPorts, planPorts, readObservedInterfaces, readPortHolders, staleServiceVeths, type InterfacePlan, type PortSettings } from './ports.js'
import type { Hold } from './hold.js'
import { computeServiceOfportRequests, guardOfportRequests } from './service-ofport.js'
import { applyServiceIpam, ipamStatus, readIpamPools, type IpamResult } from './service-ipam.js'
import { writeReady } from './status.js'

export interface PortsPassDeps {
  store: Store
  ovs: OvsNode
  settings: PortSettings
  nodeName: string
  /** The node's labels, for a DPUServiceIPAM's nodeSelector (not evaluated when absent). */
  nodeLabels?: Readonly<Record<string, string>>
  /** Namespace of ovs-vswitchd when it is not ours: outer veth ends are created there. */
  ovsNetns?: string
  log: Logger
  /** Closed while a port is re-opened, so the chains pass does not compile a switch with a port missing. */
  hold?: Hold
}

const REOPEN_TIMEOUT_MS = 10_000

export async function runPortsPass(deps: PortsPassDeps): Promise<void> {
  const client = deps.ovs.ovsdb
  if (!client || client.state !== 'connected') return
  const objs = readNodeObjects(deps.store, deps.nodeName)
  const mtus = desiredMtus({ chains: chainInputs(objs.chains), interfaces: interfaceInputs(objs.interfaces), ports: new Map() })
  const sandboxed = new Set(objs.services.map((s) => (s.spec as { serviceID?: string }).serviceID).filter((id): id is string => id !== undefined))
  const plans = computeDesiredPorts(objs.interfaces, objs.nads, deps.settings, mtus, readPortHolders(client.cache), sandboxed)

  // Host side first: a port whose netdev does not exist gets ofport -1 and an error from vswitchd.
  const macs = new Map<string, string>()
  /** Ports whose veth was re-created under an existing OVS port, with the ofport to keep. */
  const reopen = new Map<string, number | undefined>()
  for (const plan of plans) {
    for (const port of plan.ports) {
      if (!port.veth || plan.problem) continue
      try {
        const veth = await ensureServiceVeth({
          ...port.veth,
          ...(deps.ovsNetns ? { outerNetns: deps.ovsNetns } : {}),
          // What `appliance cleanup` may remove: only what the appliance itself created, recorded before it exists.
          beforeCreate: (created) => deps.store.hostResources.record(created),
        })
        macs.set(port.name, veth.innerMac)
        if (veth.actions.length > 0) deps.log.info({ interface: plan.key, port: port.name, actions: veth.actions }, 'service veth changed')
        const existing = client.cache.port(port.name)
        if ((veth.actions.includes('created') || veth.actions.includes('recreated')) && existing && isOwned(existing)) {
          const ofport = client.cache.interface(port.name)?.ofport
          reopen.set(port.name, typeof ofport === 'number' && ofport > 0 ? ofport : undefined)
        }
      } catch (err) {
        if (err instanceof SandboxMissingError) {
          plan.problem = { reason: 'SandboxPending', message: `waiting for the pod of service ${port.veth.netns.replace(/^.*svc-/, '')}: ${err.message}` }
          continue
        }
        plan.problem = { reason: 'HostLinkFailed', message: `veth ${port.name} <-> ${port.veth.netns}/${port.veth.innerName}: ${(err as Error).message}` }
      }
    }
  }

  // Addresses inside the service namespaces, once the veths exist (service-ipam.ts).
  const ipam = await applyServiceIpam({ store: deps.store, node: { name: deps.nodeName, ...(deps.nodeLabels ? { labels: deps.nodeLabels } : {}) }, log: deps.log }, plans, {
    ...objs,
    pools: readIpamPools(deps.store),
  })

  const apply = async () => {
    if (reopen.size > 0) await removePorts(deps, [...reopen.keys()])
    // Before the transaction: once a port is gone from OVS nothing else names its veth.
    const stale = staleServiceVeths(plans, client.cache)
    const txn = client.txn()
    // DPF's stable ofport_request for new service ports; a re-opened port keeps the number it had.
    const requests = computeServiceOfportRequests(plans, client.cache, reopen)
    guardOfportRequests(txn, requests)
    const changes = planPorts(plans, macs, client.cache, txn, requests)
    if (changes.length > 0) {
      txn.comment(`dpu-appliance ports: ${changes.slice(0, 20).join('; ')}`)
      if (reopen.size > 0) txn.incrementNextCfg()
      const result = await client.transact(txn)
      deps.log.info({ changes }, 'ports reconciled')
      // The chains pass should see the re-opened ports with their ofport, not half-way.
      if (reopen.size > 0 && result.nextCfg !== undefined) await client.waitForCurCfg(result.nextCfg, { timeoutMs: REOPEN_TIMEOUT_MS })
    }
    return stale
  }
  const stale = reopen.size > 0 && deps.hold ? await deps.hold.during(apply) : await apply()
  for (const outer of stale) {
    await removeServiceVeth(outer, deps.ovsNetns ? { outerNetns: deps.ovsNetns } : {})
    deps.store.hostResources.forget({ kind: 'veth', name: outer, ...(deps.ovsNetns ? { netns: deps.ovsNetns } : {}) })
  }
  writeInterfaceStatus(deps, objs.interfaces, plans, ipam)
}

/**
 * vswitchd keeps reading a veth it opened through the old device: once the pair is re-created under the same
 * name, the port forwards nothing until vswitchd closes and re-opens it. Removing the port (and waiting until
 * vswitchd applied that) makes the following transaction's add a fresh open. Removing and adding in one
 * transaction does not: vswitchd matches ports by name and keeps the stale netdev.
 */
async function removePorts(deps: PortsPassDeps, names: string[]): Promise<void> {
  const client = deps.ovs.ovsdb!
  const txn = client.txn()
  for (const bridge of client.cache.bridges()) {
    const gone = client.cache.portsOf(bridge).filter((p) => names.includes(p.name) && isOwned(p))
    if (gone.length > 0) txn.mutate('Bridge', whereUuid(bridge._uuid), [['ports', 'delete', gone.map((p) => p._uuid)]])
  }
  if (txn.isEmpty) return
  txn.comment(`dpu-appliance ports: re-open ${names.join(', ')} (veth re-created)`)
  txn.incrementNextCfg()
  const result = await client.transact(txn)
  deps.log.info({ ports: names }, 'service ports re-opened after their veth was re-created')
  if (result.nextCfg !== undefined) await client.waitForCurCfg(result.nextCfg, { timeoutMs: REOPEN_TIMEOUT_MS })
}

function writeInterfaceStatus(deps: PortsPassDeps, interfaces: StoredObject[], plans: InterfacePlan[], ipam: ReadonlyMap<string, IpamResult>): void {
  const client = deps.ovs.ovsdb
  if (!client) return
  const observed = readObservedInterfaces(client.cache)
  const byKey = new Map(plans.map((p) => [p.key, p]))
  for (const si of interfaces) {
    const key = `${si.metadata.namespace}/${si.metadata.name}`
    const plan = byKey.get(key)
    if (!plan) continue
    if (plan.problem) {
      writeReady(deps.store, si, { ready: false, reason: plan.problem.reason, message: plan.problem.message })
      continue
    }
    if (plan.vlan) {
      const parent = observed.get(plan.vlan.parent)
      const ok = parent?.ofport !== undefined && parent.ofport > 0
      writeReady(deps.store, si, {
        ready: ok,
        reason: ok ? 'VlanOnParent' : 'ParentNotReady',
        message: `VLAN ${plan.vlan.vlanId} on ${plan.vlan.parent}${ok ? ` (ofport ${parent!.ofport})` : ' (parent has no port yet)'}`,
        extra: { vlanId: plan.vlan.vlanId, parent: plan.vlan.parent },
      })
      continue
    }
    const main = plan.ports[0]
    if (!main) continue
    const observedKey = observed.get(key)
    // An HBN interface: its own port is on br-hbn; chains reach it through the br-sfc side of its patch pair.
    const viaPatch = plan.ports.find((p) => p.macOf === main.name)
    const patchSide = viaPatch && observedKey?.hbn ? observedKey : undefined
    const o = viaPatch ? (observedKey?.hbn ?? (observedKey?.port === main.name ? observedKey : undefined)) : observedKey
    const extra = {
      bridge: main.bridge,
      port: main.name,
      ...(o?.ofport !== undefined ? { ofport: o.ofport } : {}),
      ...(observedKey?.mac ? { mac: observedKey.mac } : {}),
      ...(viaPatch ? { chainPort: { bridge: viaPatch.bridge, port: viaPatch.name, ...(patchSide?.ofport !== undefined ? { ofport: patchSide.ofport } : {}) } } : {}),
    }
    const patchNote = viaPatch ? `; chains reach it through ${viaPatch.name} on ${viaPatch.bridge}` : ''
    const ip = ipamStatus(ipam.get(key))
    Object.assign(extra, ip.extra)
    if (o?.error) writeReady(deps.store, si, { ready: false, reason: 'InterfaceError', message: `vswitchd: ${main.name}: ${o.error}`, extra })
    else if (patchSide?.error) writeReady(deps.store, si, { ready: false, reason: 'InterfaceError', message: `vswitchd: ${viaPatch!.name}: ${patchSide.error}`, extra })
    else if (ip.problem) writeReady(deps.store, si, { ready: false, reason: ip.problem.reason, message: ip.problem.message, extra })
    else if (o?.ofport !== undefined && o.ofport > 0 && (!viaPatch || (patchSide?.ofport ?? 0) > 0))
      writeReady(deps.store, si, { ready: true, reason: 'PortReady', message: `port ${main.name} on ${main.bridge}, ofport ${o.ofport}${patchNote}${ip.note}`, extra })
    else writeReady(deps.store, si, { ready: false, reason: 'PortPending', message: `waiting for vswitchd to attach ${main.name} on ${main.bridge}${patchNote}`, extra })
  }
}
