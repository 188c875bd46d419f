/**
 * What `dpuctl appliance cleanup` removes from a machine, computed from what OVS and the host show and what the
 * appliance recorded. Pure: the caller reads OVSDB, `ip netns`, `ip link` and the store, then applies the plan
 * (`cleanup-apply.ts`) or prints it (`--dry-run`).
 *
 * Ours, and removed:
 *   - every bridge marked `external_ids:owner=dpu-appliance`, including one adopted by its configured name (the
 *     appliance marked it; a foreign port on it goes with it, and the plan names such ports);
 *   - every port with the owner marker on a bridge that is not ours;
 *   - service veths: recorded in the store, or the outer end of an owned `sv<10 hex>` port;
 *   - network namespaces the store recorded as created by the appliance.
 * Not ours, and kept (named in the plan): unmarked bridges, and `<prefix>svc-*` namespaces without a record. A
 * name prefix is no proof of ownership: a service's runtime may create `svc-*` itself, and a namespace may hold
 * a running service. Records of things that are gone are dropped.
 */
import { isOwned } from '../node/ownership.js'
import type { TableCache } from '../ovs/ovsdb/index.js'
import { isServiceVethName } from '../runtime/ports/index.js'
import type { HostResource } from '../store/index.js'

/** The host as read before planning. */
export interface ObservedHost {
  /** Named network namespaces (`ip netns list`). */
  netns: readonly string[]
  /** Link names by network namespace ('' = ours) for every namespace a veth may live in. */
  links: ReadonlyMap<string, ReadonlySet<string>>
}

export interface CleanupSettings {
  /** ovs-vswitchd's namespace, where the outer end of an unrecorded service veth lives (absent: ours). */
  ovsNetns?: string
  /** Service namespaces are `<prefix>svc-<serviceID>`: unrecorded ones of that shape are reported as kept. */
  serviceNetnsPrefix: string
}

export interface BridgeRemoval {
  name: string
  uuid: string
  /** Ports without the owner marker that sit on the bridge and go with it. */
  foreignPorts: string[]
}

export interface PortRemoval {
  name: string
  uuid: string
  bridge: string
  bridgeUuid: string
}

export interface CleanupPlan {
  bridges: BridgeRemoval[]
  ports: PortRemoval[]
  veths: HostResource[]
  netns: string[]
  /** Records naming something that no longer exists: forgotten, nothing to run. */
  staleRecords: HostResource[]
  kept: { bridges: string[]; netns: string[] }
}

const vethKey = (netns: string | undefined, name: string) => `${netns ?? ''}\0${name}`

/** The plan for `cache` (undefined: OVS left alone, `--ovsdb none`), the store's records and the host. */
export function computeCleanupPlan(cache: TableCache | undefined, recorded: readonly HostResource[], host: ObservedHost, settings: CleanupSettings): CleanupPlan {
  const plan: CleanupPlan = { bridges: [], ports: [], veths: [], netns: [], staleRecords: [], kept: { bridges: [], netns: [] } }
  const vethCandidates = new Map<string, HostResource & { recorded: boolean }>()
  for (const r of recorded) if (r.kind === 'veth') vethCandidates.set(vethKey(r.netns, r.name), { ...r, recorded: true })

  for (const bridge of [...(cache?.bridges() ?? [])].sort((a, b) => a.name.localeCompare(b.name))) {
    const ports = cache!.portsOf(bridge)
    if (isOwned(bridge)) {
      plan.bridges.push({
        name: bridge.name,
        uuid: bridge._uuid,
        foreignPorts: ports
          .filter((p) => !isOwned(p))
          .map((p) => p.name)
          .sort(),
      })
    } else {
      plan.kept.bridges.push(bridge.name)
      for (const p of ports) if (isOwned(p)) plan.ports.push({ name: p.name, uuid: p._uuid, bridge: bridge.name, bridgeUuid: bridge._uuid })
    }
    for (const p of ports) {
      const key = vethKey(settings.ovsNetns, p.name)
      if (isOwned(p) && isServiceVethName(p.name) && !vethCandidates.has(key)) {
        vethCandidates.set(key, { kind: 'veth', name: p.name, ...(settings.ovsNetns ? { netns: settings.ovsNetns } : {}), recorded: false })
      }
    }
  }

  for (const { recorded: isRecorded, ...veth } of vethCandidates.values()) {
    if (host.links.get(veth.netns ?? '')?.has(veth.name)) plan.veths.push(veth)
    else if (isRecorded) plan.staleRecords.push(veth)
  }
  plan.veths.sort((a, b) => a.name.localeCompare(b.name))

  const present = new Set(host.netns)
  const recordedNetns = new Set<string>()
  for (const r of recorded) {
    if (r.kind !== 'netns') continue
    recordedNetns.add(r.name)
    if (present.has(r.name)) plan.netns.push(r.name)
    else plan.staleRecords.push(r)
  }
  plan.netns.sort()
  const shape = `${settings.serviceNetnsPrefix}svc-`
  plan.kept.netns = host.netns.filter((n) => n.startsWith(shape) && !recordedNetns.has(n)).sort()
  return plan
}

/** Whether the plan removes anything (stale records alone are bookkeeping). */
export function isEmptyPlan(plan: CleanupPlan): boolean {
  return plan.bridges.length + plan.ports.length + plan.veths.length + plan.netns.length === 0
}

/** One line per removal, in the order they are applied: `bridge br-sfc`, `veth sv0123456789 (netns ovs)`. */
export function describeRemovals(plan: CleanupPlan): string[] {
  return [
    ...plan.bridges.map((b) => `bridge ${b.name}${b.foreignPorts.length > 0 ? ` (with foreign port(s) ${b.foreignPorts.join(', ')} on it)` : ''}`),
    ...plan.ports.map((p) => `port ${p.name} from bridge ${p.bridge}`),
    ...plan.veths.map(describeVeth),
    ...plan.netns.map((n) => `netns ${n}`),
  ]
}

/** One line per thing left alone on purpose, with the reason. */
export function describeKept(plan: CleanupPlan): string[] {
  return [
    ...plan.kept.bridges.map((b) => `bridge ${b} (not marked owner=dpu-appliance)`),
    ...plan.kept.netns.map((n) => `netns ${n} (not recorded as created by this appliance; remove it by hand if it is a leftover)`),
  ]
}

export function describeVeth(v: HostResource): string {
  return `veth ${v.name}${v.netns ? ` (netns ${v.netns})` : ''}`
}
