/** Errors of the development certificate tooling. */
import { ApplianceError } from '../../api/errors.js'

/** openssl failed or an input (name, directory) is not usable. */
export class CertificateError extends ApplianceError {
  constructor(message: string, options: { context?: Record<string, unknown>; cause?: unknown } = {}) {
    super('federation.certs', message, options)
  }
}
