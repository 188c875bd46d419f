/**
 * `dpuctl trace CHAIN --from PORT`: where a sample packet entering the chain at PORT goes. The appliance resolves
 * PORT (a ServiceInterface name or the port's selector `k=v`) to its ofport and runs `ovs-appctl ofproto/trace`;
 * this prints the path table by table, the ports it leaves by, and the final datapath actions.
 */
import { UsageError, type CliCommand } from '../../api/cli.js'
import { DEFAULT_NAMESPACE } from '../../api/meta.js'
import { ApplianceClient, CLIENT_OPTIONS } from './client.js'
import { parseFlags } from '../../api/cli-flags.js'
import { formatObjects } from './output.js'
import { reportError } from './report.js'

export interface ChainTrace {
  chain: string
  from: { interface: string; bridge: string; ofport: number; switch: number }
  flow: string
  steps: Array<{ bridge: string; table: number; rule: string; actions: string[] }>
  /** `bridge`: where the output happened (a patch crosses to br-hbn); absent from appliances before it was sent. */
  outputs: Array<{ bridge?: string; ofport: number; interface: string | null }>
  datapathActions: string[]
  dropped: boolean
  text: string
}

/** The human summary of a trace. Pure. */
export function renderTrace(t: ChainTrace): string {
  const lines = [`chain ${t.chain}: from ${t.from.interface} (${t.from.bridge} ofport ${t.from.ofport}, switch ${t.from.switch})`, `packet: ${t.flow}`]
  for (const s of t.steps) {
    lines.push(`  ${s.bridge} table ${s.table}: ${s.rule}`)
    for (const a of s.actions) lines.push(`      ${a}`)
  }
  const path = t.outputs.map((o) => `${o.interface ?? '?'} (${o.bridge ? `${o.bridge} ` : ''}ofport ${o.ofport})`)
  lines.push(t.dropped ? `path: ${t.from.interface} -> dropped` : `path: ${t.from.interface} -> ${path.join(', ') || '(no OpenFlow output)'}`)
  lines.push(`datapath actions: ${t.datapathActions.join(',') || 'drop'}`)
  return lines.join('\n') + '\n'
}

export const traceCommand: CliCommand = {
  path: ['trace'],
  summary: 'trace a sample packet through a chain from one of its ports (ofproto/trace)',
  usage: `Usage: dpuctl trace CHAIN --from PORT [-n NS] [--packet SPEC] [-o text|raw|json|yaml] [--server URL] [--token-file F]

PORT is a ServiceInterface of the chain (name or namespace/name) or the port's selector (k=v[,k=v]).
SPEC is the packet in ovs-ofctl flow syntax without in_port, e.g. dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02
(default: an ARP request broadcast). -o raw prints ovs-appctl ofproto/trace's own text.`,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        ...CLIENT_OPTIONS,
        from: { type: 'string', short: 'f' },
        namespace: { type: 'string', short: 'n' },
        packet: { type: 'string', short: 'p' },
        output: { type: 'string', short: 'o' },
      },
      1,
    )
    const [chain] = positionals
    if (chain === undefined) throw new UsageError('trace needs a CHAIN')
    if (!values.from) throw new UsageError('trace needs --from PORT')
    const output = values.output ?? 'text'
    if (!['text', 'raw', 'json', 'yaml'].includes(output)) throw new UsageError(`-o must be text, raw, json or yaml, got "${output}"`)
    try {
      const client = ApplianceClient.fromFlags(values, io)
      const t = await client.request<ChainTrace>('POST', '/apis/appliance/v1/trace', {
        chain,
        namespace: values.namespace ?? DEFAULT_NAMESPACE,
        from: values.from,
        ...(values.packet ? { packet: values.packet } : {}),
      })
      if (output === 'json' || output === 'yaml') io.stdout.write(formatObjects(t, output))
      else io.stdout.write(output === 'raw' ? t.text : renderTrace(t))
      return 0
    } catch (err) {
      return reportError(err, io)
    }
  },
}
