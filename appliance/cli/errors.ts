/** Errors of dpuctl's appliance commands (configuration, server answers). */
import { ApplianceError, type FieldIssue } from '../../api/errors.js'
import type { ErrorCode } from '../../api/error-codes.js'

export class ConfigError extends ApplianceError {
  constructor(message: string, issues: readonly FieldIssue[] = []) {
    super('config.invalid', message, { issues })
  }
}

/** A problem+json answer from the appliance, kept whole so the CLI can print the object and field paths. */
export class ServerProblemError extends ApplianceError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly status: number,
    readonly problem: Record<string, unknown>,
    issues: readonly FieldIssue[],
  ) {
    super(code, message, { issues, context: { status } })
  }
}
