/**
 * The block of a DPUServiceIPAM pool that belongs to this node, and the addresses it hands out (reference/dpf.md
 * §2.10; DPF renders the pool into an NVIPAM CIDRPool or IPPool, which hand out addresses the same way):
 *
 *   ipv4Network {network, prefixSize, gatewayIndex, exclusions, allocations}   a subnet of `prefixSize` per node,
 *       `allocations[node]` when given, with its own gateway at `subnet + gatewayIndex`; interfaces get
 *       `address/prefixSize`. /31 and /32 subnets use every address (point-to-point, loopbacks).
 *   ipv4Subnet {subnet, gateway, perNodeIPCount}   one shared subnet and gateway; each node gets `perNodeIPCount`
 *       consecutive addresses from the first usable one; interfaces get `address/<subnet prefix>`.
 *
 * The gateway and excluded ranges are never handed out. Pure: IPv4 arithmetic on unsigned 32-bit numbers.
 * XXX: which subnet (ipv4Network without `allocations[node]`) or block (ipv4Subnet) a node gets is a fleet-wide
 * decision (NVIPAM's controller makes it in DPF); without a hub that makes it, an appliance takes the first one,
 * which is right for a standalone DPU and collides when two DPUs share one pool.
 */

export interface PoolSpec {
  ipv4Network?: {
    network: string
    prefixSize: number
    gatewayIndex?: number
    exclusions?: Array<{ startIP?: string; endIP?: string }>
    allocations?: Record<string, string>
    defaultGateway?: boolean
    routes?: Array<{ dst: string }>
  }
  ipv4Subnet?: { subnet: string; gateway: string; perNodeIPCount: number; defaultGateway?: boolean; routes?: Array<{ dst: string }> }
}

/** This node's share of a pool. */
export interface NodeBlock {
  /** The subnet the interface addresses live in (`10.0.120.0/29`). */
  subnet: string
  prefixLength: number
  gateway?: string
  /** Extra routes (destination CIDRs) through the gateway. */
  routes: string[]
  /** Addresses to hand out, lowest first. */
  size: number
  candidates: () => Generator<string>
  contains: (address: string) => boolean
}

export type NodeBlockResult = { block: NodeBlock } | { problem: string }

export function parseIpv4(s: string): number {
  const parts = s.split('.').map(Number)
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
}

function parseCidr(cidr: string): { base: number; prefixLength: number } {
  const [ip, len] = cidr.split('/')
  const prefixLength = Number(len)
  return { base: (parseIpv4(ip!) & mask(prefixLength)) >>> 0, prefixLength }
}

function mask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0
}

/** First and last address an interface may get in a subnet: all of a /31 or /32, else without network and broadcast. */
function usableRange(base: number, prefixLength: number): [number, number] {
  const last = base + 2 ** (32 - prefixLength) - 1
  return prefixLength >= 31 ? [base, last] : [base + 1, last - 1]
}

function block(subnet: { base: number; prefixLength: number }, first: number, last: number, excluded: (n: number) => boolean, gateway: number | undefined, routes: string[]): NodeBlock {
  const ok = (n: number) => n >= first && n <= last && n !== gateway && !excluded(n)
  let size = 0
  for (let n = first; n <= last; n++) if (ok(n)) size++
  return {
    subnet: `${formatIpv4(subnet.base)}/${subnet.prefixLength}`,
    prefixLength: subnet.prefixLength,
    ...(gateway !== undefined ? { gateway: formatIpv4(gateway) } : {}),
    routes,
    size,
    candidates: function* () {
      for (let n = first; n <= last; n++) if (ok(n)) yield formatIpv4(n)
    },
    contains: (address) => ok(parseIpv4(address)),
  }
}

/** This node's block of `pool` (`poolKey` names it in problems). Pure. */
export function computeNodeBlock(poolKey: string, pool: PoolSpec, nodeName: string): NodeBlockResult {
  const net = pool.ipv4Network
  if (net) {
    const network = parseCidr(net.network)
    const assigned = net.allocations?.[nodeName]
    const subnet = assigned !== undefined ? parseCidr(assigned) : { base: network.base, prefixLength: net.prefixSize }
    if (assigned !== undefined) {
      if (subnet.prefixLength !== net.prefixSize) return { problem: `DPUServiceIPAM ${poolKey}: allocations.${nodeName} ${assigned} is not a /${net.prefixSize} (prefixSize)` }
      if ((subnet.base & mask(network.prefixLength)) >>> 0 !== network.base) return { problem: `DPUServiceIPAM ${poolKey}: allocations.${nodeName} ${assigned} is outside network ${net.network}` }
    }
    const size = 2 ** (32 - subnet.prefixLength)
    let gateway: number | undefined
    if (net.gatewayIndex !== undefined) {
      if (net.gatewayIndex >= size) return { problem: `DPUServiceIPAM ${poolKey}: gatewayIndex ${net.gatewayIndex} is outside a /${subnet.prefixLength} (${size} addresses)` }
      gateway = subnet.base + net.gatewayIndex
    }
    const ranges = (net.exclusions ?? []).map((e) => {
      const start = e.startIP !== undefined ? parseIpv4(e.startIP) : 0
      return [start, e.endIP !== undefined ? parseIpv4(e.endIP) : start] as const
    })
    const excluded = (n: number) => ranges.some(([a, b]) => n >= a && n <= b)
    const [first, last] = usableRange(subnet.base, subnet.prefixLength)
    return {
      block: block(
        subnet,
        first,
        last,
        excluded,
        gateway,
        (net.routes ?? []).map((r) => r.dst),
      ),
    }
  }
  const sub = pool.ipv4Subnet
  if (!sub) return { problem: `DPUServiceIPAM ${poolKey}: neither ipv4Network nor ipv4Subnet is set` }
  const subnet = parseCidr(sub.subnet)
  const gateway = parseIpv4(sub.gateway)
  const [usableFirst, usableLast] = usableRange(subnet.base, subnet.prefixLength)
  if (gateway < subnet.base || gateway > subnet.base + 2 ** (32 - subnet.prefixLength) - 1) return { problem: `DPUServiceIPAM ${poolKey}: gateway ${sub.gateway} is outside subnet ${sub.subnet}` }
  // Block 0: see the XXX above.
  const first = usableFirst
  const last = Math.min(usableLast, first + sub.perNodeIPCount - 1)
  return {
    block: block(
      subnet,
      first,
      last,
      () => false,
      gateway,
      (sub.routes ?? []).map((r) => r.dst),
    ),
  }
}
