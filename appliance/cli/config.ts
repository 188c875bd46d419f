/**
 * `dpuctl appliance run` configuration: flags, optionally a YAML file with the same keys (`data-dir`, `listen`,
 * `token-file`, `node-name`, `node-label`, `log-level`, `ovsdb`, `ovs-rundir`, `datapath`, `hub`, `dpu-name`,
 * `tls-cert`, `tls-key`, `tls-ca`, `insecure`) plus file-only keys `bridges` ({sfc, hbn, ovn} names),
 * `other-config` (Open_vSwitch other_config the appliance sets) and `mtu` (MTU of the owned bridges);
 * flags win over the file.
 */
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { LabelsSchema } from '../../api/meta.js'
import { LOG_LEVELS } from '../../api/support/logger.js'
import { ConfigError } from './errors.js'
import { isRecord } from '../../api/is-record.js'

export const DEFAULT_DATA_DIR = '/var/lib/dpu-appliance'
export const DEFAULT_LISTEN = '127.0.0.1:7443'
export const DEFAULT_OVSDB = 'unix:/var/run/openvswitch/db.sock'
export const DEFAULT_OVS_RUNDIR = '/var/run/openvswitch'
/** `--ovsdb none` runs the appliance without Open vSwitch (API and store only). */
export const OVSDB_NONE = 'none'
/** What the appliance tells an operator whose Open vSwitch database it cannot reach, in its flags' words. */
export const OVSDB_UNAVAILABLE_HINT = 'start Open vSwitch, or pass --ovsdb unix:PATH (or tcp:HOST:PORT) where its database listens, or --ovsdb none to run the API only'

const ListenSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'listen must be HOST:PORT (IPv6 as [addr]:port)')
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be 0..65535')

const NetdevName = z
  .string()
  .min(1)
  .max(15)
  .regex(/^[^\s/:]+$/, 'bridge names are netdev names (<= 15 characters)')

export const ApplianceConfigSchema = z.strictObject({
  dataDir: z.string().min(1),
  listen: ListenSchema,
  tokenFile: z.string().min(1).optional(),
  nodeName: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'node name must be a DNS-1123 subdomain (lower case)'),
  nodeLabels: LabelsSchema,
  /** Where `nodeName` came from, so the start log can say how to change it (absent: given by the caller). */
  nodeNameFrom: z.enum(['flag', 'config-file', 'host-name']).optional(),
  logLevel: z.enum(LOG_LEVELS),
  /** `unix:PATH`, `tcp:HOST:PORT`, or `none`. */
  ovsdb: z.string().regex(/^(unix:.+|tcp:[^:]+:\d{1,5}|none)$/, 'ovsdb must be unix:PATH, tcp:HOST:PORT or none'),
  ovsRundir: z.string().min(1),
  /**
   * Network namespace ovs-vswitchd runs in, when it is not the appliance's own (OVS in a container, or a test
   * sandbox): host-side port ends the appliance creates (service veths) are placed there so vswitchd can open them.
   */
  ovsNetns: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'ovs-netns must be a network namespace name')
    .optional(),
  /** ovs-vswitchd's unixctl socket for `dpuctl trace`; default: found in ovsRundir (pid-named, then ovs-vswitchd.ctl). */
  ovsCtl: z.string().min(1).optional(),
  /** How often chain packet/byte counters are read from flow stats into status (seconds). */
  countersInterval: z.number().positive().max(3600).optional(),
  /** How often installed flows are read back and compared with what the appliance programmed (seconds; 0: never). */
  verifyInterval: z.number().min(0).max(86_400).optional(),
  datapath: z.enum(['netdev', 'system']),
  bridges: z.strictObject({
    sfc: NetdevName,
    hbn: NetdevName,
    ovn: NetdevName,
  }),
  otherConfig: z.record(z.string().regex(/^[-a-z0-9_]+$/, 'other_config keys are lower-case words'), z.string()),
  mtu: z.number().int().min(1280).max(9216).optional(),
  /** Federation: the hub's gRPC address; absent = standalone appliance. */
  hub: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'hub must be HOST:PORT')
    .optional(),
  dpuName: z.string().min(1).max(253).optional(),
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  tlsCa: z.string().min(1).optional(),
  insecure: z.boolean(),
  /** Serve the local REST API over HTTPS with this certificate and key (PEM files). */
  apiTlsCert: z.string().min(1).optional(),
  apiTlsKey: z.string().min(1).optional(),
  /** Host header values the REST API answers besides IP literals, localhost, node and host names (`*`: any). */
  allowedHosts: z.array(
    z
      .string()
      .min(1)
      .max(253)
      .regex(/^[^\s/]+$/, 'allowed-host is a host name'),
  ),
  /** `/metrics` and `/openapi.json` without the token. */
  publicMetrics: z.boolean(),
  /**
   * Prefix for the default service network namespace (`<prefix>svc-<serviceID>`): namespaces are machine-wide,
   * so two appliances sharing one development host (the demo) would otherwise both claim `svc-<serviceID>`.
   */
  serviceNetnsPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{0,32}$/, 'service-netns-prefix must be letters, digits, _ . -')
    .optional(),
  /**
   * Which backend runs Service objects by default: `podman` (libpod REST API), `process` (a supervised command in
   * its own network namespace), `auto` (podman when its binary is installed, else process) or `none`.
   */
  serviceRuntime: z.enum(['auto', 'podman', 'process', 'none']),
  /** podman's API socket; started by the appliance (`podman system service`) when nothing listens there. */
  podmanSocket: z.string().min(1).optional(),
  /** Image and command of each pod's infra container (holds the network namespace). */
  podmanInfraImage: z.string().min(1).optional(),
  podmanInfraCommand: z.string().min(1).optional(),
})
export type ApplianceConfig = z.infer<typeof ApplianceConfigSchema>

/** Raw values by flag name, as parsed from argv; arrays for repeatable flags. */
export type FlagValues = Record<string, string | string[] | boolean | undefined>

const FILE_KEYS = [
  'data-dir',
  'listen',
  'token-file',
  'node-name',
  'node-label',
  'log-level',
  'ovsdb',
  'ovs-rundir',
  'ovs-netns',
  'ovs-ctl',
  'counters-interval',
  'verify-interval',
  'datapath',
  'bridges',
  'other-config',
  'mtu',
  'hub',
  'dpu-name',
  'tls-cert',
  'tls-key',
  'tls-ca',
  'insecure',
  'service-netns-prefix',
  'api-tls-cert',
  'api-tls-key',
  'allowed-host',
  'public-metrics',
  'service-runtime',
  'podman-socket',
  'podman-infra-image',
  'podman-infra-command',
] as const

function labelsFrom(values: readonly string[], where: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const v of values) {
    const i = v.indexOf('=')
    if (i <= 0) throw new ConfigError(`${where}: node label "${v}" must be key=value`, [{ path: 'node-label', message: 'expected key=value' }])
    out[v.slice(0, i)] = v.slice(i + 1)
  }
  return out
}

function readConfigFile(path: string): Record<string, unknown> {
  let raw: unknown
  try {
    raw = parseYaml(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`)
  }
  if (raw === null || raw === undefined) return {}
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`config file ${path} must be a YAML mapping`)
  for (const key of Object.keys(raw)) {
    if (!(FILE_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(`config file ${path}: unknown key "${key}" (known: ${FILE_KEYS.join(', ')})`, [{ path: key, message: 'unknown key' }])
    }
  }
  return raw as Record<string, unknown>
}

function optionalString<K extends string>(key: K, v: unknown): Partial<Record<K, string>> {
  return v === undefined ? {} : ({ [key]: String(v) } as Record<K, string>)
}

function optionalPath<K extends string>(key: K, v: unknown, cwd: string): Partial<Record<K, string>> {
  return v === undefined ? {} : ({ [key]: resolve(cwd, String(v)) } as Record<K, string>)
}

/** Merges the config file (if any) under the flags and validates the result. */
export function resolveApplianceConfig(flags: FlagValues, cwd: string): ApplianceConfig {
  const file = typeof flags.config === 'string' ? readConfigFile(resolve(cwd, flags.config)) : {}
  const pick = (key: (typeof FILE_KEYS)[number]): unknown => flags[key] ?? file[key]
  const labelValues = [...(Array.isArray(file['node-label']) ? (file['node-label'] as unknown[]).map(String) : []), ...(Array.isArray(flags['node-label']) ? flags['node-label'] : [])]
  const candidate = {
    dataDir: resolve(cwd, String(pick('data-dir') ?? DEFAULT_DATA_DIR)),
    listen: String(pick('listen') ?? DEFAULT_LISTEN),
    ...(pick('token-file') !== undefined ? { tokenFile: resolve(cwd, String(pick('token-file'))) } : {}),
    nodeName: String(pick('node-name') ?? hostname().toLowerCase()),
    nodeNameFrom: flags['node-name'] !== undefined ? 'flag' : file['node-name'] !== undefined ? 'config-file' : 'host-name',
    nodeLabels: labelsFrom(labelValues, 'node-label'),
    logLevel: String(pick('log-level') ?? 'info'),
    ovsdb: String(pick('ovsdb') ?? DEFAULT_OVSDB),
    ovsRundir: resolve(cwd, String(pick('ovs-rundir') ?? DEFAULT_OVS_RUNDIR)),
    ...optionalString('ovsNetns', pick('ovs-netns')),
    ...optionalPath('ovsCtl', pick('ovs-ctl'), cwd),
    ...(pick('counters-interval') !== undefined ? { countersInterval: Number(pick('counters-interval')) } : {}),
    ...(pick('verify-interval') !== undefined ? { verifyInterval: Number(pick('verify-interval')) } : {}),
    datapath: String(pick('datapath') ?? 'netdev'),
    bridges: { sfc: 'br-sfc', hbn: 'br-hbn', ovn: 'br-ovn', ...(isRecord(file.bridges) ? file.bridges : {}) },
    otherConfig: isRecord(file['other-config']) ? Object.fromEntries(Object.entries(file['other-config']).map(([k, v]) => [k, String(v)])) : {},
    ...(file.mtu !== undefined ? { mtu: file.mtu } : {}),
    ...optionalString('hub', pick('hub')),
    ...optionalString('dpuName', pick('dpu-name')),
    ...optionalPath('tlsCert', pick('tls-cert'), cwd),
    ...optionalPath('tlsKey', pick('tls-key'), cwd),
    ...optionalPath('tlsCa', pick('tls-ca'), cwd),
    insecure: pick('insecure') === true || pick('insecure') === 'true',
    ...optionalString('serviceNetnsPrefix', pick('service-netns-prefix')),
    ...optionalPath('apiTlsCert', pick('api-tls-cert'), cwd),
    ...optionalPath('apiTlsKey', pick('api-tls-key'), cwd),
    allowedHosts: [...(Array.isArray(file['allowed-host']) ? (file['allowed-host'] as unknown[]).map(String) : []), ...(Array.isArray(flags['allowed-host']) ? flags['allowed-host'] : [])],
    publicMetrics: pick('public-metrics') === true || pick('public-metrics') === 'true',
    serviceRuntime: String(pick('service-runtime') ?? 'auto'),
    ...optionalPath('podmanSocket', pick('podman-socket'), cwd),
    ...optionalString('podmanInfraImage', pick('podman-infra-image')),
    ...optionalString('podmanInfraCommand', pick('podman-infra-command')),
  }
  return parseConfig(
    ApplianceConfigSchema.refine((c) => (c.apiTlsCert === undefined) === (c.apiTlsKey === undefined), { message: 'api-tls-cert and api-tls-key go together', path: ['apiTlsCert'] }),
    candidate,
  )
}

/** What `dpuctl appliance cleanup` needs of an appliance's configuration (same flags and file keys as `run`). */
export const CleanupConfigSchema = ApplianceConfigSchema.pick({ dataDir: true, ovsdb: true, ovsNetns: true, serviceNetnsPrefix: true })
export type CleanupConfig = z.infer<typeof CleanupConfigSchema>

/**
 * Like `resolveApplianceConfig`, for cleanup: only the keys that say where the appliance's state and switch are,
 * so a config file written for `run` works unchanged and an unusual host name cannot stop a cleanup.
 */
export function resolveCleanupConfig(flags: FlagValues, cwd: string): CleanupConfig {
  const file = typeof flags.config === 'string' ? readConfigFile(resolve(cwd, flags.config)) : {}
  const pick = (key: (typeof FILE_KEYS)[number]): unknown => flags[key] ?? file[key]
  const candidate = {
    dataDir: resolve(cwd, String(pick('data-dir') ?? DEFAULT_DATA_DIR)),
    ovsdb: String(pick('ovsdb') ?? DEFAULT_OVSDB),
    ...optionalString('ovsNetns', pick('ovs-netns')),
    ...optionalString('serviceNetnsPrefix', pick('service-netns-prefix')),
  }
  return parseConfig(CleanupConfigSchema, candidate)
}

function parseConfig<S extends z.ZodType>(schema: S, candidate: Record<string, unknown>): z.infer<S> {
  const r = schema.safeParse(candidate)
  if (r.success) return r.data
  const issues = r.error.issues.map((i) => {
    const path = i.path.join('.')
    // The default comes from outside the command line: say so, or "nodeName: must be DNS-1123" puzzles.
    const hint = path === 'nodeName' && candidate.nodeNameFrom === 'host-name' ? ` (the default is the host name "${String(candidate.nodeName)}"; set --node-name)` : ''
    return { path, message: `${i.message}${hint}` }
  })
  throw new ConfigError(`invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues)
}

/** How the start log explains the node name: `(from the host name; --node-name to change)`. */
export function describeNodeNameSource(from: ApplianceConfig['nodeNameFrom']): string {
  switch (from) {
    case 'flag':
      return 'from --node-name'
    case 'config-file':
      return 'from node-name in the config file; --node-name overrides it'
    case 'host-name':
      return 'from the host name; --node-name to change'
    default:
      return 'given by the caller'
  }
}

/** `host:port` -> parts (brackets removed from IPv6). */
export function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':')
  return { host: listen.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(i + 1)) }
}
