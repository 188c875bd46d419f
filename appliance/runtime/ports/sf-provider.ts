/**
 * The `service` interface provider on BlueField hardware: a scalable function (SF) created through devlink on
 * the PF's eswitch. The SF's representor (`devlink port show` → `netdev`, e.g. `en3f0pf0sf4`) is the outer end
 * that the OVS side adds to br-sfc; the SF's own netdev is what the service uses.
 *
 * Planning is pure: `planSfCommands(spec, observedPorts)` returns the devlink argv arrays that move the observed
 * ports one step toward the spec, and `applySf` loops read → plan → run until the plan is empty, because the
 * port index that `port function set` needs only exists after `port add`.
 *
 *   absent ──port add──▶ inactive ──function set hw_addr <mac> state active──▶ active (done)
 *   active with another MAC ──state inactive──▶ inactive ──▶ ...
 *
 * XXX: BlueField BSPs before DOCA 2.x ship SF support only in `mlxdevm` (same syntax, `/opt/mellanox/iproute2/
 * sbin/mlxdevm`); pass it as `devlink`. Untested on hardware: no DPU is attached to this machine.
 */
import { z } from 'zod'
import { runCommand, type CommandRunner } from './command.js'
import { CommandFailedError, InvalidNameError, UnexpectedOutputError } from './errors.js'

export interface SfSpec {
  /** The PF's devlink handle, `pci/0000:03:00.0` (a bare PCI address is accepted). */
  pf: string
  pfnum: number
  sfnum: number
  /** MAC of the SF; the chain forwards to it. */
  mac: string
  /** eswitch controller number; omitted means the local one (the DPU's own Arm cores). */
  controller?: number
}

/** One devlink port as `devlink -j port show` describes it. */
export interface DevlinkPort {
  /** `pci/0000:03:00.0/229409` */
  handle: string
  /** `pci/0000:03:00.0` */
  device: string
  flavour: string
  netdev: string | undefined
  controller: number | undefined
  pfnum: number | undefined
  sfnum: number | undefined
  vfnum: number | undefined
  hwAddr: string | undefined
  state: string | undefined
  opstate: string | undefined
}

const PortJson = z.object({
  flavour: z.string(),
  netdev: z.string().optional(),
  controller: z.number().int().optional(),
  pfnum: z.number().int().optional(),
  sfnum: z.number().int().optional(),
  vfnum: z.number().int().optional(),
  function: z
    .object({ hw_addr: z.string().optional(), state: z.string().optional(), opstate: z.string().optional() })
    .optional(),
})
const PortShowJson = z.object({ port: z.record(z.string(), PortJson) })

const HANDLE = /^([^/]+\/[^/]+)\/(\d+)$/
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/

/** Parses `devlink -j port show` output into ports, in the order devlink listed them. */
export function parseDevlinkPorts(stdout: string, argv: readonly string[] = ['devlink', '-j', 'port', 'show']): DevlinkPort[] {
  let raw: unknown
  try {
    raw = JSON.parse(stdout)
  } catch (cause) {
    throw new UnexpectedOutputError(argv, 'output is not JSON', stdout, cause)
  }
  const parsed = PortShowJson.safeParse(raw)
  if (!parsed.success) throw new UnexpectedOutputError(argv, `unexpected JSON shape: ${parsed.error.message}`, stdout)
  return Object.entries(parsed.data.port).map(([handle, p]) => {
    const m = HANDLE.exec(handle)
    if (!m) throw new UnexpectedOutputError(argv, `port handle ${JSON.stringify(handle)} is not <bus>/<device>/<index>`, stdout)
    return {
      handle,
      device: m[1] as string,
      flavour: p.flavour,
      netdev: p.netdev,
      controller: p.controller,
      pfnum: p.pfnum,
      sfnum: p.sfnum,
      vfnum: p.vfnum,
      hwAddr: p.function?.hw_addr?.toLowerCase(),
      state: p.function?.state,
      opstate: p.function?.opstate,
    }
  })
}

function pfHandle(pf: string): string {
  return pf.includes('/') ? pf : `pci/${pf}`
}

function validateSfSpec(spec: SfSpec): void {
  if (!/^[a-z]+\/[0-9a-fA-F:.]+$/.test(pfHandle(spec.pf))) {
    throw new InvalidNameError('interface', spec.pf, 'PF must be a devlink handle like pci/0000:03:00.0')
  }
  for (const [k, v] of [['pfnum', spec.pfnum], ['sfnum', spec.sfnum], ['controller', spec.controller ?? 0]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new InvalidNameError('interface', `${k}=${v}`, `${k} must be a non-negative integer`)
  }
  if (!MAC.test(spec.mac.toLowerCase())) throw new InvalidNameError('interface', spec.mac, 'mac must be xx:xx:xx:xx:xx:xx')
}

/** The SF port of `spec` among `ports`, matched by PF device, controller, pfnum and sfnum. */
export function findSfPort(ports: readonly DevlinkPort[], spec: Omit<SfSpec, 'mac'>): DevlinkPort | undefined {
  const device = pfHandle(spec.pf)
  return ports.find(
    (p) =>
      p.flavour === 'pcisf' &&
      p.device === device &&
      p.pfnum === spec.pfnum &&
      p.sfnum === spec.sfnum &&
      (spec.controller === undefined || p.controller === undefined || p.controller === spec.controller),
  )
}

/**
 * The next devlink commands (argv arrays) that bring the observed ports toward `spec`; empty when the SF exists,
 * is active and has the MAC. Run them, read the ports again and plan again until empty.
 */
export function planSfCommands(spec: SfSpec, observed: readonly DevlinkPort[], devlink = 'devlink'): string[][] {
  validateSfSpec(spec)
  const mac = spec.mac.toLowerCase()
  const port = findSfPort(observed, spec)
  if (port === undefined) {
    const add = [devlink, 'port', 'add', pfHandle(spec.pf), 'flavour', 'pcisf', 'pfnum', String(spec.pfnum), 'sfnum', String(spec.sfnum)]
    if (spec.controller !== undefined) add.push('controller', String(spec.controller))
    return [add]
  }
  if (port.state === 'active' && port.hwAddr === mac) return []
  const steps: string[][] = []
  // mlx5 refuses to change the MAC of an active function, so deactivate first.
  if (port.state === 'active') steps.push([devlink, 'port', 'function', 'set', port.handle, 'state', 'inactive'])
  steps.push([devlink, 'port', 'function', 'set', port.handle, 'hw_addr', mac, 'state', 'active'])
  return steps
}

/** The devlink commands that delete the SF of `spec` if it exists: deactivate (when active), then delete. */
export function planSfRemoval(spec: Omit<SfSpec, 'mac'>, observed: readonly DevlinkPort[], devlink = 'devlink'): string[][] {
  const port = findSfPort(observed, spec)
  if (port === undefined) return []
  const steps: string[][] = []
  if (port.state === 'active') steps.push([devlink, 'port', 'function', 'set', port.handle, 'state', 'inactive'])
  steps.push([devlink, 'port', 'del', port.handle])
  return steps
}

export interface SfRunOptions {
  run?: CommandRunner
  /** `devlink`, or `mlxdevm` on older BlueField BSPs. */
  devlink?: string
}

/** Reads every devlink port of the system. */
export async function readDevlinkPorts(options: SfRunOptions = {}): Promise<DevlinkPort[]> {
  const argv = [options.devlink ?? 'devlink', '-j', 'port', 'show']
  const { stdout } = await (options.run ?? runCommand)(argv)
  return parseDevlinkPorts(stdout, argv)
}

export interface SfPort {
  handle: string
  /** The representor netdev on our side: the outer end that goes onto br-sfc. */
  representor: string
  hwAddr: string
}

const MAX_ROUNDS = 4

/** Creates/activates the SF of `spec` (idempotent) and returns its port handle and representor name. */
export async function applySf(spec: SfSpec, options: SfRunOptions = {}): Promise<SfPort> {
  const run = options.run ?? runCommand
  const devlink = options.devlink ?? 'devlink'
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const ports = await readDevlinkPorts({ run, devlink })
    const steps = planSfCommands(spec, ports, devlink)
    if (steps.length === 0) {
      const port = findSfPort(ports, spec)
      if (port?.netdev !== undefined) return { handle: port.handle, representor: port.netdev, hwAddr: port.hwAddr ?? '' }
      throw new UnexpectedOutputError([devlink, '-j', 'port', 'show'], `SF ${spec.pfnum}/${spec.sfnum} is active but has no representor netdev`, '')
    }
    for (const argv of steps) await run(argv)
  }
  throw new CommandFailedError([devlink, 'port', 'function', 'set'], null, `SF ${spec.pfnum}/${spec.sfnum} did not converge in ${MAX_ROUNDS} rounds`)
}

/** Deletes the SF of `spec` if present; true if there was one. */
export async function removeSf(spec: Omit<SfSpec, 'mac'>, options: SfRunOptions = {}): Promise<boolean> {
  const run = options.run ?? runCommand
  const devlink = options.devlink ?? 'devlink'
  const steps = planSfRemoval(spec, await readDevlinkPorts({ run, devlink }), devlink)
  for (const argv of steps) await run(argv)
  return steps.length > 0
}
