/**
 * Every dpuctl command, collected from the part of the product that owns it. Wiring only:
 * add a part's command list here and nothing else.
 */
import type { CliCommand } from '../api/cli.js'
import { applianceCommands } from './appliance.js'
import { ignitionCommands } from '../ignition/cli.js'
import { imageCommands } from '../image/cli.js'
import { certsCommands, hubCommands } from './hub.js'
import { demoCommands } from './demo.js'

export const COMMANDS: readonly CliCommand[] = [...applianceCommands, ...ignitionCommands, ...imageCommands, ...hubCommands, ...certsCommands, ...demoCommands]
