/**
 * ServiceInterface -> OVS ports. Each interface type has a provider (DESIGN §4 Ports):
 *
 *   physical   the named netdev on br-sfc, Port external_ids dpf-type=physical (uplinks: p0, p1)
 *   pf / vf    the host PF / VF representor by DPF name (pf0hpf, pf0vf3) on br-sfc
 *   service    a veth pair (development machines) whose inner end is the service's interface inside its netns
 *              (svc-<serviceID>), the outer end on the bridge of the referenced DPUServiceNAD (default br-sfc);
 *              on br-hbn (NAD mybrhbn) also DPF's HBN patch pair p<outer>brhbn <-> p<outer>brsfc, and chains
 *              reach the interface through its br-sfc side (reference/dpf.md §3.2)
 *   ovn        the patch pair puplinkbrsfc (br-sfc) <-> puplinkbrovn (br-ovn), as DPF names it
 *   patch      a patch pair between two owned bridges
 *   vlan       no OVS port: a tag on its parent's port, compiled into the chain flows (push/pop VLAN)
 *
 * Every port we create carries the owner marker; the interface carries `dpf-id=<namespace>/<name>` and, for
 * service ports, `attached-mac` (the MAC inside the service, which chains forward known unicast to). Ports we
 * own that no interface wants are removed. Foreign ports are never touched.
 */
import type { StoredObject } from '../../api/meta.js'
import type { TableCache, TransactionBuilder } from '../ovs/ovsdb/index.js'
import { whereUuid } from '../ovs/ovsdb/index.js'
import { ATTACHED_MAC_KEY, DPF_ID_KEY, DPF_TYPE_KEY, HBN_NETDEV_KEY, HBN_REP_KEY, IFACE_ID_KEY, isOwned, OWNER_KEY, OWNER_VALUE, PEER_OF_KEY, ROLE_KEY } from '../node/ownership.js'
import { hbnPatchNames, ifNameProblem, isServiceVethName, OVN_PATCH, serviceNetnsName, patchPortNames, pfRepresentorName, serviceVethName, vfRepresentorName } from '../runtime/ports/index.js'

export const SERVICE_NETNS_ANNOTATION = 'dpu.appliance/netns'
/** DPF v25.1 shipped these NADs without DPUServiceNAD objects. */
const BUILTIN_NADS: Record<string, 'sfc' | 'hbn'> = { mybrsfc: 'sfc', mybrhbn: 'hbn' }
const DEFAULT_MTU = 1500

export interface PortSettings {
  bridges: { sfc: string; hbn: string; ovn: string }
  /** Prepended to the default service netns name (several appliances on one development host). */
  serviceNetnsPrefix?: string
}

export interface HostVeth {
  netns: string
  /** False when a Service's pod sandbox provides the namespace (the provider must not create a stand-in). */
  createNetns?: boolean
  innerName: string
  outerName: string
  mtu: number
}

/** One OVS port (with its single interface) the appliance wants. */
export interface DesiredPort {
  /** `namespace/name` of the ServiceInterface. */
  owner: string
  bridge: string
  name: string
  type: '' | 'patch'
  options: Record<string, string>
  portIds: Record<string, string>
  ifaceIds: Record<string, string>
  mtu?: number
  /** Host-side link to create before the OVS port (service interfaces). */
  veth?: HostVeth
  /** The service veth (port name) whose inner MAC this port advertises as `attached-mac` (HBN's br-sfc side). */
  macOf?: string
}

export interface InterfacePlan {
  key: string
  /** Ports of this interface (two for patch pairs, none for vlan). */
  ports: DesiredPort[]
  /** Why the interface cannot have its port (bad reference, bridge not owned, name conflict). */
  problem?: { reason: string; message: string }
  /** vlan interfaces: the parent interface key and tag. */
  vlan?: { parent: string; vlanId: number }
}

interface SiSpec {
  interfaceType: string
  physical?: { interfaceName: string }
  pf?: { pfID: number }
  vf?: { pfID: number; vfID: number }
  vlan?: { vlanID: number; parentInterfaceRef: string }
  service?: { serviceID: string; network: string; interfaceName: string }
  patch?: { peerBridge: string; bridge?: string; portName?: string; peerPortName?: string }
}

const keyOf = (o: StoredObject) => `${o.metadata.namespace}/${o.metadata.name}`

function netnsFor(si: StoredObject, serviceId: string, prefix = ''): string {
  return si.metadata.annotations?.[SERVICE_NETNS_ANNOTATION] ?? serviceNetnsName(serviceId, prefix)
}

/** What every ServiceInterface on this node needs, without looking at OVS. Pure. */
export function computeDesiredPorts(
  interfaces: readonly StoredObject[],
  nads: readonly StoredObject[],
  settings: PortSettings,
  mtus: ReadonlyMap<string, number>,
  /**
   * Who holds each port now (port name -> `namespace/name`, from OVSDB): when two interfaces want one port, the
   * holder keeps it, so a newly applied duplicate never takes a working port away from its interface.
   */
  holders: ReadonlyMap<string, string> = new Map(),
  /** serviceIDs run by a Service object: their pod sandbox owns the namespace. */
  sandboxed: ReadonlySet<string> = new Set(),
): InterfacePlan[] {
  const owned = new Set(Object.values(settings.bridges))
  const nadByKey = new Map(nads.map((n) => [keyOf(n), n]))
  const plans: InterfacePlan[] = []

  for (const si of [...interfaces].sort((a, b) => keyOf(a).localeCompare(keyOf(b)))) {
    const key = keyOf(si)
    const spec = si.spec as SiSpec
    const plan: InterfacePlan = { key, ports: [] }
    const base = (name: string, bridge: string, extra: Partial<DesiredPort> = {}): DesiredPort => ({
      owner: key,
      bridge,
      name,
      type: '',
      options: {},
      portIds: { [OWNER_KEY]: OWNER_VALUE },
      ifaceIds: { [OWNER_KEY]: OWNER_VALUE, [DPF_ID_KEY]: key },
      ...(mtus.get(key) !== undefined ? { mtu: mtus.get(key)! } : {}),
      ...extra,
    })
    const fail = (reason: string, message: string) => (plan.problem = { reason, message })
    switch (spec.interfaceType) {
      case 'physical': {
        const p = base(spec.physical!.interfaceName, settings.bridges.sfc)
        p.portIds[DPF_TYPE_KEY] = 'physical'
        plan.ports.push(p)
        break
      }
      case 'pf':
        plan.ports.push(base(pfRepresentorName(spec.pf!.pfID), settings.bridges.sfc))
        break
      case 'vf':
        plan.ports.push(base(vfRepresentorName(spec.vf!.pfID, spec.vf!.vfID), settings.bridges.sfc))
        break
      case 'service': {
        const svc = spec.service!
        const nadKey = svc.network.includes('/') ? svc.network : `${si.metadata.namespace}/${svc.network}`
        const nad = nadByKey.get(nadKey)
        const nadSpec = nad?.spec as { bridge?: string; serviceMTU?: number } | undefined
        const builtin = BUILTIN_NADS[svc.network.split('/').pop()!]
        const bridge = nadSpec ? (nadSpec.bridge ?? settings.bridges.sfc) : builtin ? settings.bridges[builtin] : undefined
        if (bridge === undefined) {
          fail('NetworkNotFound', `DPUServiceNAD ${nadKey} (spec.service.network) does not exist`)
          break
        }
        if (!owned.has(bridge)) {
          fail('BridgeNotOwned', `DPUServiceNAD ${nadKey} names bridge ${bridge}, which this appliance does not own (owned: ${[...owned].sort().join(', ')})`)
          break
        }
        // A Service's pod sandbox decides the namespace; the annotation only places interfaces no Service runs.
        const netns = sandboxed.has(svc.serviceID) ? serviceNetnsName(svc.serviceID, settings.serviceNetnsPrefix) : netnsFor(si, svc.serviceID, settings.serviceNetnsPrefix)
        const nameProblem = ifNameProblem(svc.interfaceName) ?? (/^[A-Za-z0-9_.-]{1,64}$/.test(netns) ? undefined : `netns name ${netns} is invalid`)
        if (nameProblem) {
          fail('InvalidName', nameProblem)
          break
        }
        const mtu = mtus.get(key) ?? nadSpec?.serviceMTU ?? DEFAULT_MTU
        const outerName = serviceVethName(key)
        plan.ports.push(base(outerName, bridge, { mtu, veth: { netns, innerName: svc.interfaceName, outerName, mtu, ...(sandboxed.has(svc.serviceID) ? { createNetns: false } : {}) } }))
        if (bridge === settings.bridges.hbn) plan.ports.push(...hbnPatchPair(base, key, outerName, svc.interfaceName, settings.bridges))
        break
      }
      case 'ovn': {
        const sfc = base(OVN_PATCH.onSfc, settings.bridges.sfc, { type: 'patch', options: { peer: OVN_PATCH.onOvn } })
        const ovn = base(OVN_PATCH.onOvn, settings.bridges.ovn, { type: 'patch', options: { peer: OVN_PATCH.onSfc } })
        delete ovn.ifaceIds[DPF_ID_KEY] // DPF puts the dpf-id on the br-sfc side only; the owner links both
        ovn.ifaceIds[PEER_OF_KEY] = key
        plan.ports.push(sfc, ovn)
        break
      }
      case 'patch': {
        const p = spec.patch!
        const bridge = p.bridge ?? settings.bridges.sfc
        for (const b of [bridge, p.peerBridge]) {
          if (!owned.has(b)) fail('BridgeNotOwned', `patch bridge ${b} is not owned by this appliance (owned: ${[...owned].sort().join(', ')})`)
        }
        if (plan.problem) break
        const names = patchPortNames(bridge, p.peerBridge)
        const local = p.portName ?? names.local
        const peer = p.peerPortName ?? names.peer
        const a = base(local, bridge, { type: 'patch', options: { peer } })
        const b = base(peer, p.peerBridge, { type: 'patch', options: { peer: local } })
        delete b.ifaceIds[DPF_ID_KEY]
        b.ifaceIds[PEER_OF_KEY] = key
        plan.ports.push(a, b)
        break
      }
      case 'vlan':
        plan.vlan = { parent: `${si.metadata.namespace}/${spec.vlan!.parentInterfaceRef}`, vlanId: spec.vlan!.vlanID }
        break
      default:
        fail('UnsupportedType', `interfaceType ${spec.interfaceType} is not supported`)
    }
    plans.push(plan)
  }
  const claims = new Map<string, InterfacePlan[]>()
  for (const plan of plans) for (const p of plan.ports) claims.set(p.name, [...(claims.get(p.name) ?? []), plan])
  for (const [name, claimants] of claims) {
    if (claimants.length < 2) continue
    const winner = claimants.find((c) => c.key === holders.get(name)) ?? claimants[0]!
    for (const loser of claimants) {
      if (loser === winner) continue
      loser.problem = { reason: 'PortNameConflict', message: `port ${name} is already wanted by ServiceInterface ${winner.key}` }
      loser.ports = []
    }
  }
  for (const plan of plans) {
    if (plan.vlan && !plans.some((p) => p.key === plan.vlan!.parent && !p.problem)) {
      plan.problem = { reason: 'ParentNotFound', message: `parent ServiceInterface ${plan.vlan.parent} (spec.vlan.parentInterfaceRef) does not exist or has a problem` }
    }
  }
  return plans
}

/**
 * DPF's HBN patch pair for a service interface on br-hbn (its CNI creates it at pod ADD): `p<outer>brhbn` on br-hbn
 * names the service's host interface and its name inside the pod (what HBN's nl2doca reads), `p<outer>brsfc` on
 * br-sfc carries the interface's dpf-id, so a chain on br-sfc reaches the HBN interface through it. The br-sfc side
 * advertises the service's MAC, so switches of 3+ ports forward known unicast to it.
 */
function hbnPatchPair(
  base: (name: string, bridge: string, extra?: Partial<DesiredPort>) => DesiredPort,
  key: string,
  outerName: string,
  innerName: string,
  bridges: PortSettings['bridges'],
): DesiredPort[] {
  const names = hbnPatchNames(outerName)
  const onHbn = base(names.onHbn, bridges.hbn, { type: 'patch', options: { peer: names.onSfc } })
  delete onHbn.mtu
  delete onHbn.ifaceIds[DPF_ID_KEY]
  Object.assign(onHbn.ifaceIds, { [PEER_OF_KEY]: key, [HBN_REP_KEY]: outerName, [HBN_NETDEV_KEY]: innerName })
  const onSfc = base(names.onSfc, bridges.sfc, { type: 'patch', options: { peer: names.onHbn }, macOf: outerName })
  delete onSfc.mtu
  onSfc.ifaceIds[IFACE_ID_KEY] = outerName
  return [onHbn, onSfc]
}

function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a)
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k])
}

/**
 * Adds to `txn` the minimal changes that make OVS hold exactly the desired ports we own; `macs` gives the
 * attached MAC of service ports (known after their veth exists). Returns the changes (empty: nothing to do).
 */
export function planPorts(
  plans: readonly InterfacePlan[],
  macs: ReadonlyMap<string, string>,
  cache: TableCache,
  txn: TransactionBuilder,
  /** Ports to (re)create with this `ofport_request`: a re-opened port keeps its number, so its flows stay. */
  ofportRequests: ReadonlyMap<string, number> = new Map(),
): string[] {
  const changes: string[] = []
  const wanted = new Map<string, DesiredPort>()
  for (const plan of plans) if (!plan.problem) for (const p of plan.ports) wanted.set(p.name, p)

  for (const want of [...wanted.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const bridge = cache.bridge(want.bridge)
    if (!bridge) continue // the bridges loop creates it; the change event brings us back
    const mac = macs.get(want.macOf ?? want.name)
    const ifaceIds = { ...want.ifaceIds, ...(mac ? { [ATTACHED_MAC_KEY]: mac } : {}) }
    const port = cache.port(want.name)
    if (port && !isOwned(port)) continue // a foreign port of that name: never take it over
    const onBridge = port ? bridge.ports.includes(port._uuid) : false
    if (port && !onBridge) {
      // Ours, but on another bridge (the NAD changed): remove it there; it is re-created below next pass.
      const other = cache.bridges().find((b) => b.ports.includes(port._uuid))
      if (other) txn.mutate('Bridge', whereUuid(other._uuid), [['ports', 'delete', [port._uuid]]])
      changes.push(`move port ${want.name} from ${other?.name ?? '?'} to ${want.bridge}`)
      continue
    }
    if (!port) {
      const iface = txn.insert('Interface', {
        name: want.name,
        type: want.type,
        options: want.options,
        external_ids: ifaceIds,
        ...(want.mtu !== undefined ? { mtu_request: want.mtu } : {}),
        ...(ofportRequests.has(want.name) ? { ofport_request: ofportRequests.get(want.name)! } : {}),
      })
      const p = txn.insert('Port', { name: want.name, interfaces: [iface], external_ids: want.portIds })
      txn.mutate('Bridge', whereUuid(bridge._uuid), [['ports', 'insert', [p]]])
      changes.push(`add port ${want.name} to ${want.bridge} for ${want.owner}`)
      continue
    }
    if (!sameMap(port.external_ids, want.portIds)) {
      txn.update('Port', whereUuid(port._uuid), { external_ids: want.portIds })
      changes.push(`port ${want.name}: external_ids`)
    }
    const iface = cache.interface(want.name)
    if (iface) {
      const update: Record<string, string | number | Record<string, string> | null> = {}
      if (iface.type !== want.type) update.type = want.type
      if (!sameMap(iface.options, want.options)) update.options = want.options
      if (!sameMap(iface.external_ids, ifaceIds)) update.external_ids = ifaceIds
      if ((want.mtu ?? null) !== iface.mtu_request) update.mtu_request = want.mtu ?? null
      if (Object.keys(update).length > 0) {
        txn.update('Interface', whereUuid(iface._uuid), update)
        changes.push(`interface ${want.name}: ${Object.keys(update).sort().join(', ')}`)
      }
    }
  }
  // Garbage: ports we own (marked, with a dpf-id or peer link) that no interface wants. Bridge internal ports
  // (no dpf-id) are the bridges loop's business.
  for (const bridge of cache.bridges()) {
    const stale = cache
      .portsOf(bridge)
      .filter((p) => isOwned(p) && !wanted.has(p.name))
      .filter((p) => cache.interfacesOf(p).some((i) => i.external_ids[DPF_ID_KEY] !== undefined || i.external_ids[PEER_OF_KEY] !== undefined))
    if (stale.length > 0) {
      txn.mutate('Bridge', whereUuid(bridge._uuid), [['ports', 'delete', stale.map((p) => p._uuid)]])
      changes.push(`remove ${stale.map((p) => p.name).join(', ')} from ${bridge.name}`)
    }
  }
  return changes
}

/** Port name -> the interface (`namespace/name`) whose port it is now, from the owner marks in OVSDB. */
export function readPortHolders(cache: TableCache): Map<string, string> {
  const out = new Map<string, string>()
  for (const port of cache.ports()) {
    if (!isOwned(port)) continue
    for (const iface of cache.interfacesOf(port)) {
      const id = iface.external_ids[DPF_ID_KEY] ?? iface.external_ids[PEER_OF_KEY]
      if (id) out.set(port.name, id)
    }
  }
  return out
}

/** Outer veth names of service ports we own in OVS that no interface wants (their host side goes too). */
export function staleServiceVeths(plans: readonly InterfacePlan[], cache: TableCache): string[] {
  const wanted = new Set(plans.flatMap((p) => (p.problem ? [] : p.ports.map((x) => x.name))))
  return cache
    .ports()
    .filter((p) => isOwned(p) && !wanted.has(p.name) && isServiceVethName(p.name))
    .map((p) => p.name)
}

export interface ObservedInterface {
  bridge?: string
  ofport?: number
  mac?: string
  error?: string
  /** The chain-facing port's name. */
  port?: string
  /** HBN interfaces: the service's own port on br-hbn and the ofport of its patch twin there, wired to each other. */
  hbn?: { bridge: string; port: string; ofport?: number; patchOfport?: number; error?: string }
}

/**
 * For each interface key with a port: its chain-facing port (bridge, ofport, attached MAC, vswitchd error), from
 * the cache. An HBN interface has two ports with its dpf-id, its service port on br-hbn and the br-sfc side of its
 * patch pair; chains reach it through the br-sfc side (DPF's `findInterface` fallback), the br-hbn side is `hbn`.
 */
export function readObservedInterfaces(cache: TableCache): Map<string, ObservedInterface> {
  const bridgeOfPort = new Map<string, { name: string; role: string | undefined }>()
  for (const b of cache.bridges()) for (const p of b.ports) bridgeOfPort.set(p, { name: b.name, role: b.external_ids[ROLE_KEY] })
  /** Per dpf-id, every owned port carrying it, with the role of its bridge. */
  const candidates = new Map<string, Array<{ o: ObservedInterface; role: string | undefined }>>()
  /** HBN patch ofport on br-hbn, by the name of the service port it serves. */
  const patchOfports = new Map<string, number>()
  for (const port of cache.ports()) {
    for (const iface of cache.interfacesOf(port)) {
      if (!isOwned(iface)) continue
      const repName = iface.external_ids[HBN_REP_KEY]
      if (repName !== undefined && typeof iface.ofport === 'number') patchOfports.set(repName, iface.ofport)
      const id = iface.external_ids[DPF_ID_KEY]
      if (!id) continue
      const bridge = bridgeOfPort.get(port._uuid)
      const o: ObservedInterface = { port: port.name }
      if (bridge) o.bridge = bridge.name
      if (typeof iface.ofport === 'number') o.ofport = iface.ofport
      const mac = iface.external_ids[ATTACHED_MAC_KEY]
      if (mac) o.mac = mac
      if (iface.error) o.error = iface.error
      candidates.set(id, [...(candidates.get(id) ?? []), { o, role: bridge?.role }])
    }
  }
  const out = new Map<string, ObservedInterface>()
  for (const [id, list] of candidates) {
    const chainFacing = list.find((c) => c.role !== 'hbn') ?? list[0]!
    const hbnSide = list.find((c) => c.role === 'hbn' && c !== chainFacing)
    if (hbnSide?.o.bridge !== undefined && hbnSide.o.port !== undefined) {
      const patchOfport = patchOfports.get(hbnSide.o.port)
      chainFacing.o.hbn = {
        bridge: hbnSide.o.bridge,
        port: hbnSide.o.port,
        ...(hbnSide.o.ofport !== undefined ? { ofport: hbnSide.o.ofport } : {}),
        ...(patchOfport !== undefined ? { patchOfport } : {}),
        ...(hbnSide.o.error ? { error: hbnSide.o.error } : {}),
      }
    }
    out.set(id, chainFacing.o)
  }
  return out
}
