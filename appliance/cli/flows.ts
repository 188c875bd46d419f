/**
 * `dpuctl flows [--bridge B] [--stats]`: the flows the switch holds, read by the appliance with flow-stats requests
 * and printed in `ovs-ofctl dump-flows` text (without --stats, in add-flow syntax: the lines feed `ovs-ofctl
 * add-flows` as they are).
 */
import { UsageError, type CliCommand } from '../../api/cli.js'
import { ApplianceClient, CLIENT_OPTIONS } from './client.js'
import { parseFlags } from '../../api/cli-flags.js'
import { formatObjects } from './output.js'
import { reportError } from './report.js'

interface FlowDump {
  items: Array<{ bridge: string; flows: string[] }>
}

export const flowsCommand: CliCommand = {
  path: ['flows'],
  summary: 'print the flows installed on the owned bridges (ovs-ofctl text)',
  usage: `Usage: dpuctl flows [--bridge B] [--stats] [-o text|json|yaml] [--server URL] [--token-file F]

Prints the flows the switch holds, as the appliance reads them over OpenFlow (not its desired table).
  --bridge B   one bridge (default: every owned bridge and every bridge with chain flows)
  --stats      add duration, n_packets and n_bytes, as ovs-ofctl dump-flows prints them`,
  async run(args, io) {
    const { values } = parseFlags(args, { ...CLIENT_OPTIONS, bridge: { type: 'string', short: 'b' }, stats: { type: 'boolean' }, output: { type: 'string', short: 'o' } }, 0)
    const output = values.output ?? 'text'
    if (!['text', 'json', 'yaml'].includes(output)) throw new UsageError(`-o must be text, json or yaml, got "${output}"`)
    try {
      const client = ApplianceClient.fromFlags(values, io)
      const q = new URLSearchParams()
      if (values.bridge) q.set('bridge', values.bridge)
      if (values.stats) q.set('stats', 'true')
      const dump = await client.request<FlowDump>('GET', `/apis/appliance/v1/flows${q.size ? `?${q}` : ''}`)
      if (output !== 'text') {
        io.stdout.write(formatObjects(dump, output as 'json' | 'yaml'))
        return 0
      }
      for (const b of dump.items) {
        if (values.bridge === undefined) io.stdout.write(`${b.bridge}: ${b.flows.length} flows\n`)
        for (const f of b.flows) io.stdout.write(` ${f}\n`)
      }
      return 0
    } catch (err) {
      return reportError(err, io)
    }
  },
}
