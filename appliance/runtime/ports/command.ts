/**
 * Runs one host command by argv through execFile: no shell, so names that reach us from the API can never be
 * interpreted as shell syntax. Every failure becomes a CommandFailedError carrying argv, exit code and stderr.
 */
import { execFile } from 'node:child_process'
import { CommandFailedError } from './errors.js'

export interface CommandResult {
  stdout: string
  stderr: string
}

export interface CommandOptions {
  /** Kill the command after this long (default 15 s); a hung `ip` or `devlink` must not stall a reconcile. */
  timeoutMs?: number
}

/** Executes argv[0] with the remaining arguments; a thing that runs commands, replaceable for dry runs. */
export type CommandRunner = (argv: readonly string[], options?: CommandOptions) => Promise<CommandResult>

/** The real runner: execFile, resolves with stdout/stderr on exit 0, rejects with CommandFailedError otherwise. */
export const runCommand: CommandRunner = (argv, options = {}) => {
  const [file, ...args] = argv
  if (file === undefined) return Promise.reject(new CommandFailedError(argv, null, 'empty argv'))
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: options.timeoutMs ?? 15_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8', killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr })
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string | null }
      const exitCode = typeof e.code === 'number' ? e.code : null
      const spawnProblem = typeof e.code === 'string' ? `${e.code}: ${e.message}` : ''
      reject(
        new CommandFailedError(argv, exitCode, stderr || spawnProblem, {
          signal: e.signal ?? null,
          timedOut: e.killed === true && e.signal === 'SIGKILL' && exitCode === null,
          cause: err,
        }),
      )
    })
  })
}
