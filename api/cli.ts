/**
 * The shape of a `dpuctl` command. Each part of the product exports its commands (`image/cli.ts`,
 * `appliance/cli/...`); `bin/dpuctl.ts` only collects and dispatches them.
 */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean }
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
  stdin: NodeJS.ReadableStream
  env: NodeJS.ProcessEnv
  cwd: string
}

/**
 * Exit codes: 0 ok, 1 server or validation error, 2 usage error; `dpuctl exec` passes on the exit code (0-255)
 * of the command it ran, as kubectl exec does.
 */
export type ExitCode = number

export interface CliCommand {
  /** Words that select the command, e.g. `['bfb', 'inspect']` or `['get']`. */
  path: readonly string[]
  /** One line for `dpuctl --help`. */
  summary: string
  /** Full usage text for `dpuctl <path> --help`. */
  usage: string
  /** Runs the command with the arguments after `path`. Long-running commands resolve when they stop. */
  run(args: string[], io: CliIO): Promise<ExitCode>
}

/**
 * The commands that may answer a command line whose first word is `word`, loaded on demand so that running a
 * command loads only its own part of the product (the appliance daemon does not carry the hub, image builder
 * or demo); every command when `word` is undefined (help, an unknown word).
 */
export type CliCommandSource = (word: string | undefined) => Promise<readonly CliCommand[]>

/** Thrown (or returned as 2) for bad flags; the dispatcher prints the message and the command's usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}
