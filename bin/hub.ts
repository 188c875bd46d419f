/**
 * Composition root of the federation hub: reads flags, loads TLS material, wires the fleet sources (manifest
 * directory, Kubernetes API), the shared parser and renderer, and starts the hub. Wiring only.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { UsageError, type CliCommand, type CliIO } from '../api/cli.js'
import { parseFlags } from '../api/cli-flags.js'
import { createLogger, isLogLevel, LOG_LEVELS, type LogLevel } from '../api/support/logger.js'
import { installCrashHandlers } from '../api/support/crash-handlers.js'
import { KINDS, parseDocuments, parseObject } from '../api/resources/registry.js'
import type { ParsedObject } from '../api/resources/kind.js'
import { renderForNode } from '../api/render/index.js'
import { DpuRegistry } from '../federation/hub/dpu-registry.js'
import { HelmRenderer } from '../federation/hub/helm-render.js'
import { startHub, type HubLimits, type RunningHub, type TlsFiles } from '../federation/hub/hub.js'
import { LimitFlagError, limitFlagOptions, limitFlagsUsage, parseLimitFlags } from '../federation/hub/limit-flags.js'
import { KubernetesSource } from '../federation/hub/sources/kubernetes.js'
import { ManifestDirSource } from '../federation/hub/sources/manifest-dir.js'
import type { FleetSource } from '../federation/hub/source.js'

export interface HubFlags {
  dataDir: string
  listen: string
  apiListen: string
  manifests?: string
  kubernetes: boolean
  kubeconfig?: string
  namespace?: string
  dpuRegistry?: string
  requireRegistered: boolean
  tls: { cert: string; key: string; ca: string } | 'insecure'
  logLevel: LogLevel
  maxRemovalShare?: number
  /** The helm binary DPUService charts are rendered with; absent: DPUServices get Rendered=False. */
  helm?: string
  /** Per-identity bounds given as flags; the rest keep their defaults. */
  limits: Partial<HubLimits>
}

/**
 * Default addresses. Every daemon's default port differs (appliance REST 7443, hub REST 7444, hub gRPC 7445),
 * so a hub and an appliance on one host (a lab, the demo) both start without flags; bin/default-ports.test.ts
 * holds them to it.
 */
export const DEFAULT_HUB_LISTEN = '0.0.0.0:7445'
export const DEFAULT_HUB_API_LISTEN = '127.0.0.1:7444'

const USAGE = `Usage: dpuctl hub run --data-dir DIR [--listen HOST:PORT] [--api-listen HOST:PORT]
                      [--manifests DIR] [--kubernetes [--kubeconfig FILE] [--namespace NS]]
                      [--dpu-registry FILE] [--require-registered]
                      (--tls-cert FILE --tls-key FILE --tls-ca FILE | --insecure) [--log-level LEVEL]
                      [--max-removal-share FRACTION] [--helm PATH] [--max-connections-per-identity N] [...limits]

Runs the federation hub: renders fleet objects (DPF kinds) per DPU and streams them to appliances. Logs are
JSON lines on stderr; stdout gets one line, "hub listening grpc=PORT api=PORT", once both ports are bound.
  --listen            gRPC address for agents (default ${DEFAULT_HUB_LISTEN})
  --api-listen        REST address: /v1/fleet, /v1/dpus/NAME, /metrics, /healthz, /readyz (default ${DEFAULT_HUB_API_LISTEN})
  --manifests DIR     fleet objects from YAML/JSON files in DIR, watched for changes (the default source)
  --kubernetes        fleet objects from the Kubernetes API (list + watch of the DPF CRDs)
  --dpu-registry FILE YAML "dpus: {NAME: {labels: {...}}}": authoritative DPU labels; DPUs not listed use
                      the labels they report, unless --require-registered
  --tls-*             hub certificate, key and the CA that signs DPU client certificates (mTLS required)
  --insecure          plaintext, identity taken from the hello: development only, logs a warning
  --log-level LEVEL   fatal|error|warn|info|debug|trace|silent (default info)
  --max-removal-share a source change removing more than this share of a connected DPU's objects is held
                      until \`dpuctl hub confirm\` (default 0.5), unless removed on purpose (file or object deleted)
  --helm PATH         helm binary for DPUService charts (\`helm template\`, 60 s timeout, 16 MiB output, 2 at a
                      time); without it every DPUService reports Rendered=False (HelmNotConfigured)
What one DPU certificate may cost the hub (whole numbers; see federation/README.md):
${limitFlagsUsage()}
Create development certificates with: dpuctl certs init --out DIR; dpuctl certs issue --out DIR --dpu NAME`

export function parseHubFlags(args: string[], cwd: string): HubFlags {
  const v: Record<string, string | boolean | undefined> = parseFlags(
    args,
    {
      'data-dir': { type: 'string' },
      listen: { type: 'string' },
      'api-listen': { type: 'string' },
      manifests: { type: 'string' },
      kubernetes: { type: 'boolean' },
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      'dpu-registry': { type: 'string' },
      'require-registered': { type: 'boolean' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      insecure: { type: 'boolean' },
      'log-level': { type: 'string' },
      'max-removal-share': { type: 'string' },
      helm: { type: 'string' },
      ...limitFlagOptions(),
    },
    0,
  ).values
  const str = (k: string): string | undefined => (typeof v[k] === 'string' ? resolve(cwd, v[k] as string) : undefined)
  if (!v['data-dir']) throw new UsageError('--data-dir DIR is required')
  if (!v.manifests && !v.kubernetes) throw new UsageError('a source is required: --manifests DIR and/or --kubernetes')
  const tlsGiven = ['tls-cert', 'tls-key', 'tls-ca'].filter((k) => v[k])
  if (v.insecure && tlsGiven.length) throw new UsageError('--insecure and --tls-* are exclusive')
  if (!v.insecure && tlsGiven.length !== 3) throw new UsageError('mTLS is required: give --tls-cert, --tls-key and --tls-ca (or --insecure for development)')
  const logLevel = (v['log-level'] as string | undefined) ?? 'info'
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join('|')}`)
  const share = v['max-removal-share'] === undefined ? undefined : Number(v['max-removal-share'])
  if (share !== undefined && !(share >= 0 && share <= 1)) throw new UsageError('--max-removal-share must be a number from 0 to 1')
  let limits: Partial<HubLimits>
  try {
    limits = parseLimitFlags(v)
  } catch (err) {
    if (err instanceof LimitFlagError) throw new UsageError(err.message)
    throw err
  }
  return {
    dataDir: str('data-dir')!,
    listen: (v.listen as string | undefined) ?? DEFAULT_HUB_LISTEN,
    apiListen: (v['api-listen'] as string | undefined) ?? DEFAULT_HUB_API_LISTEN,
    ...(v.manifests ? { manifests: str('manifests')! } : {}),
    kubernetes: v.kubernetes === true,
    ...(v.kubeconfig ? { kubeconfig: str('kubeconfig')! } : {}),
    ...(v.namespace ? { namespace: v.namespace as string } : {}),
    ...(v['dpu-registry'] ? { dpuRegistry: str('dpu-registry')! } : {}),
    requireRegistered: v['require-registered'] === true,
    tls: v.insecure ? 'insecure' : { cert: str('tls-cert')!, key: str('tls-key')!, ca: str('tls-ca')! },
    logLevel,
    ...(share !== undefined ? { maxRemovalShare: share } : {}),
    ...(v.helm ? { helm: str('helm')! } : {}),
    limits,
  }
}

const parseManifest = (text: string, source: string): ParsedObject[] => parseDocuments(text, source).map((raw) => parseObject(raw, source))

export async function startHubFromFlags(f: HubFlags): Promise<RunningHub> {
  const logger = createLogger({ level: f.logLevel }).child({ component: 'hub' })
  const tls: TlsFiles | 'insecure' = f.tls === 'insecure' ? 'insecure' : { cert: await readFile(f.tls.cert), key: await readFile(f.tls.key), ca: await readFile(f.tls.ca) }
  const sources: FleetSource[] = []
  if (f.manifests) sources.push(new ManifestDirSource({ dir: f.manifests, parse: parseManifest, logger }))
  if (f.kubernetes) {
    const kinds = KINDS.map((k) => ({ group: k.group, version: k.version, plural: k.plural }))
    sources.push(await KubernetesSource.fromKubeconfig({ kubeconfig: f.kubeconfig, namespace: f.namespace, kinds, parse: (raw) => parseObject(raw, 'kubernetes'), logger }))
  }
  const helm = new HelmRenderer({ helmPath: f.helm, logger })
  return startHub({
    dataDir: f.dataDir,
    listen: f.listen,
    apiListen: f.apiListen,
    tls,
    sources,
    render: helm.wrap((obj, node) => renderForNode(obj, node)),
    helm,
    registry: new DpuRegistry(f.dpuRegistry, f.requireRegistered, logger),
    logger,
    ...(f.maxRemovalShare !== undefined ? { maxRemovalShare: f.maxRemovalShare } : {}),
    limits: f.limits,
  })
}

async function runHub(args: string[], io: CliIO): Promise<0 | 1 | 2> {
  const flags = parseHubFlags(args, io.cwd)
  installCrashHandlers(createLogger({ level: flags.logLevel }).child({ component: 'hub' }))
  const hub = await startHubFromFlags(flags)
  // One machine-readable line on stdout, so scripts and tests started with port 0 learn the ports; it is the
  // only thing the hub writes to stdout, and everything on stderr is a JSON log line (api/support/logger.ts).
  io.stdout.write(`hub listening grpc=${hub.grpcPort} api=${hub.apiPort}\n`)
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      void hub.stop().then(done)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  return 0
}

const CONFIRM_USAGE = `Usage: dpuctl hub confirm [--api HOST:PORT]

Applies the source change the hub holds because it would remove more than --max-removal-share of some DPU's
objects (shown as heldChange in /v1/fleet). Exits 1 when nothing is held.
  --api HOST:PORT     the hub's REST address (default ${DEFAULT_HUB_API_LISTEN})`

async function confirmHeld(args: string[], io: CliIO): Promise<0 | 1 | 2> {
  const v = parseFlags(args, { api: { type: 'string' } }, 0).values
  const api = (v.api as string | undefined) ?? DEFAULT_HUB_API_LISTEN
  const url = `http://${api}`
  const held = (await (await fetch(`${url}/v1/fleet`)).json()) as { heldChange?: unknown }
  const res = await fetch(`${url}/v1/fleet/confirm`, { method: 'POST' })
  if (res.status === 404) {
    io.stderr.write('no source change is held\n')
    return 1
  }
  if (!res.ok) throw new Error(`hub at ${api} answered ${res.status} to confirm: ${await res.text()}`)
  io.stdout.write(`confirmed: ${JSON.stringify(held.heldChange)}\n`)
  return 0
}

export const hubCommands: CliCommand[] = [
  { path: ['hub', 'run'], summary: 'run the federation hub (fleet objects -> per-DPU desired state over gRPC/mTLS)', usage: USAGE, run: runHub },
  { path: ['hub', 'confirm'], summary: "apply a source change the hub holds for removing too many of a DPU's objects", usage: CONFIRM_USAGE, run: confirmHeld },
]
