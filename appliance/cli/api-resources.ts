/**
 * `dpuctl api-resources`: the kinds the appliance serves (`GET /apis`), with the names get, describe, delete
 * and explain accept, in kubectl's columns; -o wide adds VERBS and LEVEL (fleet or node).
 */
import { UsageError, type CliCommand } from '../../api/cli.js'
import { parseFlags } from '../../api/cli-flags.js'
import { ApplianceClient, CLIENT_OPTIONS } from './client.js'
import { formatObjects, formatTable } from './output.js'
import { reportError } from './report.js'

interface ApiResource {
  group: string
  version: string
  kind: string
  name: string
  shortNames?: string[]
  namespaced: boolean
  level?: string
  verbs?: string[]
}

export const apiResourcesCommand: CliCommand = {
  path: ['api-resources'],
  summary: 'list the kinds the appliance serves, with their short names',
  usage: `Usage: dpuctl api-resources [-o wide|name|json|yaml] [--no-headers] [--server URL] [--token-file F]

NAME, SHORTNAMES, APIVERSION, NAMESPACED and KIND of every kind (GET /apis); -o wide adds VERBS and LEVEL
(fleet: DPF objects rendered per DPU; node: what this appliance acts on). -o name prints plural.group.`,
  async run(args, io) {
    const { values } = parseFlags(args, { ...CLIENT_OPTIONS, output: { type: 'string', short: 'o' }, 'no-headers': { type: 'boolean' } }, 0)
    const output = values.output
    if (output !== undefined && !['wide', 'name', 'json', 'yaml'].includes(output)) throw new UsageError(`-o must be wide, name, json or yaml, got "${output}"`)
    try {
      const list = await ApplianceClient.fromFlags(values, io).request<{ resources: ApiResource[] }>('GET', '/apis')
      if (output === 'json' || output === 'yaml') {
        io.stdout.write(formatObjects(list, output))
        return 0
      }
      if (output === 'name') {
        io.stdout.write(list.resources.map((r) => `${r.name}.${r.group}\n`).join(''))
        return 0
      }
      const wide = output === 'wide'
      const header = ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', ...(wide ? ['VERBS', 'LEVEL'] : [])]
      const rows = list.resources.map((r) => [
        r.name,
        (r.shortNames ?? []).join(','),
        `${r.group}/${r.version}`,
        String(r.namespaced),
        r.kind,
        ...(wide ? [`[${[...(r.verbs ?? [])].sort().join(' ')}]`, r.level ?? ''] : []),
      ])
      io.stdout.write(formatTable([header, ...rows], { noHeaders: values['no-headers'] === true }))
      return 0
    } catch (err) {
      return reportError(err, io)
    }
  },
}
