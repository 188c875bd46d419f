/**
 * The one error base of the project. Every module's `errors.ts` subclasses it with a stable `code`
 * (`domain.kebab-case`, listed in `error-codes.ts`) and structured `context`, so callers decide by code
 * (retry, nack, HTTP status) and never by message text.
 */
import type { ErrorCode } from './error-codes.js'

export type ErrorContext = Readonly<Record<string, unknown>>

export interface FieldIssue {
  /** Dotted field path, e.g. `spec.switches[0].ports[1].serviceInterface.matchLabels`. */
  path: string
  message: string
}

export class ApplianceError extends Error {
  readonly code: ErrorCode
  readonly context: ErrorContext
  /** Field-level problems (validation); empty for other errors. */
  readonly issues: readonly FieldIssue[]
  /** Whether retrying the same operation later may succeed (I/O, connection loss), as opposed to bad input. */
  readonly retryable: boolean

  constructor(code: ErrorCode, message: string, options: { context?: ErrorContext; cause?: unknown; issues?: readonly FieldIssue[]; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.context = options.context ?? {}
    this.issues = options.issues ?? []
    this.retryable = options.retryable ?? false
  }
}

export function isApplianceError(err: unknown): err is ApplianceError {
  return err instanceof ApplianceError
}

/** Decide backoff/nack/rollback from the error's declared nature, never from its message. */
export function isRetryable(err: unknown): boolean {
  return isApplianceError(err) ? err.retryable : false
}
