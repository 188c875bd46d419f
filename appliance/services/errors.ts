/** Errors of the service operations the API exposes (logs, exec, restart), mapped to problem+json by code. */
import { ApplianceError } from '../../api/errors.js'

export class ServiceOperationError extends ApplianceError {
  constructor(code: 'service.not-running' | 'service.container-not-found', message: string, context: Record<string, unknown>) {
    super(code, message, { context })
  }
}
