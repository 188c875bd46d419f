/**
 * Typed wrappers over iproute2's `ip -j` (JSON output), run through execFile with argv, never a shell.
 * Reads return undefined for a link that is not there; writes throw CommandFailedError with the command,
 * exit code and stderr.
 */
import { runCommand, type CommandRunner } from './command.js'
import { CommandFailedError, UnexpectedOutputError } from './errors.js'
import { validateIfName, validateNetnsName } from './names.js'

export interface LinkInfo {
  name: string
  /** Lower-case colon-separated MAC; '' for links without one. */
  mac: string
  mtu: number
  /** Kernel operstate as `ip` prints it: UP, DOWN, LOWERLAYERDOWN, UNKNOWN... */
  operstate: string
  ifindex: number
  /** Administratively up (IFF_UP), independent of whether the carrier is there. */
  adminUp: boolean
  /** `linkinfo.info_kind` (veth, dummy, bridge...); undefined for physical devices. */
  kind: string | undefined
  /** For veth: the peer's ifindex, in the peer's namespace. */
  peerIfindex: number | undefined
  /** Set when the peer lives in another namespace (id as seen from this one). */
  peerNetnsId: number | undefined
}

export interface NetnsOptions {
  /** Network namespace to act in; the appliance's own namespace when omitted. */
  netns?: string
  run?: CommandRunner
}

function ip(netns: string | undefined): string[] {
  return netns === undefined ? ['ip'] : ['ip', '-n', validateNetnsName(netns)]
}

const MISSING = /does not exist|Cannot find device|Cannot open network namespace/

function isMissing(err: unknown): boolean {
  return err instanceof CommandFailedError && MISSING.test(err.stderr)
}

interface IpLinkJson {
  ifindex: number
  ifname: string
  flags?: string[]
  mtu: number
  operstate?: string
  address?: string
  link_index?: number
  link_netnsid?: number
  linkinfo?: { info_kind?: string }
}

function toLinkInfo(j: IpLinkJson): LinkInfo {
  return {
    name: j.ifname,
    mac: (j.address ?? '').toLowerCase(),
    mtu: j.mtu,
    operstate: j.operstate ?? 'UNKNOWN',
    ifindex: j.ifindex,
    adminUp: (j.flags ?? []).includes('UP'),
    kind: j.linkinfo?.info_kind,
    peerIfindex: j.link_index,
    peerNetnsId: j.link_netnsid,
  }
}

function parseJson<T>(argv: readonly string[], stdout: string): T {
  try {
    return JSON.parse(stdout) as T
  } catch (cause) {
    throw new UnexpectedOutputError(argv, 'output is not JSON', stdout, cause)
  }
}

/** One link by name, or undefined when neither it nor (if given) its namespace exists. */
export async function readLink(name: string, options: NetnsOptions = {}): Promise<LinkInfo | undefined> {
  const argv = [...ip(options.netns), '-j', '-d', 'link', 'show', 'dev', validateIfName(name)]
  let stdout: string
  try {
    ;({ stdout } = await (options.run ?? runCommand)(argv))
  } catch (err) {
    if (isMissing(err)) return undefined
    throw err
  }
  const [first] = parseJson<IpLinkJson[]>(argv, stdout)
  return first === undefined ? undefined : toLinkInfo(first)
}

/** Every link of a namespace. */
export async function listLinks(options: NetnsOptions = {}): Promise<LinkInfo[]> {
  const argv = [...ip(options.netns), '-j', '-d', 'link', 'show']
  const { stdout } = await (options.run ?? runCommand)(argv)
  return parseJson<IpLinkJson[]>(argv, stdout).map(toLinkInfo)
}

async function linkSet(name: string, args: string[], options: NetnsOptions): Promise<void> {
  await (options.run ?? runCommand)([...ip(options.netns), 'link', 'set', 'dev', validateIfName(name), ...args])
}

/** Sets the MTU of one link. */
export function setMtu(name: string, mtu: number, options: NetnsOptions = {}): Promise<void> {
  return linkSet(name, ['mtu', String(mtu)], options)
}

/** Sets the MAC address of one link. */
export function setMac(name: string, mac: string, options: NetnsOptions = {}): Promise<void> {
  return linkSet(name, ['address', mac], options)
}

/** Brings one link administratively up. */
export function setUp(name: string, options: NetnsOptions = {}): Promise<void> {
  return linkSet(name, ['up'], options)
}

/** Moves a link from `options.netns` (or ours) into namespace `target`. */
export function moveToNetns(name: string, target: string, options: NetnsOptions = {}): Promise<void> {
  return linkSet(name, ['netns', validateNetnsName(target)], options)
}

/** Deletes a link; true if it was there. Deleting either end of a veth pair deletes both. */
export async function deleteLink(name: string, options: NetnsOptions = {}): Promise<boolean> {
  try {
    await (options.run ?? runCommand)([...ip(options.netns), 'link', 'del', 'dev', validateIfName(name)])
    return true
  } catch (err) {
    if (isMissing(err)) return false
    throw err
  }
}

/** Names of the named network namespaces (`ip netns list`, i.e. /run/netns). */
export async function listNetns(options: { run?: CommandRunner } = {}): Promise<string[]> {
  const argv = ['ip', '-j', 'netns', 'list']
  const { stdout } = await (options.run ?? runCommand)(argv)
  // iproute2 prints nothing at all, not [], when there are no namespaces.
  if (stdout.trim() === '') return []
  return parseJson<Array<{ name: string }>>(argv, stdout).map((n) => n.name)
}

/**
 * Creates namespace `name` unless it exists; true if it was created. Brings its loopback up. `beforeCreate` runs
 * right before the namespace is created (callers record what they create, write-ahead).
 */
export async function ensureNetns(name: string, options: { run?: CommandRunner; beforeCreate?: (name: string) => void } = {}): Promise<boolean> {
  const run = options.run ?? runCommand
  validateNetnsName(name)
  if ((await listNetns({ run })).includes(name)) return false
  options.beforeCreate?.(name)
  try {
    await run(['ip', 'netns', 'add', name])
  } catch (err) {
    // Lost a race with another creator: fine, it exists now.
    if (err instanceof CommandFailedError && /File exists/.test(err.stderr)) return false
    throw err
  }
  await run(['ip', '-n', name, 'link', 'set', 'dev', 'lo', 'up'])
  return true
}

/** Deletes namespace `name`; true if it was there. Links inside it are destroyed with it. */
export async function deleteNetns(name: string, options: { run?: CommandRunner } = {}): Promise<boolean> {
  try {
    await (options.run ?? runCommand)(['ip', 'netns', 'del', validateNetnsName(name)])
    return true
  } catch (err) {
    if (err instanceof CommandFailedError && /No such file|Cannot remove namespace/.test(err.stderr)) return false
    throw err
  }
}

/** Namespace ids as seen from ours, or from `options.netns` (ids are per namespace). */
export async function readNetnsIds(options: { run?: CommandRunner; netns?: string } = {}): Promise<Map<string, number>> {
  const argv = [...ip(options.netns), '-j', 'netns', 'list']
  const { stdout } = await (options.run ?? runCommand)(argv)
  const out = new Map<string, number>()
  if (stdout.trim() === '') return out
  for (const n of parseJson<Array<{ name: string; id?: number }>>(argv, stdout)) if (n.id !== undefined) out.set(n.name, n.id)
  return out
}

/**
 * Turns off checksum and segmentation offloads on a link. Needed on veths attached to an OVS netdev
 * (AF_PACKET) datapath: the kernel hands it TSO super-frames with partial checksums that it forwards as they
 * are, and TCP through the bridge stalls at 0 bytes (reference/ovs.md §10.3).
 */
export async function disableOffloads(name: string, options: NetnsOptions = {}): Promise<void> {
  const ethtool = ['ethtool', '-K', validateIfName(name), 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']
  const argv = options.netns === undefined ? ethtool : ['ip', 'netns', 'exec', validateNetnsName(options.netns), ...ethtool]
  await (options.run ?? runCommand)(argv)
}
