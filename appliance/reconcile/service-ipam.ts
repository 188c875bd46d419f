/**
 * IPAM for service interfaces, the part of the CNI role DPF gives NVIPAM (reference/dpf.md §2.8-2.10):
 *
 *   DPUServiceNAD.spec.ipam: true          the interface's network asks for an address (DPF v25.1's built-in
 *                                          `mybrsfc` carries nv-ipam, so it does too when a chain asks)
 *   ServiceChain port {serviceInterface: {matchLabels, ipam: {matchLabels, defaultGateway, setDefaultRoute}}}
 *                                          selects the interface and, by label, its DPUServiceIPAM pool
 *   DPUServiceIPAM                         this node's block of the pool (ipam-pool.ts)
 *
 * Each interface that asks gets one address from its pool's block for this node, recorded in the store
 * (`ipamAllocations`, keyed by pool and dpf-id) before it is used, so it keeps that address across appliance
 * restarts and veth re-creations. The address (plus routes through the gateway, and a default route when the chain
 * says `setDefaultRoute`) is put on the interface inside the service's namespace, level-triggered. An allocation
 * whose interface is gone, stopped asking, changed pool, or whose address left the block is released, and the
 * address is taken off the interface if it is still there. Problems (no pool, two pools, an exhausted block)
 * are the interface's condition, never another interface's.
 */
import type { StoredObject } from '../../api/meta.js'
import type { NodeSelector } from '../../api/resources/common.js'
import { matchesLabels, matchesNodeSelector } from '../../api/resources/selector-match.js'
import type { Logger } from '../observe/index.js'
import { ensureIpv4, removeIpv4, type CommandRunner } from '../runtime/ports/index.js'
import type { Store } from '../store/index.js'
import { computeNodeBlock, type NodeBlock, type PoolSpec } from './ipam-pool.js'
import type { InterfacePlan } from './ports.js'

const SVC = 'svc.dpu.nvidia.com/v1alpha1'
/** DPF v25.1's fixed NAD on br-sfc is `{"type":"ovs",...,"ipam":{"type":"nv-ipam"}}`. */
const BUILTIN_IPAM_NADS = new Set(['mybrsfc'])

export interface IpamProblem {
  reason: 'IpamNotRequested' | 'IpamConflict' | 'IpamPoolNotFound' | 'IpamPoolAmbiguous' | 'IpamPoolInvalid' | 'IpamPoolExhausted' | 'AddressFailed'
  message: string
}

/** What an interface asks for: a pool (by key) and this node's block of it. */
export interface IpamWant {
  pool: string
  block: NodeBlock
  defaultRoute: boolean
}

/** The address an interface holds, as reported in its status (`status.ipam`). */
export interface IpamAssignment {
  pool: string
  /** `a.b.c.d/len`, as on the interface. */
  address: string
  subnet: string
  gateway?: string
  routes: string[]
  defaultRoute: boolean
}

export type IpamResult = { assignment: IpamAssignment } | { problem: IpamProblem }

export interface IpamInputs {
  interfaces: readonly StoredObject[]
  chains: readonly StoredObject[]
  nads: readonly StoredObject[]
  pools: readonly StoredObject[]
}

export interface IpamNode {
  name: string
  /**
   * The node's labels, for a pool's `nodeSelector` (a corev1.NodeSelector); when unknown, `nodeSelector` is not
   * evaluated: the hub already sends a pool only to the DPUs it selects (api/render/render-for-node.ts).
   */
  labels?: Readonly<Record<string, string>>
}

interface ChainIpam {
  matchLabels: Record<string, string>
  defaultGateway?: boolean
  setDefaultRoute?: boolean
}
interface ChainSpec {
  switches: Array<{ ports: Array<{ serviceInterface: { matchLabels: Record<string, string>; ipam?: ChainIpam } }> }>
}
interface SiSpec {
  interfaceType: string
  service?: { network: string }
}
interface IpamObjectSpec extends PoolSpec {
  metadata?: { labels?: Record<string, string> }
  nodeSelector?: NodeSelector
}

const keyOf = (o: StoredObject) => `${o.metadata.namespace}/${o.metadata.name}`

/** The DPUServiceIPAM objects in the store (fleet kind, stored as applied). */
export function readIpamPools(store: Store): StoredObject[] {
  return store.objects.list({ apiVersion: SVC, kind: 'DPUServiceIPAM' })
}

function nadAsksForIpam(si: StoredObject, nads: ReadonlyMap<string, StoredObject>): boolean | 'builtin' {
  const network = (si.spec as SiSpec).service!.network
  const nad = nads.get(network.includes('/') ? network : `${si.metadata.namespace}/${network}`)
  if (nad) return (nad.spec as { ipam?: boolean }).ipam === true
  return BUILTIN_IPAM_NADS.has(network.split('/').pop()!) ? 'builtin' : false
}

/** Which interfaces want an address from which pool, or why they cannot have one. Pure. */
export function computeIpamWants(inputs: IpamInputs, node: IpamNode): Map<string, IpamWant | { problem: IpamProblem }> {
  const nads = new Map(inputs.nads.map((n) => [keyOf(n), n]))
  const services = inputs.interfaces.filter((si) => (si.spec as SiSpec).interfaceType === 'service')
  /** Interface key -> the chain ports' ipam asking for it, with where each comes from. */
  const asked = new Map<string, Array<{ ipam: ChainIpam; from: string }>>()
  for (const chain of [...inputs.chains].sort((a, b) => keyOf(a).localeCompare(keyOf(b)))) {
    ;(chain.spec as ChainSpec).switches.forEach((sw, s) =>
      sw.ports.forEach((port, p) => {
        const ipam = port.serviceInterface.ipam
        if (!ipam) return
        // A selector that does not pick exactly one interface is the chains reconciler's problem to report.
        const picked = services.filter((si) => matchesLabels(port.serviceInterface.matchLabels, si.metadata.labels ?? {}))
        if (picked.length !== 1) return
        const k = keyOf(picked[0]!)
        asked.set(k, [...(asked.get(k) ?? []), { ipam, from: `ServiceChain ${keyOf(chain)} switches[${s}].ports[${p}]` }])
      }),
    )
  }
  const out = new Map<string, IpamWant | { problem: IpamProblem }>()
  for (const si of services) {
    const key = keyOf(si)
    const nad = nadAsksForIpam(si, nads)
    const requests = asked.get(key) ?? []
    if (nad === false || (nad === 'builtin' && requests.length === 0)) continue
    const network = (si.spec as SiSpec).service!.network
    const fail = (reason: IpamProblem['reason'], message: string) => out.set(key, { problem: { reason, message } })
    if (requests.length === 0) {
      fail('IpamNotRequested', `DPUServiceNAD ${network} asks for IPAM, but no ServiceChain port with ipam selects this interface`)
      continue
    }
    const first = requests[0]!
    const other = requests.find((r) => JSON.stringify(r.ipam) !== JSON.stringify(first.ipam))
    if (other) {
      fail('IpamConflict', `${first.from} and ${other.from} give this interface different ipam settings`)
      continue
    }
    const pools = inputs.pools.filter((pool) => {
      const spec = pool.spec as IpamObjectSpec
      const labels = { ...pool.metadata.labels, ...spec.metadata?.labels }
      const onNode = node.labels === undefined || matchesNodeSelector(spec.nodeSelector, { name: node.name, labels: node.labels })
      return onNode && matchesLabels(first.ipam.matchLabels, labels)
    })
    const selector = JSON.stringify(first.ipam.matchLabels)
    if (pools.length === 0) {
      fail('IpamPoolNotFound', `no DPUServiceIPAM for node ${node.name} has labels ${selector} (${first.from})`)
      continue
    }
    if (pools.length > 1) {
      fail('IpamPoolAmbiguous', `DPUServiceIPAMs ${pools.map(keyOf).sort().join(', ')} all have labels ${selector}; exactly one must (${first.from})`)
      continue
    }
    const pool = keyOf(pools[0]!)
    const block = computeNodeBlock(pool, pools[0]!.spec as PoolSpec, node.name)
    if ('problem' in block) {
      fail('IpamPoolInvalid', block.problem)
      continue
    }
    out.set(key, { pool, block: block.block, defaultRoute: first.ipam.setDefaultRoute === true })
  }
  return out
}

/**
 * Brings the store's allocations in line with `wants`: releases what no interface may keep, allocates for the
 * interfaces without an address. Returns each wanting interface's result and the released allocations.
 */
export function commitIpamAllocations(
  table: Store['ipamAllocations'],
  wants: ReadonlyMap<string, IpamWant | { problem: IpamProblem }>,
): { results: Map<string, IpamResult>; released: Array<{ interface: string; address: string }> } {
  const released: Array<{ interface: string; address: string }> = []
  for (const a of table.list()) {
    const want = wants.get(a.interface)
    if (want && !('problem' in want) && want.pool === a.pool && want.block.contains(a.address)) continue
    table.release(a.pool, a.interface)
    released.push({ interface: a.interface, address: a.address })
  }
  const results = new Map<string, IpamResult>()
  for (const [key, want] of wants) {
    if ('problem' in want) {
      results.set(key, want)
      continue
    }
    const got = table.allocate(want.pool, key, want.block.candidates())
    if (!got) {
      results.set(key, {
        problem: { reason: 'IpamPoolExhausted', message: `DPUServiceIPAM ${want.pool}: all ${want.block.size} addresses of this node's block in ${want.block.subnet} are allocated` },
      })
      continue
    }
    const b = want.block
    results.set(key, {
      assignment: {
        pool: want.pool,
        address: `${got.address}/${b.prefixLength}`,
        subnet: b.subnet,
        ...(b.gateway !== undefined ? { gateway: b.gateway } : {}),
        routes: b.gateway !== undefined ? b.routes : [],
        defaultRoute: want.defaultRoute && b.gateway !== undefined,
      },
    })
  }
  return { results, released }
}

export interface ServiceIpamDeps {
  store: Store
  node: IpamNode
  log: Logger
  run?: CommandRunner
}

/**
 * The ports pass's IPAM step, after the service veths exist: allocations, then each address on its interface
 * inside the service namespace. Returns per interface key what its status should say.
 */
export async function applyServiceIpam(deps: ServiceIpamDeps, plans: readonly InterfacePlan[], inputs: IpamInputs): Promise<Map<string, IpamResult>> {
  const wants = computeIpamWants(inputs, deps.node)
  const { results, released } = deps.store.batch(() => commitIpamAllocations(deps.store.ipamAllocations, wants))
  const vethOf = new Map<string, { netns: string; innerName: string }>()
  for (const plan of plans) {
    const veth = plan.ports[0]?.veth
    if (!plan.problem && veth) vethOf.set(plan.key, veth)
  }
  const options = (netns: string) => ({ netns, ...(deps.run ? { run: deps.run } : {}) })
  for (const r of released) {
    deps.log.info({ interface: r.interface, address: r.address }, 'IPAM address released')
    const veth = vethOf.get(r.interface)
    if (!veth) continue
    try {
      await removeIpv4(veth.innerName, r.address, options(veth.netns))
    } catch (err) {
      deps.log.warn({ interface: r.interface, address: r.address, err }, 'released address could not be taken off its interface')
    }
  }
  for (const [key, result] of results) {
    const veth = vethOf.get(key)
    if (!('assignment' in result) || !veth) continue
    const a = result.assignment
    try {
      const actions = await ensureIpv4(
        veth.innerName,
        { address: a.address, routes: a.routes, defaultRoute: a.defaultRoute, ...(a.gateway !== undefined ? { gateway: a.gateway } : {}) },
        options(veth.netns),
      )
      if (actions.length > 0) deps.log.info({ interface: key, netns: veth.netns, actions }, 'IPAM address applied')
    } catch (err) {
      results.set(key, { problem: { reason: 'AddressFailed', message: `${a.address} on ${veth.netns}/${veth.innerName}: ${(err as Error).message}` } })
    }
  }
  return results
}

/** Status members and, for a problem, the Ready override of one interface's IPAM result. */
export function ipamStatus(result: IpamResult | undefined): { extra: Record<string, unknown>; problem?: IpamProblem; note: string } {
  if (!result) return { extra: {}, note: '' }
  if ('problem' in result) return { extra: {}, problem: result.problem, note: '' }
  const a = result.assignment
  return { extra: { ipam: a }, note: `; address ${a.address} from ${a.pool}${a.gateway ? ` (gateway ${a.gateway})` : ''}` }
}
