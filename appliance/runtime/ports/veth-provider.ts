/**
 * The `service` interface provider for development and test machines: a veth pair whose inner end lives in
 * the service's network namespace (named as the service expects, e.g. `net1`) and whose outer end stays in
 * ours, named by `serviceVethName(dpfId)`, for the OVS side to add to br-sfc.
 * TODO(#13): on hardware a scalable function (devlink port add ... flavour pcisf) plays this role; no provider yet.
 *
 *     appliance netns                     service netns
 *     OVS br-sfc -- outerName <==veth==> innerName (mac, mtu)
 *
 * Idempotent and level-triggered: each call reads both ends and changes only what differs. Not safe to run
 * concurrently for the same pair; the reconcile runner serialises calls.
 */
import { runCommand, type CommandRunner } from './command.js'
import { CommandFailedError, InvalidNameError, SandboxMissingError } from './errors.js'
import { deleteLink, disableOffloads, ensureNetns, listNetns, readLink, readNetnsIds, setMac, setMtu, setUp, type LinkInfo } from './link.js'
import { validateIfName, validateNetnsName } from './names.js'

export { serviceVethName } from './names.js'

export interface ServiceVethSpec {
  /** The service's network namespace; created when missing. */
  netns: string
  /** Interface name inside the service's namespace (what the service configures, e.g. `net1`). */
  innerName: string
  /** Name in our namespace, normally `serviceVethName(dpfId)`. */
  outerName: string
  mtu: number
  /** MAC of the inner end; the chain forwards to it, so it should be stable. Kernel-random when omitted. */
  mac?: string
  /**
   * Network namespace of the outer end, when ovs-vswitchd runs in another namespace than the appliance (OVS in
   * a container, or a test sandbox); default: ours.
   */
  outerNetns?: string
  /**
   * Whether the provider may create a missing namespace (default true). False when a runtime backend owns it (the
   * namespace of a pod sandbox): a missing one then fails with `SandboxMissingError`, never a stand-in namespace
   * the pod would not be in.
   */
  createNetns?: boolean
  /** Turn off veth offloads on both ends (default true: needed for TCP through an OVS netdev datapath). */
  disableOffloads?: boolean
  /**
   * Called right before the provider creates the namespace or the veth pair (outer end named, in `outerNetns`),
   * so the caller can record what it owns before it exists: a crash between the record and the command leaves a
   * record of nothing, never a leftover nobody knows about.
   */
  beforeCreate?: (created: HostCreation) => void
  run?: CommandRunner
}

/** Something the provider is about to create on the host. */
export interface HostCreation {
  kind: 'netns' | 'veth'
  name: string
  /** veth: the namespace of its outer end (absent: ours). */
  netns?: string
}

export type ServiceVethAction = 'created' | 'recreated' | 'mtu' | 'mac' | 'up'

export interface ServiceVeth {
  outerName: string
  innerMac: string
  outerMac: string
  /** What this call changed; empty when the pair was already as desired. */
  actions: ServiceVethAction[]
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/

function validateSpec(spec: ServiceVethSpec): void {
  validateNetnsName(spec.netns)
  validateIfName(spec.innerName)
  validateIfName(spec.outerName)
  if (!Number.isInteger(spec.mtu) || spec.mtu < 68 || spec.mtu > 65535) {
    throw new InvalidNameError('interface', spec.outerName, `mtu ${spec.mtu} is outside 68..65535`)
  }
  if (spec.mac !== undefined && !MAC.test(spec.mac.toLowerCase())) {
    throw new InvalidNameError('interface', spec.innerName, `mac ${JSON.stringify(spec.mac)} is not xx:xx:xx:xx:xx:xx`)
  }
}

/** Whether the two links are the two ends of one veth, the inner one in namespace `netnsId`. */
function isPair(outer: LinkInfo | undefined, inner: LinkInfo | undefined, netnsId: number | undefined): boolean {
  return outer?.kind === 'veth' && inner?.kind === 'veth' && outer.peerIfindex === inner.ifindex && inner.peerIfindex === outer.ifindex && netnsId !== undefined && outer.peerNetnsId === netnsId
}

/**
 * Makes the veth pair exist as `spec` says: keeps a correct pair, fixes MTU, MAC and admin state in place,
 * and recreates a pair whose ends are not each other's peers (inner end gone, renamed, moved, or a
 * leftover of another kind under one of the names).
 */
export async function ensureServiceVeth(spec: ServiceVethSpec): Promise<ServiceVeth> {
  validateSpec(spec)
  const run = spec.run ?? runCommand
  const inNs = { netns: spec.netns, run }
  const outNs = spec.outerNetns === undefined ? { run } : { netns: spec.outerNetns, run }
  const mac = spec.mac?.toLowerCase()
  if (spec.createNetns === false) {
    if (!(await listNetns({ run })).includes(spec.netns)) throw new SandboxMissingError(spec.netns)
  } else await ensureNetns(spec.netns, { run, ...(spec.beforeCreate ? { beforeCreate: (name: string) => spec.beforeCreate!({ kind: 'netns', name }) } : {}) })

  let outer = await readLink(spec.outerName, outNs)
  let inner = await readLink(spec.innerName, inNs)
  const actions: ServiceVethAction[] = []

  if (!isPair(outer, inner, (await readNetnsIds(outNs)).get(spec.netns))) {
    const existed = outer !== undefined || inner !== undefined
    // Deleting the outer end takes its peer with it, wherever that peer lives.
    if (outer !== undefined) await deleteLink(spec.outerName, outNs)
    // The inner name belongs to us inside the service namespace; whatever holds it now is a leftover.
    if ((await readLink(spec.innerName, inNs)) !== undefined) await deleteLink(spec.innerName, inNs)
    spec.beforeCreate?.({ kind: 'veth', name: spec.outerName, ...(spec.outerNetns !== undefined ? { netns: spec.outerNetns } : {}) })
    await createPair(spec, run)
    actions.push(existed ? 'recreated' : 'created')
    if (spec.disableOffloads !== false) {
      await disableOffloads(spec.outerName, outNs)
      await disableOffloads(spec.innerName, inNs)
    }
    outer = await readLink(spec.outerName, outNs)
    inner = await readLink(spec.innerName, inNs)
  }
  if (outer === undefined || inner === undefined) {
    throw new CommandFailedError(['ip', 'link', 'show', spec.outerName], null, 'veth pair vanished right after it was created')
  }

  if (outer.mtu !== spec.mtu || inner.mtu !== spec.mtu) {
    if (outer.mtu !== spec.mtu) await setMtu(spec.outerName, spec.mtu, outNs)
    if (inner.mtu !== spec.mtu) await setMtu(spec.innerName, spec.mtu, inNs)
    if (!actions.includes('created') && !actions.includes('recreated')) actions.push('mtu')
  }
  let innerMac = inner.mac
  if (mac !== undefined && inner.mac !== mac) {
    await setMac(spec.innerName, mac, inNs)
    innerMac = mac
    if (!actions.includes('created') && !actions.includes('recreated')) actions.push('mac')
  }
  if (!outer.adminUp || !inner.adminUp) {
    if (!outer.adminUp) await setUp(spec.outerName, outNs)
    if (!inner.adminUp) await setUp(spec.innerName, inNs)
    if (!actions.includes('created') && !actions.includes('recreated')) actions.push('up')
  }
  return { outerName: spec.outerName, innerMac, outerMac: outer.mac, actions }
}

async function createPair(spec: ServiceVethSpec, run: CommandRunner): Promise<void> {
  // The peer is created directly inside the service namespace, so an inner name like `eth0` that already
  // exists in ours never collides.
  const peer = ['name', spec.innerName, 'netns', spec.netns, 'mtu', String(spec.mtu)]
  if (spec.mac !== undefined) peer.push('address', spec.mac.toLowerCase())
  const ipIn = spec.outerNetns === undefined ? ['ip'] : ['ip', '-n', spec.outerNetns]
  await run([...ipIn, 'link', 'add', spec.outerName, 'mtu', String(spec.mtu), 'type', 'veth', 'peer', ...peer])
}

/** Deletes the pair by its outer name (the inner end goes with it); true if it existed. Idempotent. */
export function removeServiceVeth(outerName: string, options: { run?: CommandRunner; outerNetns?: string } = {}): Promise<boolean> {
  const run = options.run ?? runCommand
  return deleteLink(outerName, options.outerNetns === undefined ? { run } : { netns: options.outerNetns, run })
}
