/**
 * Ignition 3.x renderer (reference/image.md §6): turns an appliance plan into a config for RHCOS on BlueField.
 * 3.4.0 by default (OpenShift 4.14–4.18 boot images), 3.2.0 and 3.3.0 selectable. 3.2.0 has no
 * `kernelArguments`, so there a oneshot unit sets them with rpm-ostree. Modes are decimal integers, every path
 * is absolute and unique, and key order is fixed so the output is byte-stable.
 */
import { IgnitionInputError } from './errors.js'
import { toDataUrl, type IgnitionResource } from './data-url.js'
import { APPLIANCE_PATHS, UNITS, kargsUnit, unpackUnit, type AppliancePlan } from './appliance-plan.js'

export const IGNITION_VERSIONS = ['3.2.0', '3.3.0', '3.4.0'] as const
export type IgnitionVersion = (typeof IGNITION_VERSIONS)[number]
export const DEFAULT_IGNITION_VERSION: IgnitionVersion = '3.4.0'

export interface IgnitionUser {
  name: string
  sshAuthorizedKeys: string[]
  groups?: string[]
}

export interface RenderIgnitionOptions {
  version?: IgnitionVersion
  users?: IgnitionUser[]
  /** Have Ignition fetch the bundle (for an RHCOS image without the dpu-appliance layer). */
  bundle?: { url: string; sha256: string }
}

interface IgnitionFile {
  path: string
  mode: number
  overwrite?: boolean
  contents?: IgnitionResource & { verification?: { hash: string } }
  append?: IgnitionResource[]
}

export interface IgnitionConfig {
  ignition: { version: IgnitionVersion }
  passwd?: { users: IgnitionUser[] }
  storage: { directories: { path: string; mode: number }[]; files: IgnitionFile[] }
  systemd: { units: { name: string; enabled: boolean; contents: string }[] }
  kernelArguments?: { shouldExist: string[] }
}

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/
const SSH_KEY = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( [^\n\r]*)?$/

function checkOptions(options: RenderIgnitionOptions): void {
  const issues: { path: string; message: string }[] = []
  const version = options.version ?? DEFAULT_IGNITION_VERSION
  if (!IGNITION_VERSIONS.includes(version)) issues.push({ path: 'version', message: `must be one of ${IGNITION_VERSIONS.join(', ')}` })
  const names = new Set<string>()
  options.users?.forEach((u, i) => {
    if (!USER_NAME.test(u.name)) issues.push({ path: `users[${i}].name`, message: 'not a valid user name' })
    if (names.has(u.name)) issues.push({ path: `users[${i}].name`, message: 'duplicate user' })
    names.add(u.name)
    u.sshAuthorizedKeys.forEach((k, j) => {
      if (!SSH_KEY.test(k)) issues.push({ path: `users[${i}].sshAuthorizedKeys[${j}]`, message: 'not one OpenSSH public key line' })
    })
  })
  if (options.bundle) {
    if (!/^https?:\/\/[^\s]+$/.test(options.bundle.url)) issues.push({ path: 'bundle.url', message: 'must be an http or https URL' })
    if (!/^[0-9a-f]{64}$/.test(options.bundle.sha256)) issues.push({ path: 'bundle.sha256', message: 'must be 64 lower-case hex digits' })
  }
  if (issues.length) throw new IgnitionInputError('cannot render Ignition', issues)
}

/** Builds the Ignition config object for a plan. */
export function renderIgnition(plan: AppliancePlan, options: RenderIgnitionOptions = {}): IgnitionConfig {
  checkOptions(options)
  const version = options.version ?? DEFAULT_IGNITION_VERSION
  const p = APPLIANCE_PATHS
  const files: IgnitionFile[] = plan.files.map((f) =>
    f.append ? { path: f.path, mode: f.mode, append: [toDataUrl(f.contents)] } : { path: f.path, mode: f.mode, overwrite: true, contents: toDataUrl(f.contents) },
  )
  if (options.bundle) {
    files.push({
      path: p.bundleFetched,
      mode: 0o644,
      overwrite: true,
      contents: { source: options.bundle.url, verification: { hash: `sha256-${options.bundle.sha256}` } },
    })
  }
  const units = [{ name: UNITS.unpack, enabled: true, contents: unpackUnit() }, ...plan.units.map((u) => ({ name: u.name, enabled: u.enabled, contents: u.contents }))]
  const withKargs = version !== '3.2.0'
  if (!withKargs && plan.kernelArguments.length) units.push({ name: UNITS.kargs, enabled: true, contents: kargsUnit(plan.kernelArguments) })
  const config: IgnitionConfig = {
    ignition: { version },
    ...(options.users?.length ? { passwd: { users: options.users.map((u) => ({ name: u.name, sshAuthorizedKeys: u.sshAuthorizedKeys, ...(u.groups?.length ? { groups: u.groups } : {}) })) } } : {}),
    storage: {
      directories: [
        { path: p.configDir, mode: 0o755 },
        { path: p.certsDir, mode: 0o700 },
        { path: p.dataDir, mode: 0o700 },
      ],
      files,
    },
    systemd: { units },
    ...(withKargs && plan.kernelArguments.length ? { kernelArguments: { shouldExist: plan.kernelArguments } } : {}),
  }
  return config
}

/** The config as written to disk: two-space JSON with a final newline. */
export function serializeIgnition(config: IgnitionConfig): string {
  return JSON.stringify(config, null, 2) + '\n'
}
