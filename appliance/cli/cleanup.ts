/**
 * `dpuctl appliance cleanup`: removes what an appliance leaves behind on a machine (its OVS bridges and ports,
 * service veths, the service namespaces it created). The composition root (`bin/appliance.ts`) passes in the
 * function that does it (`appliance/cleanup/run-cleanup.ts`); this module parses flags and prints.
 */
import type { CliCommand } from '../../api/cli.js'
import { describeKept, describeRemovals, isEmptyPlan, type CleanupResult, type CleanupRunOptions } from '../cleanup/index.js'
import { DEFAULT_DATA_DIR, DEFAULT_OVSDB, resolveCleanupConfig, type CleanupConfig } from './config.js'
import { parseFlags } from '../../api/cli-flags.js'

export type CleanupAppliance = (config: CleanupConfig, options: CleanupRunOptions) => Promise<CleanupResult>

const USAGE = `Usage: dpuctl appliance cleanup [--dry-run] [--data-dir DIR] [--config FILE] [--ovsdb unix:PATH|tcp:HOST:PORT|none]
                               [--ovs-netns NAME] [--service-netns-prefix P]

Removes what an appliance left on this machine, after it stopped (refused while an appliance holds DIR):
  - OVS bridges marked external_ids:owner=dpu-appliance (also a bridge it adopted by its configured name),
    and ports with that marker on other bridges; unmarked bridges and ports are never touched
  - its service veths (recorded in DIR's store, or behind an owned sv<hex> port)
  - the service network namespaces it recorded as created by itself; an unrecorded <prefix>svc-* namespace is
    listed as kept, never removed for its name alone
  --dry-run            list what would be removed and what is kept; change nothing
  --data-dir DIR       the appliance's state directory (default ${DEFAULT_DATA_DIR})
  --config FILE        the appliance's YAML config (its data-dir, ovsdb, ovs-netns, service-netns-prefix are used)
  --ovsdb REMOTE       Open vSwitch database (default ${DEFAULT_OVSDB}); "none" leaves OVS alone
  --ovs-netns NAME     network namespace of ovs-vswitchd, where the outer ends of service veths live
  --service-netns-prefix P  the prefix the appliance ran with (only changes which namespaces are reported as kept)
Exit 0 when everything listed was removed, 1 when something could not be (each failure is printed).`

export function applianceCleanupCommand(cleanup: CleanupAppliance): CliCommand {
  return {
    path: ['appliance', 'cleanup'],
    summary: 'remove the OVS bridges, ports, veths and namespaces an appliance left behind (--dry-run to list)',
    usage: USAGE,
    async run(args, io) {
      const { values } = parseFlags(
        args,
        {
          'dry-run': { type: 'boolean' },
          'data-dir': { type: 'string' },
          config: { type: 'string' },
          ovsdb: { type: 'string' },
          'ovs-netns': { type: 'string' },
          'service-netns-prefix': { type: 'string' },
        },
        0,
      )
      const config = resolveCleanupConfig(values, io.cwd)
      const dryRun = values['dry-run'] === true
      const say = (line: string) => io.stdout.write(`${line}\n`)
      const result = await cleanup(config, { dryRun, onRemoved: (what) => say(`removed ${what}`) })
      for (const note of result.notes) say(`note: ${note}`)
      if (dryRun) for (const line of describeRemovals(result.plan)) say(`would remove ${line}`)
      if (isEmptyPlan(result.plan)) say('nothing to remove')
      for (const line of describeKept(result.plan)) say(`kept ${line}`)
      for (const w of result.outcome?.warnings ?? []) io.stderr.write(`warning: ${w}\n`)
      for (const f of result.outcome?.failed ?? []) io.stderr.write(`failed to remove ${f.what}: ${f.error}\n`)
      return (result.outcome?.failed.length ?? 0) > 0 ? 1 : 0
    },
  }
}
