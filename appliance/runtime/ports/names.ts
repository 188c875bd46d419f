/**
 * Names of the host interfaces and OVS ports the port providers create or expect, as DPF names them
 * (reference/dpf.md §3.2), and the kernel's rule for interface names. Every name here is a pure function of its
 * inputs, so a restarted appliance finds what it created before.
 */
import { createHash } from 'node:crypto'
import { InvalidNameError } from './errors.js'

/** IFNAMSIZ is 16 bytes including the terminating NUL (include/uapi/linux/if.h). */
export const IFNAME_MAX_BYTES = 15

/**
 * Throws InvalidNameError unless the kernel would accept `name` as an interface name, else returns it.
 * Mirrors `dev_valid_name()` in net/core/dev.c: 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
 */
export function validateIfName(name: string): string {
  const reason = ifNameProblem(name)
  if (reason !== undefined) throw new InvalidNameError('interface', name, reason)
  return name
}

/** The reason `name` is not a valid interface name, or undefined when it is. */
export function ifNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty'
  const bytes = Buffer.byteLength(name, 'utf8')
  if (bytes > IFNAME_MAX_BYTES) return `is ${bytes} bytes, the kernel allows at most ${IFNAME_MAX_BYTES}`
  if (name === '.' || name === '..') return 'must not be "." or ".."'
  if (name.includes('/')) return "must not contain '/'"
  // ':' separates an alias (eth0:1) in the old ioctl API, so the kernel refuses it too.
  if (name.includes(':')) return "must not contain ':'"
  if (/[\s\0]/.test(name)) return 'must not contain whitespace or NUL'
  return undefined
}

/**
 * Throws InvalidNameError unless `name` can name a network namespace (a file under /run/netns), else returns it.
 */
export function validateNetnsName(name: string): string {
  let reason: string | undefined
  if (name.length === 0) reason = 'must not be empty'
  else if (Buffer.byteLength(name, 'utf8') > 255) reason = 'is longer than 255 bytes'
  else if (name === '.' || name === '..') reason = 'must not be "." or ".."'
  else if (name.includes('/')) reason = "must not contain '/'"
  else if (/[\s\0]/.test(name)) reason = 'must not contain whitespace or NUL'
  if (reason !== undefined) throw new InvalidNameError('netns', name, reason)
  return name
}

function checkIndex(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidNameError('interface', `${what}=${n}`, `${what} must be a non-negative integer`)
  return n
}

/** Representor of host PF `pf` on the DPU's Arm side: `pf0hpf`. */
export function pfRepresentorName(pf: number): string {
  return validateIfName(`pf${checkIndex('pf', pf)}hpf`)
}

/** Representor of host VF `vf` of PF `pf`: `pf0vf2`. */
export function vfRepresentorName(pf: number, vf: number): string {
  return validateIfName(`pf${checkIndex('pf', pf)}vf${checkIndex('vf', vf)}`)
}

/**
 * The patch pair for `interfaceType: ovn` as DPF v25.1 names it: OVN-Kubernetes is started with
 * `--gateway-uplink-port=puplinkbrovn`, so these names are part of the contract, not a choice of ours.
 * The `dpf-id` goes on the br-sfc side.
 */
export const OVN_PATCH = { bridge: 'br-ovn', onOvn: 'puplinkbrovn', sfcBridge: 'br-sfc', onSfc: 'puplinkbrsfc' } as const

/**
 * The patch pair DPF's CNI creates when a service interface lands on br-hbn: `p<hostIface>brhbn` on br-hbn and
 * `p<hostIface>brsfc` on br-sfc (reference/dpf.md §3.2); chains reach the HBN interface through the br-sfc side.
 * Patch ports live only inside vswitchd (no kernel netdev), so the 15-byte IFNAMSIZ limit does not apply and
 * `psv0123456789brhbn` is a valid name; `hostIface` itself must be a valid interface name.
 * @example hbnPatchNames('pf0vf1') // { onHbn: 'ppf0vf1brhbn', onSfc: 'ppf0vf1brsfc' }
 */
export function hbnPatchNames(hostIface: string): { onHbn: string; onSfc: string } {
  validateIfName(hostIface)
  return { onHbn: `p${hostIface}brhbn`, onSfc: `p${hostIface}brsfc` }
}

/**
 * Name of the patch port on `bridge` whose peer sits on `peerBridge`. Readable (`br-sfc_br-hbn`) when both names
 * are free of '_' and the result fits in 15 bytes; '_' as separator keeps different bridge pairs from ever
 * producing the same name. Otherwise `pp` + 12 hex of sha256(bridge NUL peer); readable names always contain
 * '_', hashed ones never do, so the two forms cannot collide.
 * @example patchPortNames('br-sfc', 'br-hbn') // { local: 'br-sfc_br-hbn', peer: 'br-hbn_br-sfc' }
 */
export function patchPortNames(bridge: string, peerBridge: string): { local: string; peer: string } {
  return { local: patchPortName(bridge, peerBridge), peer: patchPortName(peerBridge, bridge) }
}

function patchPortName(bridge: string, peerBridge: string): string {
  const readable = `${bridge}_${peerBridge}`
  if (!bridge.includes('_') && !peerBridge.includes('_') && ifNameProblem(readable) === undefined) return readable
  return `pp${createHash('sha256').update(`${bridge}\0${peerBridge}`).digest('hex').slice(0, 12)}`
}

/**
 * Host-side name of the veth pair serving the service interface with this `dpf-id`
 * (`<namespace>/<name>` or `<podNs>/<pod>/<iface>`, reference/dpf.md §3.3): `sv` + 10 hex chars of
 * sha256(dpfId), 12 bytes. Deterministic, so a restarted appliance finds the pair it created; 40 bits make a
 * collision between the few hundred interfaces of one DPU negligible.
 */
export function serviceVethName(dpfId: string): string {
  return `sv${createHash('sha256').update(dpfId).digest('hex').slice(0, 10)}`
}

/** Whether `name` has the shape `serviceVethName` produces (`sv` + 10 hex). */
export function isServiceVethName(name: string): boolean {
  return /^sv[0-9a-f]{10}$/.test(name)
}

/**
 * The network namespace of a service (`[prefix]svc-<serviceID>`): where the ports pass puts its interfaces and,
 * when a Service runs it, the name its pod sandbox is reachable as. One name for both, or they miss each other.
 */
export function serviceNetnsName(serviceId: string, prefix = ''): string {
  return `${prefix}svc-${serviceId}`
}
