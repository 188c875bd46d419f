/** `dpuctl ignition render`: an Ignition config for RHCOS on BlueField with the appliance baked in. */
import { writeFile } from 'node:fs/promises'
import { parseFlags } from '../api/cli-flags.js'
import { UsageError, type CliCommand, type CliIO } from '../api/cli.js'
import { computeAppliancePlan } from './appliance-plan.js'
import { readApplianceInputs, readSshKeys } from './read-inputs.js'
import { DEFAULT_IGNITION_VERSION, IGNITION_VERSIONS, renderIgnition, serializeIgnition, type IgnitionVersion } from './render.js'

const USAGE = `Usage: dpuctl ignition render -o FILE [flags]

Renders an Ignition config (RHCOS on BlueField) that installs and starts the appliance. With no inputs but -o
it renders a development appliance (default config, no flavor).

Flags:
  -o, --output FILE        where to write the config ("-" for stdout)        (required)
      --flavor FILE        DPUFlavor manifest: kernel arguments, sysctl, OVS script, config files
      --config FILE        appliance config YAML, installed to /etc/dpu-appliance/appliance.yaml (0600)
      --cert FILE          certificate or key for /etc/dpu-appliance/certs/ (0600); repeatable
      --version V          Ignition spec: ${IGNITION_VERSIONS.join(', ')} (default ${DEFAULT_IGNITION_VERSION})
      --user NAME          user that gets the SSH keys (default core)
      --ssh-key FILE       OpenSSH public keys for that user; repeatable
      --listen ADDR        appliance REST listen address (default 0.0.0.0:8443)
      --bundle-url URL     have Ignition fetch the appliance bundle (RHCOS without the dpu-appliance layer)
      --bundle-sha256 HEX  sha256 of that bundle (required with --bundle-url)
`

export interface IgnitionRenderFlags {
  flavor?: string
  config?: string
  cert?: string[]
  version?: string
  user?: string
  'ssh-key'?: string[]
  listen?: string
  'bundle-url'?: string
  'bundle-sha256'?: string
}

export const IGNITION_RENDER_OPTIONS = {
  flavor: { type: 'string' },
  config: { type: 'string' },
  cert: { type: 'string', multiple: true },
  version: { type: 'string' },
  user: { type: 'string' },
  'ssh-key': { type: 'string', multiple: true },
  listen: { type: 'string' },
  'bundle-url': { type: 'string' },
  'bundle-sha256': { type: 'string' },
} as const

/** Reads inputs named by flags and renders the config text (shared with `dpuctl image build --rhcos`). */
export async function renderIgnitionFromFlags(v: IgnitionRenderFlags): Promise<string> {
  const version = (v.version ?? DEFAULT_IGNITION_VERSION) as IgnitionVersion
  if (!IGNITION_VERSIONS.includes(version)) throw new UsageError(`--version must be one of ${IGNITION_VERSIONS.join(', ')}`)
  if (Boolean(v['bundle-url']) !== Boolean(v['bundle-sha256'])) throw new UsageError('--bundle-url and --bundle-sha256 go together')
  const inputs = await readApplianceInputs({ flavor: v.flavor, config: v.config, certs: v.cert, listen: v.listen })
  const keys = await readSshKeys(v['ssh-key'] ?? [])
  const users = keys.length ? [{ name: v.user ?? 'core', sshAuthorizedKeys: keys }] : []
  const bundle = v['bundle-url'] ? { url: v['bundle-url'], sha256: v['bundle-sha256']! } : undefined
  return serializeIgnition(renderIgnition(computeAppliancePlan(inputs), { version, users, bundle }))
}

function parse(args: string[], options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>) {
  return parseFlags(args, options, 0)
}

async function writeOutput(out: string, text: string, io: CliIO): Promise<void> {
  if (out === '-') io.stdout.write(text)
  else await writeFile(out, text, { mode: 0o600 })
}

export const ignitionCommands: CliCommand[] = [
  {
    path: ['ignition', 'render'],
    summary: 'render an Ignition config (RHCOS) that installs the appliance',
    usage: USAGE,
    async run(args, io) {
      const { values } = parse(args, { ...IGNITION_RENDER_OPTIONS, output: { type: 'string', short: 'o' } })
      const out = values.output as string | undefined
      if (!out) throw new UsageError('-o FILE is required')
      const text = await renderIgnitionFromFlags(values as IgnitionRenderFlags)
      await writeOutput(out, text, io)
      return 0
    },
  },
]
