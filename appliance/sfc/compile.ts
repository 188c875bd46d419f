/**
 * The chain compiler: ServiceChains + ServiceInterfaces + observed ports -> desired flows per bridge.
 * Pure and deterministic (chains in namespace/name order, flows sorted), so an unchanged input yields an
 * identical flow set and the flow diff sends nothing. Table layout: `pipeline.ts`.
 */
import type { Action, Instruction, Match } from '../ovs/openflow/model.js'
import { chainCookie } from './cookie.js'
import type { ChainInput, ChainInterface, ChainReport, CompileInput, CompileOutput, DesiredFlow, ObservedPort, PortProblem, SwitchReport } from './model.js'
import { lintFlow } from './offload-lint.js'
import { ETH_TYPE_VLAN, MULTICAST_BIT, OFPVID_PRESENT, PRIORITY, SFC_FORWARD_TABLE } from './pipeline.js'
import { indexByNamespace, interfaceKey, resolvePort } from './resolve.js'

const OFPP_IN_PORT = 0xfffffff8
/** Flows of a VLAN (virtual) port sit above every flow of plain ports, so its parent's flows never shadow it. */
const VLAN_PRIORITY_OFFSET = 1000

/** A resolved switch port: where traffic enters and how to send traffic to it. */
export interface Endpoint {
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

/** The flows of one switch over resolved endpoints (a 2-port switch is a patch: one flow each way). */
export function switchFlows(endpoints: readonly Endpoint[], cookie: bigint): DesiredFlow[] {
  const flows: DesiredFlow[] = []
  // A MAC seen behind two ports (a duplicate, or a move OVSDB has not finished reporting) gets no unicast flow:
  // its frames are flooded as unknown unicast and reach both, and no two flows share one match.
  const macCount = new Map<string, number>()
  for (const e of endpoints) if (e.mac) macCount.set(e.mac.toLowerCase(), (macCount.get(e.mac.toLowerCase()) ?? 0) + 1)
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
      if (!to.mac || macCount.get(to.mac.toLowerCase())! > 1) continue
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

function endpointFor(iface: ChainInterface, byKey: ReadonlyMap<string, ChainInterface>, ports: ReadonlyMap<string, ObservedPort>): Endpoint | undefined {
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

/** Flows per bridge in the compiler's deterministic order. */
export function sortFlows(flows: DesiredFlow[]): DesiredFlow[] {
  return flows.sort(compareFlows)
}

/** What port resolution reads: this DPU's interfaces (per namespace, sorted by name) and their observed ports. */
export interface ResolveContext {
  byNamespace: ReadonlyMap<string, readonly ChainInterface[]>
  byKey: ReadonlyMap<string, ChainInterface>
  ports: ReadonlyMap<string, ObservedPort>
}

/** One switch after port resolution, before interfaces are handed out. */
export interface ResolvedSwitch {
  index: number
  /** `namespace/name switch i`: who holds an interface, in port-in-use problems. */
  owner: string
  /** Problems of resolution itself (selectors, attachment, bridges); claims add their own. */
  problems: PortProblem[]
  endpoints: Endpoint[]
  interfaces: Array<string | undefined>
  ofports: Array<number | undefined>
  bridge?: string
}

/** A chain after port resolution: depends only on its spec, its namespace's interfaces and their ports. */
export interface ResolvedChain {
  chain: ChainInput
  cookie: bigint
  switches: ResolvedSwitch[]
  /** Interface keys the resolution read a port of (resolved interfaces and VLAN parents). */
  refs: Set<string>
}

export function resolveChain(chain: ChainInput, ctx: ResolveContext): ResolvedChain {
  const candidates = ctx.byNamespace.get(chain.namespace) ?? []
  const refs = new Set<string>()
  const switches = chain.switches.map((sw, index) => {
    const r: ResolvedSwitch = { index, owner: `${chain.namespace}/${chain.name} switch ${index}`, problems: [], endpoints: [], interfaces: [], ofports: [] }
    for (const port of sw.ports) {
      const res = resolvePort(port.serviceInterface.matchLabels, candidates)
      if ('problem' in res) {
        r.problems.push(res.problem)
        r.interfaces.push(undefined)
        r.ofports.push(undefined)
        continue
      }
      const key = interfaceKey(res.interface)
      refs.add(key)
      if (res.interface.vlan) refs.add(`${res.interface.namespace}/${res.interface.vlan.parent}`)
      r.interfaces.push(key)
      const e = endpointFor(res.interface, ctx.byKey, ctx.ports)
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
    return r
  })
  return { chain, cookie: chainCookie(chain.namespace, chain.name), switches, refs }
}

const byName = (a: ChainInput, b: ChainInput) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)
/** Claim order: the older chain (`createdAt`) keeps a contested interface; ties by namespace/name. */
export const byClaimOrder = (a: ChainInput, b: ChainInput) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || byName(a, b)

/**
 * Hand out interfaces: an interface is a port of at most one switch. Only a switch that can be programmed (every
 * selector resolved to one attached interface on one bridge) claims its interfaces, oldest chain first, and it
 * takes all its ports or none, so a newly applied or broken chain never takes a port away from a working one.
 * Returns the port-in-use problems per switch (switches without any are absent). `chains` is in claim order.
 */
export function claimInterfaces(chains: readonly ResolvedChain[]): Map<ResolvedSwitch, PortProblem[]> {
  const extra = new Map<ResolvedSwitch, PortProblem[]>()
  const add = (s: ResolvedSwitch, p: PortProblem) => {
    const list = extra.get(s)
    if (list) list.push(p)
    else extra.set(s, [p])
  }
  const usedBy = new Map<string, string>()
  for (const c of chains) {
    for (const s of c.switches) {
      if (s.problems.length > 0) continue
      const seen = new Set<string>()
      for (const e of s.endpoints) {
        const holder = usedBy.get(e.key) ?? (seen.has(e.key) ? s.owner : undefined)
        if (holder !== undefined) add(s, { kind: 'port-in-use', interface: e.key, usedBy: holder })
        seen.add(e.key)
      }
      if (!extra.has(s)) for (const e of s.endpoints) usedBy.set(e.key, s.owner)
    }
  }
  // Switches that claimed nothing say which of their interfaces another switch holds.
  for (const c of chains) {
    for (const s of c.switches) {
      if (s.problems.length === 0 && !extra.has(s)) continue
      for (const key of s.interfaces) {
        const holder = key !== undefined ? usedBy.get(key) : undefined
        if (holder === undefined || holder === s.owner) continue
        if (extra.get(s)?.some((p) => p.kind === 'port-in-use' && p.interface === key)) continue
        add(s, { kind: 'port-in-use', interface: key!, usedBy: holder })
      }
    }
  }
  return extra
}

/** A chain's flows per bridge (unsorted) and its report, once its switches' claims are known. */
export function emitChain(rc: ResolvedChain, claims: ReadonlyMap<ResolvedSwitch, PortProblem[]>): { report: ChainReport; flows: Map<string, DesiredFlow[]> } {
  const { chain, cookie } = rc
  const report: ChainReport = { namespace: chain.namespace, name: chain.name, generation: chain.generation, cookie, switches: [], offloadFindings: [] }
  const flows = new Map<string, DesiredFlow[]>()
  for (const s of rc.switches) {
    const problems = [...s.problems, ...(claims.get(s) ?? [])]
    const ok = problems.length === 0
    const swFlows = ok && s.endpoints.length >= 2 && s.bridge !== undefined ? switchFlows(s.endpoints, cookie) : []
    if (s.bridge !== undefined && swFlows.length > 0) {
      const list = flows.get(s.bridge) ?? []
      list.push(...swFlows)
      flows.set(s.bridge, list)
    }
    for (const f of swFlows) for (const finding of lintFlow(f)) report.offloadFindings.push(`switch ${s.index}: ${finding}`)
    const sr: SwitchReport = { index: s.index, interfaces: s.interfaces, ofports: s.ofports, problems, flowCount: swFlows.length, programmed: swFlows.length > 0 }
    if (s.bridge !== undefined) sr.bridge = s.bridge
    report.switches.push(sr)
  }
  return { report, flows }
}

/** The resolution context of a whole interface list. */
function resolveContext(interfaces: readonly ChainInterface[], ports: ReadonlyMap<string, ObservedPort>): ResolveContext {
  return { byNamespace: indexByNamespace(interfaces), byKey: new Map(interfaces.map((i) => [interfaceKey(i), i])), ports }
}

/**
 * Compile every chain on this DPU into desired flows per bridge plus a report per chain (chains in
 * namespace/name order): resolve each chain's ports, hand out contested interfaces (`claimInterfaces`), emit
 * flows. `ChainCompiler` does the same incrementally; this whole-input form is the reference it is tested against.
 */
export function compileChains(input: CompileInput): CompileOutput {
  const ctx = resolveContext(input.interfaces, input.ports)
  const resolved = [...input.chains].sort(byName).map((c) => resolveChain(c, ctx))
  const claims = claimInterfaces([...resolved].sort((a, b) => byClaimOrder(a.chain, b.chain)))
  const flows = new Map<string, DesiredFlow[]>()
  const reports: ChainReport[] = []
  for (const rc of resolved) {
    const out = emitChain(rc, claims)
    reports.push(out.report)
    for (const [bridge, list] of out.flows) {
      const all = flows.get(bridge)
      if (all) all.push(...list)
      else flows.set(bridge, list)
    }
  }
  for (const list of flows.values()) sortFlows(list)
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
