import type { CliCommand } from '../../api/cli.js'
import { UsageError } from '../../api/cli.js'
import type { ObjectEvent } from '../store/index.js'
import { ApplianceClient, CLIENT_OPTIONS } from './client.js'
import { parseFlags } from '../../api/cli-flags.js'
import { age, formatObjects, formatTable } from './output.js'
import { reportError } from './report.js'
import { resolveKind } from './resolve.js'

export const eventsCommand: CliCommand = {
  path: ['events'],
  summary: 'show the appliance event log (oldest first)',
  usage: `Usage: dpuctl events [-n NS | -A] [--for KIND/NAME] [--limit N] [-o json|yaml] [--server URL] [--token-file F]`,
  async run(args, io) {
    const { values } = parseFlags(
      args,
      {
        ...CLIENT_OPTIONS,
        namespace: { type: 'string', short: 'n' },
        'all-namespaces': { type: 'boolean', short: 'A' },
        for: { type: 'string' },
        limit: { type: 'string' },
        output: { type: 'string', short: 'o' },
      },
      0,
    )
    if (values.limit !== undefined && !/^\d+$/.test(values.limit)) throw new UsageError(`--limit must be a number, got "${values.limit}"`)
    if (values.output !== undefined && values.output !== 'json' && values.output !== 'yaml') throw new UsageError(`-o must be json or yaml`)
    const q = new URLSearchParams({ limit: values.limit ?? '100' })
    if (values.namespace !== undefined) q.set('namespace', values.namespace)
    try {
      if (values.for !== undefined) {
        const [kindWord, name] = values.for.split('/')
        if (!kindWord || !name) throw new UsageError('--for must be KIND/NAME')
        q.set('kind', resolveKind(kindWord).kind)
        q.set('name', name)
      }
      const client = ApplianceClient.fromFlags(values, io)
      const res = await client.request<{ items: ObjectEvent[] }>('GET', `/apis/appliance/v1/events?${q}`)
      const items = [...res.items].reverse()
      if (values.output) {
        io.stdout.write(formatObjects({ apiVersion: 'v1', kind: 'List', items }, values.output))
        return 0
      }
      if (items.length === 0) {
        io.stderr.write('No events found.\n')
        return 0
      }
      const rows = items.map((e) => [...(values.namespace === undefined ? [e.object.namespace] : []), age(e.time), e.type, e.reason, `${e.object.kind.toLowerCase()}/${e.object.name}`, e.message])
      io.stdout.write(formatTable([[...(values.namespace === undefined ? ['NAMESPACE'] : []), 'LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'], ...rows]))
      return 0
    } catch (err) {
      return reportError(err, io)
    }
  },
}
