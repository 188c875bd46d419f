/** `dpuctl certs init` and `dpuctl certs issue`: the development PKI for hub and appliances. */
import { UsageError, type CliCommand } from '../../api/cli.js'
import { parseFlags, type OptionSpec } from '../../api/cli-flags.js'
import { resolve } from 'node:path'
import { initDevPki, issueDpuCertificate } from './openssl.js'

function parse(args: string[], options: OptionSpec) {
  return parseFlags(args, options, 0).values as Record<string, string | boolean | undefined>
}

const init: CliCommand = {
  path: ['certs', 'init'],
  summary: 'create a development CA and a hub certificate (localhost, 127.0.0.1)',
  usage: `Usage: dpuctl certs init --out DIR [--hub-name NAME]... [--force]

Writes DIR/ca.crt, DIR/ca.key (the development CA) and DIR/hub.crt, DIR/hub.key (server certificate for
localhost, 127.0.0.1, ::1 and each --hub-name). Refuses to replace an existing CA unless --force.`,
  async run(args, io) {
    const v = parse(args, { out: { type: 'string' }, 'hub-name': { type: 'string', multiple: true }, force: { type: 'boolean' } })
    if (typeof v.out !== 'string') throw new UsageError('--out DIR is required')
    const hubNames = (v['hub-name'] as unknown as string[] | undefined) ?? []
    const files = await initDevPki(resolve(io.cwd, v.out), { force: v.force === true, hubNames })
    io.stdout.write(files.map((f) => `wrote ${f}\n`).join(''))
    return 0
  },
}

const issue: CliCommand = {
  path: ['certs', 'issue'],
  summary: 'issue a client certificate for one DPU from the development CA',
  usage: `Usage: dpuctl certs issue --out DIR --dpu NAME [--ca-dir DIR] [--days N]

Writes DIR/NAME.crt and DIR/NAME.key: a client certificate whose URI SAN
spiffe://dpu-appliance/dpu/NAME (and CN NAME) is the DPU's identity at the hub.
The CA is read from --ca-dir (default: --out).`,
  async run(args, io) {
    const v = parse(args, { out: { type: 'string' }, dpu: { type: 'string' }, 'ca-dir': { type: 'string' }, days: { type: 'string' } })
    if (typeof v.out !== 'string') throw new UsageError('--out DIR is required')
    if (typeof v.dpu !== 'string') throw new UsageError('--dpu NAME is required')
    const days = v.days === undefined ? 365 : Number(v.days)
    if (!Number.isInteger(days) || days < 1) throw new UsageError('--days must be a positive integer')
    const out = resolve(io.cwd, v.out)
    const caDir = typeof v['ca-dir'] === 'string' ? resolve(io.cwd, v['ca-dir']) : out
    const { cert, key } = await issueDpuCertificate({ caDir, outDir: out, dpu: v.dpu, days })
    io.stdout.write(`wrote ${cert}\nwrote ${key}\n`)
    return 0
  },
}

export const certsCommands: CliCommand[] = [init, issue]
