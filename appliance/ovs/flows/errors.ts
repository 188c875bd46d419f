/** Errors of the flow model and pipeline verification. */
import { ApplianceError, type ErrorContext, type FieldIssue } from '../../../api/errors.js'

/** A computed flow breaks the model or its table's declaration: a bug in the code that built it. */
export class FlowsInvalidError extends ApplianceError {
  constructor(message: string, context: ErrorContext = {}, issues: readonly FieldIssue[] = []) {
    super('flows.invalid', message, { context, issues })
  }
}
