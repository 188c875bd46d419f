/** Errors of the Ignition renderer: inputs (flavor, appliance config, keys) that cannot become a valid config. */
import { ApplianceError, type FieldIssue } from '../api/errors.js'

export class IgnitionInputError extends ApplianceError {
  constructor(message: string, issues: readonly FieldIssue[] = [], context: Record<string, unknown> = {}) {
    super('ignition.input', issues.length ? `${message}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}` : message, {
      issues,
      context,
    })
  }
}
