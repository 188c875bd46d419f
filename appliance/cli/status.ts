/**
 * `dpuctl status`: the appliance's own state at a glance: node, objects by kind, Open vSwitch connection, and
 * federation sync (connection state, syncedRevision, lastHubContact), all answered locally even when the hub
 * is unreachable.
 */
import type { CliCommand } from '../../api/cli.js'
import { UsageError } from '../../api/cli.js'
import { ApplianceClient, CLIENT_OPTIONS } from './client.js'
import { parseFlags } from '../../api/cli-flags.js'
import { formatObjects } from './output.js'
import { reportError } from './report.js'

interface StatusView {
  node: string
  resourceVersion: string
  objects: Record<string, number>
  ovs?: { connected: boolean; remote: string; openflow?: Array<{ bridge: string; connected: boolean; error?: string }> }
  hub?: { connection: string; hub?: string; dpu?: string; syncedRevision?: number; lastHubContact?: string | null; lastError?: { message?: string } | null }
}

export const statusCommand: CliCommand = {
  path: ['status'],
  summary: 'show the appliance: objects, OVS connection, hub sync (syncedRevision, lastHubContact)',
  usage: `Usage: dpuctl status [-o json|yaml] [--server URL] [--token-file F]`,
  async run(args, io) {
    const { values } = parseFlags(args, { ...CLIENT_OPTIONS, output: { type: 'string', short: 'o' } }, 0)
    if (values.output !== undefined && values.output !== 'json' && values.output !== 'yaml') throw new UsageError('-o must be json or yaml')
    try {
      const s = await ApplianceClient.fromFlags(values, io).request<StatusView>('GET', '/apis/appliance/v1/status')
      if (values.output) {
        io.stdout.write(formatObjects(s as never, values.output as 'json' | 'yaml'))
        return 0
      }
      const lines = [
        `Node:             ${s.node}`,
        `Resource version: ${s.resourceVersion}`,
        `Objects:          ${
          Object.entries(s.objects)
            .map(([k, n]) => `${k}=${n}`)
            .join(', ') || 'none'
        }`,
        `Open vSwitch:     ${s.ovs ? `${s.ovs.connected ? 'connected' : 'not connected'} (${s.ovs.remote})` : 'unknown'}`,
        ...(s.ovs?.openflow?.length
          ? [`OpenFlow:         ${s.ovs.openflow.map((b) => `${b.bridge} ${b.connected ? 'connected' : `NOT connected${b.error ? ` (${b.error})` : ''}`}`).join(', ')}`]
          : []),
      ]
      const hub = s.hub
      if (!hub || hub.connection === 'disabled') lines.push('Hub:              none (standalone)')
      else {
        lines.push(
          `Hub:              ${hub.connection} (${hub.hub}) as ${hub.dpu}`,
          `Synced revision:  ${hub.syncedRevision ?? 0}`,
          `Last hub contact: ${hub.lastHubContact ?? 'never'}`,
          ...(hub.lastError?.message ? [`Last hub error:   ${hub.lastError.message}`] : []),
        )
      }
      io.stdout.write(lines.join('\n') + '\n')
      return 0
    } catch (err) {
      return reportError(err, io)
    }
  },
}
