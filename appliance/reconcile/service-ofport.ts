/**
 * Stable `ofport_request` for the ports the appliance creates in the CNI role (service veths and their HBN patch
 * pair), as DPF's ovs-cni chooses it (`third_party/forked/ovs-cni/pkg/plugin`, `hashToOFPort` / `resolveOFPort`):
 *
 *   candidate = 32768 + FNV-1a-32(interface name) mod 32512        (the range OVS leaves to controllers,
 *                                                                   vswitch.xml `ofport_request`: 32768..65279)
 *   probe i   = 32768 + (candidate - 32768 + i) mod 32512, i = 1, 2, ... while the slot is used
 *   used      = every Interface's ofport (> 0) and ofport_request, on ALL bridges
 *
 * A service port deleted and re-created (service restart, netns replaced, interface re-applied) hashes to the
 * same number, so the chain flows naming it stay valid and are not re-sent. The transaction that inserts a port
 * also waits until no Interface holds that `ofport_request` (DPF's `WaitForOFPortFree`): a writer racing us makes
 * our transaction fail (retried next pass with a fresh cache) instead of leaving two rows asking for one number.
 */
import type { TableCache, TransactionBuilder } from '../ovs/ovsdb/index.js'
import { fnv1a32 } from '../sfc/cookie.js'
import type { InterfacePlan } from './ports.js'

/** OVS assigns 1..32767 by itself; controllers own 32768..65279 (OFPP_MAX is 0xff00). */
export const OFPORT_REQUEST_MIN = 32768
export const OFPORT_REQUEST_MAX = 65279
const OFPORT_REQUEST_COUNT = OFPORT_REQUEST_MAX - OFPORT_REQUEST_MIN + 1

/** DPF's hash candidate for an interface name, in 32768..65279. */
export function hashToOfport(name: string): number {
  return OFPORT_REQUEST_MIN + (fnv1a32(Buffer.from(name, 'utf8')) % OFPORT_REQUEST_COUNT)
}

/** The first free slot from the hash candidate on, probing linearly (wrapping); undefined when all are used. */
export function resolveOfport(name: string, used: ReadonlySet<number>): number | undefined {
  const candidate = hashToOfport(name)
  for (let i = 0; i < OFPORT_REQUEST_COUNT; i++) {
    const probe = OFPORT_REQUEST_MIN + ((candidate - OFPORT_REQUEST_MIN + i) % OFPORT_REQUEST_COUNT)
    if (!used.has(probe)) return probe
  }
  return undefined
}

/**
 * Ofports in use on every bridge: each Interface's ofport (vswitchd assigned it) and its ofport_request (claimed,
 * possibly still being configured). DPF counts the request only while the ofport is unset; counting both is a
 * superset that never probes differently when vswitchd honoured the request, and keeps a row whose request was
 * not honoured (ofport != ofport_request) from making the `wait` guard below fail on every pass. Ports in
 * `except` are about to be removed and re-added; their slots are free.
 */
export function readUsedOfports(cache: Pick<TableCache, 'interfaces'>, except: ReadonlySet<string> = new Set()): Set<number> {
  const used = new Set<number>()
  for (const iface of cache.interfaces()) {
    if (except.has(iface.name)) continue
    if (typeof iface.ofport === 'number' && iface.ofport > 0) used.add(iface.ofport)
    if (typeof iface.ofport_request === 'number' && iface.ofport_request > 0) used.add(iface.ofport_request)
  }
  return used
}

/**
 * `ofport_request` for each CNI-role port this pass inserts: ports of service interfaces (the veth's port and,
 * on br-hbn, the patch pair) that OVS does not have yet, or that are re-opened (`reopened`: port name -> the
 * ofport it had, kept when known so flows stay exactly as they are). Names are resolved in sorted order, each
 * result marked used before the next, so two names with one candidate get candidate and candidate + 1. Pure.
 */
export function computeServiceOfportRequests(
  plans: readonly InterfacePlan[],
  cache: Pick<TableCache, 'port' | 'interfaces'>,
  reopened: ReadonlyMap<string, number | undefined> = new Map(),
): Map<string, number> {
  const names: string[] = []
  for (const plan of plans) {
    if (plan.problem || plan.ports[0]?.veth === undefined) continue
    for (const port of plan.ports) if (reopened.has(port.name) || cache.port(port.name) === undefined) names.push(port.name)
  }
  const used = readUsedOfports(cache, new Set(reopened.keys()))
  const out = new Map<string, number>()
  // Kept numbers first, so a new name never probes into the slot a re-opened port is about to take back.
  for (const [name, ofport] of reopened) {
    if (ofport === undefined || !names.includes(name)) continue
    out.set(name, ofport)
    used.add(ofport)
  }
  for (const name of names.sort()) {
    if (out.has(name)) continue
    const ofport = resolveOfport(name, used)
    // All 32,512 slots used: leave the choice to vswitchd, as DPF does.
    if (ofport === undefined) continue
    out.set(name, ofport)
    used.add(ofport)
  }
  return out
}

/** Makes `txn` fail unless no Interface claims any of the requested numbers (RFC 7047 §5.2.6, timeout 0). */
export function guardOfportRequests(txn: TransactionBuilder, requests: ReadonlyMap<string, number>): void {
  for (const ofport of new Set(requests.values())) txn.wait('Interface', [['ofport_request', '==', ofport]], ['ofport_request'], [])
}
