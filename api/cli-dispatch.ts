/**
 * dpuctl's dispatcher: finds the command by the longest matching word path, after the client flags a kubectl
 * user writes first (`dpuctl --server URL get sc`), and turns its outcome into an exit code: 0 ok, 1 server or
 * validation error, 2 usage error (message, then the command's usage).
 */
import { UsageError, type CliCommand, type CliCommandSource, type CliIO, type ExitCode } from './cli.js'
import { GLOBAL_FLAG_NAMES, splitGlobalFlags } from './cli-global-flags.js'

function helpText(commands: readonly CliCommand[]): string {
  const rows = [...commands].sort((a, b) => a.path.join(' ').localeCompare(b.path.join(' ')))
  const width = Math.max(...rows.map((c) => c.path.join(' ').length), 8)
  return [
    'dpuctl: control plane for NVIDIA BlueField DPUs (appliance, hub, images)',
    '',
    'Usage: dpuctl <command> [flags]   (dpuctl <command> --help for details; dpuctl --version)',
    '',
    'Commands:',
    ...rows.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Client flags: --server URL (or DPUCTL_SERVER), --token-file FILE (or DPUCTL_TOKEN_FILE);',
    `${GLOBAL_FLAG_NAMES.join(', ')} may also come before the command.`,
  ].join('\n')
}

function findCommand(commands: readonly CliCommand[], args: readonly string[]): { command: CliCommand; rest: string[] } | undefined {
  let best: CliCommand | undefined
  for (const c of commands) {
    const matches = c.path.every((w, i) => args[i] === w)
    if (matches && (!best || c.path.length > best.path.length)) best = c
  }
  return best ? { command: best, rest: args.slice(best.path.length) } : undefined
}

/**
 * Runs the command `argv` names. Long-running commands (appliance run, hub run) resolve when they stop. With a
 * `CliCommandSource`, only the commands for the first word are loaded (all of them for help and errors).
 */
export async function dispatch(commands: readonly CliCommand[] | CliCommandSource, argv: readonly string[], io: CliIO): Promise<ExitCode> {
  const load: CliCommandSource = typeof commands === 'function' ? commands : () => Promise.resolve(commands)
  let leading: string[]
  let words: string[]
  try {
    ;({ leading, rest: words } = splitGlobalFlags(argv))
  } catch (err) {
    io.stderr.write(`dpuctl: ${(err as Error).message}\n\n${helpText(await load(undefined))}\n`)
    return 2
  }
  // `dpuctl --version` is `dpuctl version` (its flags, e.g. --client, still apply)
  if (words[0] === '--version') words = ['version', ...words.slice(1)]
  if (words.length === 0 || words[0] === '--help' || words[0] === '-h' || words[0] === 'help') {
    io.stdout.write(helpText(await load(undefined)) + '\n')
    return words.length === 0 ? 2 : 0
  }
  const found = findCommand(await load(words[0]), words)
  if (!found) {
    const what = words[0]!.startsWith('-') ? `unknown flag ${words[0]}` : `unknown command "${words.slice(0, 2).join(' ')}"`
    io.stderr.write(`dpuctl: ${what}\n\n${helpText(await load(undefined))}\n`)
    return 2
  }
  // After `--` the words are a command's own (`dpuctl exec svc -- ls -h`), not dpuctl's.
  const dash = found.rest.indexOf('--')
  const own = dash < 0 ? found.rest : found.rest.slice(0, dash)
  if (own.includes('--help') || own.includes('-h')) {
    io.stdout.write(found.command.usage.trimEnd() + '\n')
    return 0
  }
  try {
    return await found.command.run([...leading, ...found.rest], io)
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
