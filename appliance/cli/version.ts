/**
 * `dpuctl version` (also `dpuctl --version`): this dpuctl's build and the appliance's (`GET /version`, no token
 * needed), as `kubectl version` prints them. Without a reachable appliance the client line is still printed,
 * then a one-line error, exit 1; `--client` asks no server.
 */
import { UsageError, type CliCommand } from '../../api/cli.js'
import { parseFlags } from '../../api/cli-flags.js'
import { readVersionInfo, type VersionInfo } from '../../api/version-info.js'
import { ApplianceClient, CLIENT_OPTIONS } from './client.js'
import { formatObjects } from './output.js'
import { reportError } from './report.js'

export const versionCommand: CliCommand = {
  path: ['version'],
  summary: 'print the dpuctl and appliance versions',
  usage: `Usage: dpuctl version [--client] [-o json|yaml] [--server URL]

Prints this dpuctl's version and the appliance's (GET /version, which needs no token).
  --client   only this dpuctl's version; no server is asked`,
  async run(args, io) {
    const { values } = parseFlags(args, { ...CLIENT_OPTIONS, client: { type: 'boolean' }, output: { type: 'string', short: 'o' } }, 0)
    const output = values.output
    if (output !== undefined && output !== 'json' && output !== 'yaml') throw new UsageError(`-o must be json or yaml, got "${output}"`)
    const clientVersion = readVersionInfo()
    let serverVersion: VersionInfo | undefined
    let failure: unknown
    if (!values.client) {
      try {
        serverVersion = await ApplianceClient.fromFlags(values, io, { anonymous: true }).request<VersionInfo>('GET', '/version')
      } catch (err) {
        failure = err
      }
    }
    if (output) io.stdout.write(formatObjects({ clientVersion, ...(serverVersion ? { serverVersion } : {}) }, output))
    else io.stdout.write(`Client Version: ${clientVersion.gitVersion}\n${serverVersion ? `Server Version: ${serverVersion.gitVersion}\n` : ''}`)
    return failure === undefined ? 0 : reportError(failure, io)
  },
}
