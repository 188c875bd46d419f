/**
 * Errors of the port providers. Host commands fail with the argv, exit code and stderr in `context`, so the
 * reconciler's status message names the exact command a human can rerun.
 */
import { ApplianceError } from '../../../api/errors.js'

export class CommandFailedError extends ApplianceError {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    options: { signal?: string | null; timedOut?: boolean; cause?: unknown } = {},
  ) {
    const why = options.timedOut ? 'timed out' : exitCode === null ? `killed by ${options.signal ?? 'a signal'}` : `exited ${exitCode}`
    const detail = stderr.trim().split('\n')[0] ?? ''
    super('runtime.command-failed', `${argv.join(' ')}: ${why}${detail ? `: ${detail}` : ''}`, {
      context: { command: argv.join(' '), argv: [...argv], exitCode, stderr: stderr.trim(), signal: options.signal ?? null },
      cause: options.cause,
      // The host changes under us (a netns appears, a device is released, devlink is busy): trying again later
      // is the right reaction, and the reconcile runner backs off.
      retryable: true,
    })
  }
}

export class InvalidNameError extends ApplianceError {
  constructor(
    readonly kind: 'interface' | 'netns',
    readonly value: string,
    reason: string,
  ) {
    super('runtime.invalid-name', `invalid ${kind} name ${JSON.stringify(value)}: ${reason}`, {
      context: { kind, name: value, reason },
      issues: [{ path: kind, message: reason }],
    })
  }
}

export class UnexpectedOutputError extends ApplianceError {
  constructor(argv: readonly string[], reason: string, output: string, cause?: unknown) {
    super('runtime.unexpected-output', `${argv.join(' ')}: ${reason}`, {
      context: { command: argv.join(' '), reason, output: output.slice(0, 2000) },
      cause,
    })
  }
}

/** A service interface waits for its pod: the runtime backend creates the namespace, the port provider never does. */
export class SandboxMissingError extends ApplianceError {
  constructor(readonly netns: string) {
    super('runtime.sandbox-missing', `network namespace ${netns} does not exist yet: the service's pod sandbox provides it`, { context: { netns }, retryable: true })
  }
}
