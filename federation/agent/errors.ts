/** Errors of the federation agent. */
import { ApplianceError } from '../../api/errors.js'

/** The hub sent a revision that is not newer than the one already applied. */
export class StaleRevisionError extends ApplianceError {
  constructor(
    readonly revision: number,
    readonly applied: number,
  ) {
    super('federation.stale-revision', `revision ${revision} is not newer than the applied revision ${applied}`, { context: { revision, applied } })
  }
}
