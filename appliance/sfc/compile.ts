/**
 * The chain compiler: ServiceChains + ServiceInterfaces + observed ports -> desired flows per bridge.
 * Pure and deterministic (chains in namespace/name order, flows sorted), so an unchanged input yields an
 * identical flow set and the flow diff sends nothing. Table layout: `pipeline.ts`.
 */
import type { Action, Instruction, Match } from '../ovs/openflow/model.js'
import { chainCookie } from './cookie.js'
import type {
  ChainInterface,
  ChainReport,
  CompileInput,
  CompileOutput,
  DesiredFlow,
  ObservedPort,
  PortProblem,
  SwitchReport,
} from './model.js'
import { lintFlow } from './offload-lint.js'
import { ETH_TYPE_VLAN, MULTICAST_BIT, OFPVID_PRESENT, PRIORITY, SFC_FORWARD_TABLE } from './pipeline.js'
import { indexByNamespace, interfaceKey, resolvePort } from './resolve.js'

const OFPP_IN_PORT = 0xfffffff8
/** Flows of a VLAN (virtual) port sit above every flow of plain ports, so its parent's flows never shadow it. */
const VLAN_PRIORITY_OFFSET = 1000

/** A resolved switch port: where traffic enters and how to send traffic to it. */
interface Endpoint {
  key: string
  ofport: number
  bridge: string
  mac?: string
  vlanId?: number
}

function ingressMatch(e: Endpoint): Match {
  return e.vlanId === undefined ? { in_port: e.ofport } : { in_port: e.ofport, vlan_vid: OFPVID_PRESENT | e.vlanId }
}

/** Actions that deliver a frame (already untagged if it came from a VLAN port) to `to`. */
function deliver(from: Endpoint, to: Endpoint): Action[] {
  const port = to.ofport === from.ofport ? OFPP_IN_PORT : to.ofport
  if (to.vlanId === undefined) return [{ type: 'output', port, maxLen: 0 }]
  return [
    { type: 'push_vlan', ethertype: ETH_TYPE_VLAN },
    { type: 'set_field', field: 'vlan_vid', value: OFPVID_PRESENT | to.vlanId },
    { type: 'output', port, maxLen: 0 },
  ]
}

function forward(from: Endpoint, targets: readonly Endpoint[]): Instruction[] {
  const actions: Action[] = from.vlanId === undefined ? [] : [{ type: 'pop_vlan' }]
  // Push/pop state carries across outputs in one action list: restore plain framing between targets.
  let tagged = false
  for (const t of targets) {
    if (tagged) {
      actions.push({ type: 'pop_vlan' })
      tagged = false
    }
    actions.push(...deliver(from, t))
    tagged = t.vlanId !== undefined
  }
  return [{ type: 'apply_actions', actions }]
}

function switchFlows(endpoints: readonly Endpoint[], cookie: bigint): DesiredFlow[] {
  const flows: DesiredFlow[] = []
  for (const from of endpoints) {
    const others = endpoints.filter((e) => e !== from)
    const offset = from.vlanId === undefined ? 0 : VLAN_PRIORITY_OFFSET
    const match = ingressMatch(from)
    flows.push({ table: SFC_FORWARD_TABLE, priority: PRIORITY.FLOOD + offset, match, cookie, instructions: forward(from, others) })
    if (endpoints.length <= 2) continue // a two-port switch is a patch: one flow each way, nothing to learn
    flows.push({
      table: SFC_FORWARD_TABLE,
      priority: PRIORITY.MULTICAST + offset,
      match: { ...match, eth_dst: { value: MULTICAST_BIT.value, mask: MULTICAST_BIT.mask } },
      cookie,
      instructions: forward(from, others),
    })
    for (const to of others) {
      if (!to.mac) continue
      flows.push({
        table: SFC_FORWARD_TABLE,
        priority: PRIORITY.KNOWN_UNICAST + offset,
        match: { ...match, eth_dst: to.mac.toLowerCase() },
        cookie,
        instructions: forward(from, [to]),
      })
    }
  }
  return flows
}

function endpointFor(
  iface: ChainInterface,
  byKey: ReadonlyMap<string, ChainInterface>,
  ports: ReadonlyMap<string, ObservedPort>,
): Endpoint | undefined {
  const key = interfaceKey(iface)
  if (iface.vlan) {
    const parentKey = `${iface.namespace}/${iface.vlan.parent}`
    const parent = ports.get(parentKey)
    if (!byKey.has(parentKey) || !parent?.ofport || parent.ofport < 1) return undefined
    return { key, ofport: parent.ofport, bridge: parent.bridge, vlanId: iface.vlan.vlanId }
  }
  const port = ports.get(key)
  if (!port?.ofport || port.ofport < 1) return undefined
  return { key, ofport: port.ofport, bridge: port.bridge, ...(port.mac ? { mac: port.mac } : {}) }
}

function compareFlows(a: DesiredFlow, b: DesiredFlow): number {
  return a.table - b.table || b.priority - a.priority || JSON.stringify(a.match).localeCompare(JSON.stringify(b.match))
}

/** Compile every chain on this DPU into desired flows per bridge plus a report per chain. */
export function compileChains(input: CompileInput): CompileOutput {
  const byNamespace = indexByNamespace(input.interfaces)
  const byKey = new Map(input.interfaces.map((i) => [interfaceKey(i), i]))
  const usedBy = new Map<string, string>()
  const flows = new Map<string, DesiredFlow[]>()
  const reports: ChainReport[] = []

  const chains = [...input.chains].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
  for (const chain of chains) {
    const cookie = chainCookie(chain.namespace, chain.name)
    const candidates = byNamespace.get(chain.namespace) ?? []
    const report: ChainReport = { namespace: chain.namespace, name: chain.name, generation: chain.generation, cookie, switches: [], offloadFindings: [] }
    chain.switches.forEach((sw, index) => {
      const problems: PortProblem[] = []
      const endpoints: Endpoint[] = []
      const interfaces: Array<string | undefined> = []
      const ofports: Array<number | undefined> = []
      let bridge: string | undefined
      const owner = `${chain.namespace}/${chain.name} switch ${index}`
      for (const port of sw.ports) {
        const r = resolvePort(port.serviceInterface.matchLabels, candidates)
        if ('problem' in r) {
          problems.push(r.problem)
          interfaces.push(undefined)
          ofports.push(undefined)
          continue
        }
        const key = interfaceKey(r.interface)
        interfaces.push(key)
        const prior = usedBy.get(key)
        if (prior !== undefined) {
          problems.push({ kind: 'port-in-use', interface: key, usedBy: prior })
          ofports.push(undefined)
          continue
        }
        const e = endpointFor(r.interface, byKey, input.ports)
        ofports.push(e?.ofport)
        if (!e) {
          problems.push({ kind: 'not-attached', interface: key })
          continue
        }
        if (bridge === undefined) bridge = e.bridge
        if (e.bridge !== bridge) {
          problems.push({ kind: 'bridge-mismatch', interface: key, bridge: e.bridge, expected: bridge })
          continue
        }
        usedBy.set(key, owner)
        endpoints.push(e)
      }
      const swFlows = endpoints.length >= 2 && bridge !== undefined ? switchFlows(endpoints, cookie) : []
      if (bridge !== undefined && swFlows.length > 0) {
        const list = flows.get(bridge) ?? []
        list.push(...swFlows)
        flows.set(bridge, list)
      }
      for (const f of swFlows) for (const finding of lintFlow(f)) report.offloadFindings.push(`switch ${index}: ${finding}`)
      const sr: SwitchReport = { index, interfaces, ofports, problems, flowCount: swFlows.length, programmed: swFlows.length > 0 }
      if (bridge !== undefined) sr.bridge = bridge
      report.switches.push(sr)
    })
    reports.push(report)
  }
  for (const list of flows.values()) list.sort(compareFlows)
  return { flows, reports }
}

/** The MTU each chained interface should have (a switch's `serviceMTU` applies to all its resolved ports). */
export function desiredMtus(input: CompileInput): Map<string, number> {
  const byNamespace = indexByNamespace(input.interfaces)
  const mtus = new Map<string, number>()
  for (const chain of input.chains) {
    for (const sw of chain.switches) {
      if (sw.serviceMTU === undefined) continue
      for (const port of sw.ports) {
        const r = resolvePort(port.serviceInterface.matchLabels, byNamespace.get(chain.namespace) ?? [])
        if ('interface' in r) mtus.set(interfaceKey(r.interface), sw.serviceMTU)
      }
    }
  }
  return mtus
}
