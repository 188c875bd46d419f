/**
 * `dpuctl get bridges`: observed switch state is not a stored kind, so it has its own small table.
 * Wide output adds every port with its ofport and the vswitchd error, which `ovs-vsctl show` does not print.
 */
import type { CliIO } from '../../api/cli.js'
import type { ObservedBridge as BridgeView } from '../reconcile/bridges.js'
import type { ApplianceClient } from './client.js'
import { formatObjects, formatTable } from './output.js'

export const BRIDGE_WORDS = new Set(['bridges', 'bridge', 'br'])

export async function printBridges(client: ApplianceClient, name: string | undefined, output: string, io: CliIO, opts: { noHeaders?: boolean } = {}): Promise<0 | 1> {
  const list = await client.request<{ items: BridgeView[] }>('GET', '/apis/appliance/v1/bridges')
  const items = name === undefined ? list.items : list.items.filter((b) => b.name === name)
  if (name !== undefined && items.length === 0) {
    io.stderr.write(`bridge "${name}" not found\n`)
    return 1
  }
  if (output === 'json' || output === 'yaml') {
    io.stdout.write(formatObjects({ apiVersion: 'appliance/v1', kind: 'BridgeList', items } as never, output))
    return 0
  }
  const wide = output === 'wide'
  const header = ['NAME', 'OWNED', 'ROLE', 'DATAPATH', 'FAIL_MODE', 'PORTS', ...(wide ? ['PORT_DETAILS', 'PROBLEMS'] : [])]
  const rows = items.map((b) => [
    b.name,
    b.owned ? 'yes' : 'no',
    b.role ?? '-',
    b.datapathType || '-',
    b.failMode ?? '-',
    String(b.ports.length),
    ...(wide ? [b.ports.map((p) => `${p.name}:${p.ofport ?? '-'}${p.dpfId ? `(${p.dpfId})` : ''}`).join(',') || '-', b.problems.join('; ') || '-'] : []),
  ])
  io.stdout.write(formatTable([header, ...rows], opts))
  return 0
}
