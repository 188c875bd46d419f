/** Errors of the federation hub: a fleet source that could not be read. */
import { ApplianceError, type FieldIssue } from '../../api/errors.js'

/** A fleet source (manifest directory, Kubernetes API) could not be read. */
export class SourceError extends ApplianceError {
  constructor(message: string, options: { context?: Record<string, unknown>; cause?: unknown; issues?: readonly FieldIssue[]; retryable?: boolean } = {}) {
    super('federation.source', message, options)
  }
}
