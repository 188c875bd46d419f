/**
 * dpuctl: the one command line of dpu-appliance. Wiring only: the commands are collected in `commands.ts`, the
 * dispatcher (global flags, exit codes) is `api/cli-dispatch.ts`.
 */
import type { CliIO } from '../api/cli.js'
import { endQuietlyOnClosedPipe } from '../api/cli-closed-pipe.js'
import { dispatch } from '../api/cli-dispatch.js'
import { COMMANDS } from './commands.js'

endQuietlyOnClosedPipe(process.stdout)
endQuietlyOnClosedPipe(process.stderr)
const io: CliIO = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() }
// Long-running commands (appliance run, hub run) resolve only when they have shut down.
process.exitCode = await dispatch(COMMANDS, process.argv.slice(2), io)
