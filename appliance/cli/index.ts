import type { CliCommand } from '../../api/cli.js'
import { apiResourcesCommand } from './api-resources.js'
import { applyCommand } from './apply.js'
import { deleteCommand } from './delete.js'
import { describeCommand } from './describe.js'
import { eventsCommand } from './events.js'
import { explainCommand } from './explain.js'
import { flowsCommand } from './flows.js'
import { getCommand } from './get.js'
import { execCommand, logsCommand, restartCommand } from './service-commands.js'
import { traceCommand } from './trace.js'
import { statusCommand } from './status.js'
import { versionCommand } from './version.js'
import { waitCommand } from './wait.js'

/** dpuctl's client commands for a running appliance. */
export const applianceClientCommands: readonly CliCommand[] = [
  applyCommand,
  getCommand,
  describeCommand,
  deleteCommand,
  eventsCommand,
  logsCommand,
  execCommand,
  restartCommand,
  statusCommand,
  flowsCommand,
  traceCommand,
  waitCommand,
  versionCommand,
  apiResourcesCommand,
  explainCommand,
]
