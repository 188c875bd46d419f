/**
 * Every dpuctl command, collected from the part of the product that owns it. Wiring only:
 * add a part's command list here and nothing else.
 */
import type { CliCommand } from '../api/cli.js'

export const COMMANDS: readonly CliCommand[] = [
]
