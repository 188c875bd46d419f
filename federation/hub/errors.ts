/** Errors of the federation hub: sources, identity, and per-stream protocol violations. */
import { ApplianceError, type FieldIssue } from '../../api/errors.js'

/** A fleet source (manifest directory, Kubernetes API) could not be read. */
export class SourceError extends ApplianceError {
  constructor(message: string, options: { context?: Record<string, unknown>; cause?: unknown; issues?: readonly FieldIssue[]; retryable?: boolean } = {}) {
    super('federation.source', message, options)
  }
}

/** The peer certificate names no DPU, or a message claims another identity than the certificate. */
export class IdentityError extends ApplianceError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('federation.identity', message, { context })
  }
}
