/**
 * Errors of resource decoding and validation. Each names the object (`Kind namespace/name`) in its message and
 * carries field-level issues, so the REST layer can answer problem+json `errors[]` without parsing text.
 */
import { ApplianceError, type ErrorContext, type FieldIssue } from '../errors.js'

/** The document could not be read as YAML or JSON at all. */
export class DecodeError extends ApplianceError {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    context: ErrorContext = {},
    cause?: unknown,
  ) {
    super('api.decode', message, { context: { ...context, line, column }, cause })
  }
}

/** `kind` names nothing in the registry. */
export class UnknownKindError extends ApplianceError {
  constructor(message: string, context: ErrorContext, issues: readonly FieldIssue[]) {
    super('api.unknown-kind', message, { context, issues })
  }
}

/** A known kind under an apiVersion it does not have. */
export class WrongApiVersionError extends ApplianceError {
  constructor(message: string, context: ErrorContext, issues: readonly FieldIssue[]) {
    super('api.wrong-api-version', message, { context, issues })
  }
}

/** The object does not satisfy its kind's schema; `issues` lists every field that failed. */
export class ValidationError extends ApplianceError {
  constructor(message: string, context: ErrorContext, issues: readonly FieldIssue[]) {
    super('api.validation', message, { context, issues })
  }
}
