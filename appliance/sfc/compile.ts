/**
 * The chain compiler: ServiceChains + ServiceInterfaces + observed ports -> desired flows per bridge.
 * Pure and deterministic (chains in namespace/name order, flows sorted), so an unchanged input yields an
 * identical flow set and the flow diff sends nothing. Table layout: `pipeline.ts`.
 */
import type { Action, Instruction, Match } from '../ovs/openflow/model.js'
import { chainCookie } from './cookie.js'
import type {
  ChainInput,
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

/** One switch after port resolution, before interfaces are handed out. */
interface ResolvedSwitch {
  chain: ChainInput
  report: ChainReport
  cookie: bigint
  index: number
  owner: string
  problems: PortProblem[]
  endpoints: Endpoint[]
  interfaces: Array<string | undefined>
  ofports: Array<number | undefined>
  bridge?: string
}

/**
 * Compile every chain on this DPU into desired flows per bridge plus a report per chain.
 *
 * An interface is a port of at most one switch. Only a switch that can be programmed (every selector resolved
 * to one attached interface on one bridge) claims its interfaces, oldest chain first (`createdAt`, then
 * namespace/name), so a newly applied or broken chain never takes a port away from a working one.
 */
export function compileChains(input: CompileInput): CompileOutput {
  const byNamespace = indexByNamespace(input.interfaces)
  const byKey = new Map(input.interfaces.map((i) => [interfaceKey(i), i]))
  const flows = new Map<string, DesiredFlow[]>()
  const byName = (a: ChainInput, b: ChainInput) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)
  const chains = [...input.chains].sort(byName)
  const reports: ChainReport[] = []
  const switches: ResolvedSwitch[] = []
  const claimOrder = new Map<ChainInput, number>()
  ;[...chains]
    .sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || byName(a, b))
    .forEach((c, i) => claimOrder.set(c, i))

  for (const chain of chains) {
    const cookie = chainCookie(chain.namespace, chain.name)
    const candidates = byNamespace.get(chain.namespace) ?? []
    const report: ChainReport = { namespace: chain.namespace, name: chain.name, generation: chain.generation, cookie, switches: [], offloadFindings: [] }
    reports.push(report)
    chain.switches.forEach((sw, index) => {
      const r: ResolvedSwitch = { chain, report, cookie, index, owner: `${chain.namespace}/${chain.name} switch ${index}`, problems: [], endpoints: [], interfaces: [], ofports: [] }
      for (const port of sw.ports) {
        const res = resolvePort(port.serviceInterface.matchLabels, candidates)
        if ('problem' in res) {
          r.problems.push(res.problem)
          r.interfaces.push(undefined)
          r.ofports.push(undefined)
          continue
        }
        const key = interfaceKey(res.interface)
        r.interfaces.push(key)
        const e = endpointFor(res.interface, byKey, input.ports)
        r.ofports.push(e?.ofport)
        if (!e) {
          r.problems.push({ kind: 'not-attached', interface: key })
          continue
        }
        if (r.bridge === undefined) r.bridge = e.bridge
        if (e.bridge !== r.bridge) {
          r.problems.push({ kind: 'bridge-mismatch', interface: key, bridge: e.bridge, expected: r.bridge })
          continue
        }
        r.endpoints.push(e)
      }
      switches.push(r)
    })
  }

  // Hand out interfaces: complete switches only, oldest chain first; a switch takes all its ports or none.
  const usedBy = new Map<string, string>()
  const claimants = switches
    .filter((s) => s.problems.length === 0)
    .sort((a, b) => claimOrder.get(a.chain)! - claimOrder.get(b.chain)! || a.index - b.index)
  const claimed = new Set(claimants)
  for (const s of claimants) {
    const seen = new Set<string>()
    for (const e of s.endpoints) {
      const holder = usedBy.get(e.key) ?? (seen.has(e.key) ? s.owner : undefined)
      if (holder !== undefined) s.problems.push({ kind: 'port-in-use', interface: e.key, usedBy: holder })
      seen.add(e.key)
    }
    if (s.problems.length === 0) for (const e of s.endpoints) usedBy.set(e.key, s.owner)
  }
  // Broken switches claim nothing, but say which of their interfaces another switch holds.
  for (const s of switches) {
    if (claimed.has(s) && s.problems.length === 0) continue
    for (const key of s.interfaces) {
      const holder = key !== undefined ? usedBy.get(key) : undefined
      if (holder !== undefined && holder !== s.owner && !s.problems.some((p) => p.kind === 'port-in-use' && p.interface === key)) {
        s.problems.push({ kind: 'port-in-use', interface: key!, usedBy: holder })
      }
    }
  }

  for (const s of switches) {
    const ok = s.problems.length === 0
    const swFlows = ok && s.endpoints.length >= 2 && s.bridge !== undefined ? switchFlows(s.endpoints, s.cookie) : []
    if (s.bridge !== undefined && swFlows.length > 0) {
      const list = flows.get(s.bridge) ?? []
      list.push(...swFlows)
      flows.set(s.bridge, list)
    }
    for (const f of swFlows) for (const finding of lintFlow(f)) s.report.offloadFindings.push(`switch ${s.index}: ${finding}`)
    const sr: SwitchReport = { index: s.index, interfaces: s.interfaces, ofports: s.ofports, problems: s.problems, flowCount: swFlows.length, programmed: swFlows.length > 0 }
    if (s.bridge !== undefined) sr.bridge = s.bridge
    s.report.switches.push(sr)
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
