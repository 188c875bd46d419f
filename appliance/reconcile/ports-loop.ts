/**
 * The ports pass: ServiceInterfaces -> host links (service veths) -> one OVSDB transaction -> Ready conditions.
 * Host links come first so the OVS port finds its netdev; stale veths go after the transaction removed their
 * ports. Triggered by store changes of interfaces, NADs and chains (serviceMTU) and by OVSDB changes of ports.
 */
import type { StoredObject } from '../../api/meta.js'
import type { Logger } from '../observe/index.js'
import type { OvsNode } from '../node/ovs-node.js'
import { ensureServiceVeth, removeServiceVeth } from '../runtime/ports/index.js'
import { desiredMtus } from '../sfc/compile.js'
import type { Store } from '../store/index.js'
import { chainInputs, interfaceInputs } from './chain-inputs.js'
import { readNodeObjects } from './node-objects.js'
import { computeDesiredPorts, planPorts, readObservedInterfaces, staleServiceVeths, type InterfacePlan, type PortSettings } from './ports.js'
import { writeReady } from './status.js'

export interface PortsPassDeps {
  store: Store
  ovs: OvsNode
  settings: PortSettings
  nodeName: string
  /** Namespace of ovs-vswitchd when it is not ours: outer veth ends are created there. */
  ovsNetns?: string
  log: Logger
}

export async function runPortsPass(deps: PortsPassDeps): Promise<void> {
  const client = deps.ovs.ovsdb
  if (!client || client.state !== 'connected') return
  const objs = readNodeObjects(deps.store, deps.nodeName)
  const mtus = desiredMtus({ chains: chainInputs(objs.chains), interfaces: interfaceInputs(objs.interfaces), ports: new Map() })
  const plans = computeDesiredPorts(objs.interfaces, objs.nads, deps.settings, mtus)

  // Host side first: a port whose netdev does not exist gets ofport -1 and an error from vswitchd.
  const macs = new Map<string, string>()
  for (const plan of plans) {
    for (const port of plan.ports) {
      if (!port.veth || plan.problem) continue
      try {
        const veth = await ensureServiceVeth({ ...port.veth, ...(deps.ovsNetns ? { outerNetns: deps.ovsNetns } : {}) })
        macs.set(port.name, veth.innerMac)
        if (veth.actions.length > 0) deps.log.info({ interface: plan.key, port: port.name, actions: veth.actions }, 'service veth changed')
      } catch (err) {
        plan.problem = { reason: 'HostLinkFailed', message: `veth ${port.name} <-> ${port.veth.netns}/${port.veth.innerName}: ${(err as Error).message}` }
      }
    }
  }

  const txn = client.txn()
  const changes = planPorts(plans, macs, client.cache, txn)
  if (changes.length > 0) {
    txn.comment(`dpu-appliance ports: ${changes.slice(0, 20).join('; ')}`)
    await client.transact(txn)
    deps.log.info({ changes }, 'ports reconciled')
  }
  for (const outer of staleServiceVeths(plans, client.cache)) {
    await removeServiceVeth(outer, deps.ovsNetns ? { outerNetns: deps.ovsNetns } : {})
  }
  writeInterfaceStatus(deps, objs.interfaces, plans)
}

function writeInterfaceStatus(deps: PortsPassDeps, interfaces: StoredObject[], plans: InterfacePlan[]): void {
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
    const o = observed.get(key)
    if (!main) continue
    const extra = { bridge: main.bridge, port: main.name, ...(o?.ofport !== undefined ? { ofport: o.ofport } : {}), ...(o?.mac ? { mac: o.mac } : {}) }
    if (o?.error) writeReady(deps.store, si, { ready: false, reason: 'InterfaceError', message: `vswitchd: ${main.name}: ${o.error}`, extra })
    else if (o?.ofport !== undefined && o.ofport > 0) writeReady(deps.store, si, { ready: true, reason: 'PortReady', message: `port ${main.name} on ${main.bridge}, ofport ${o.ofport}`, extra })
    else writeReady(deps.store, si, { ready: false, reason: 'PortPending', message: `waiting for vswitchd to attach ${main.name} on ${main.bridge}`, extra })
  }
}
