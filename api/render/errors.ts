/** Errors of rendering fleet objects into per-DPU objects. */
import { ApplianceError, type ErrorContext, type FieldIssue } from '../errors.js'

/** The fleet object or the node cannot produce a valid per-DPU object. */
export class RenderError extends ApplianceError {
  constructor(message: string, context: ErrorContext, issues: readonly FieldIssue[] = []) {
    super('api.render', message, { context, issues })
  }
}
