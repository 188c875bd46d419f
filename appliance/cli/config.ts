/**
 * `dpuctl appliance run` configuration: flags, optionally a YAML file with the same keys (`data-dir`, `listen`,
 * `token-file`, `node-name`, `node-label`, `log-level`); flags win over the file.
 */
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { LabelsSchema } from '../../api/meta.js'
import { ConfigError } from './errors.js'

export const DEFAULT_DATA_DIR = '/var/lib/dpu-appliance'
export const DEFAULT_LISTEN = '127.0.0.1:7443'

const ListenSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'listen must be HOST:PORT (IPv6 as [addr]:port)')
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be 0..65535')

export const ApplianceConfigSchema = z.strictObject({
  dataDir: z.string().min(1),
  listen: ListenSchema,
  tokenFile: z.string().min(1).optional(),
  nodeName: z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'node name must be a DNS-1123 subdomain (lower case)'),
  nodeLabels: LabelsSchema,
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
})
export type ApplianceConfig = z.infer<typeof ApplianceConfigSchema>

/** Raw values by flag name, as parsed from argv; arrays for repeatable flags. */
export type FlagValues = Record<string, string | string[] | boolean | undefined>

const FILE_KEYS = ['data-dir', 'listen', 'token-file', 'node-name', 'node-label', 'log-level'] as const

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

/** Merges the config file (if any) under the flags and validates the result. */
export function resolveApplianceConfig(flags: FlagValues, cwd: string): ApplianceConfig {
  const file = typeof flags.config === 'string' ? readConfigFile(resolve(cwd, flags.config)) : {}
  const pick = (key: (typeof FILE_KEYS)[number]): unknown => flags[key] ?? file[key]
  const labelValues = [
    ...(Array.isArray(file['node-label']) ? (file['node-label'] as unknown[]).map(String) : []),
    ...(Array.isArray(flags['node-label']) ? flags['node-label'] : []),
  ]
  const candidate = {
    dataDir: resolve(cwd, String(pick('data-dir') ?? DEFAULT_DATA_DIR)),
    listen: String(pick('listen') ?? DEFAULT_LISTEN),
    ...(pick('token-file') !== undefined ? { tokenFile: resolve(cwd, String(pick('token-file'))) } : {}),
    nodeName: String(pick('node-name') ?? hostname().toLowerCase()),
    nodeLabels: labelsFrom(labelValues, 'node-label'),
    logLevel: String(pick('log-level') ?? 'info'),
  }
  const r = ApplianceConfigSchema.safeParse(candidate)
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
    throw new ConfigError(`invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues)
  }
  return r.data
}

/** `host:port` -> parts (brackets removed from IPv6). */
export function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':')
  return { host: listen.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(i + 1)) }
}
