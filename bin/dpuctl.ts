/**
 * dpuctl: the one command line of dpu-appliance. Dispatches to the commands in `commands.ts`
 * by the longest matching word path. Exit codes: 0 ok, 1 server or validation error, 2 usage error.
 */
import { UsageError, type CliCommand, type CliIO, type ExitCode } from '../api/cli.js'
import { COMMANDS } from './commands.js'

function helpText(commands: readonly CliCommand[]): string {
  const rows = [...commands].sort((a, b) => a.path.join(' ').localeCompare(b.path.join(' ')))
  const width = Math.max(...rows.map((c) => c.path.join(' ').length), 8)
  return [
    'dpuctl: control plane for NVIDIA BlueField DPUs (appliance, hub, images)',
    '',
    'Usage: dpuctl <command> [flags]   (dpuctl <command> --help for details)',
    '',
    'Commands:',
    ...rows.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Client flags: --server URL (or DPUCTL_SERVER), --token-file FILE (or DPUCTL_TOKEN_FILE)',
  ].join('\n')
}

function findCommand(args: string[]): { command: CliCommand; rest: string[] } | undefined {
  let best: CliCommand | undefined
  for (const c of COMMANDS) {
    const matches = c.path.every((w, i) => args[i] === w)
    if (matches && (!best || c.path.length > best.path.length)) best = c
  }
  return best ? { command: best, rest: args.slice(best.path.length) } : undefined
}

export async function main(argv: string[], io: CliIO): Promise<ExitCode> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(helpText(COMMANDS) + '\n')
    return argv.length === 0 ? 2 : 0
  }
  const found = findCommand(argv)
  if (!found) {
    io.stderr.write(`dpuctl: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${helpText(COMMANDS)}\n`)
    return 2
  }
  if (found.rest.includes('--help') || found.rest.includes('-h')) {
    io.stdout.write(found.command.usage.trimEnd() + '\n')
    return 0
  }
  try {
    return await found.command.run(found.rest, io)
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`dpuctl ${found.command.path.join(' ')}: ${err.message}\n\n${found.command.usage.trimEnd()}\n`)
      return 2
    }
    const message = err instanceof Error ? err.message : String(err)
    io.stderr.write(`dpuctl ${found.command.path.join(' ')}: ${message}\n`)
    return 1
  }
}

const io: CliIO = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() }
const code = await main(process.argv.slice(2), io)
// Long-running commands (appliance run, hub run) resolve only when they have shut down.
process.exitCode = code
