/**
 * Turns the appliance's federation flags (`dpuctl appliance run --hub HOST:PORT --dpu-name NAME
 * --tls-cert/--tls-key/--tls-ca | --insecure`) into agent options. The appliance composition root adds its
 * AgentPort and calls startAgent.
 */
import { readFile } from 'node:fs/promises'
import { ApplianceError } from '../../api/errors.js'
import type { AgentOptions } from './agent.js'

export interface AgentFlags {
  hub?: string | undefined
  dpuName?: string | undefined
  tlsCert?: string | undefined
  tlsKey?: string | undefined
  tlsCa?: string | undefined
  insecure?: boolean | undefined
  /** Self-reported labels (used by the hub only for DPUs missing from its registry). */
  labels?: Record<string, string> | undefined
}

/** Options for startAgent, or null when no --hub was given (standalone appliance). Throws config.invalid. */
export async function agentOptionsFromFlags(f: AgentFlags): Promise<Omit<AgentOptions, 'port'> | null> {
  if (!f.hub) return null
  const invalid = (message: string) => new ApplianceError('config.invalid', message, { context: { hub: f.hub } })
  if (!/^[^\s]+:\d+$/.test(f.hub)) throw invalid(`--hub must be HOST:PORT, got "${f.hub}"`)
  if (!f.dpuName) throw invalid('--dpu-name is required with --hub (it must match the certificate)')
  const given = [f.tlsCert, f.tlsKey, f.tlsCa].filter(Boolean).length
  if (f.insecure && given > 0) throw invalid('--insecure and --tls-* are exclusive')
  if (!f.insecure && given !== 3) throw invalid('mTLS is required with --hub: give --tls-cert, --tls-key and --tls-ca (or --insecure for development)')
  const read = async (p: string) => {
    try {
      return await readFile(p)
    } catch (err) {
      throw new ApplianceError('config.invalid', `cannot read ${p}: ${(err as Error).message}`, { cause: err })
    }
  }
  const tls = f.insecure ? ('insecure' as const) : { cert: await read(f.tlsCert!), key: await read(f.tlsKey!), ca: await read(f.tlsCa!) }
  return { hub: f.hub, dpuName: f.dpuName, tls, ...(f.labels ? { labels: f.labels } : {}) }
}
