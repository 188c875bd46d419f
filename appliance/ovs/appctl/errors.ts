/** Errors of talking to ovs-vswitchd through its unixctl socket (`ovs-appctl -t <ctl>`). */
import { ApplianceError, type ErrorContext } from '../../../api/errors.js'

/** No control socket found, or vswitchd is not answering on it (restarting): retry later. */
export class AppctlUnavailableError extends ApplianceError {
  constructor(message: string, context: ErrorContext = {}, cause?: unknown) {
    super('appctl.unavailable', message, { context, cause, retryable: true })
  }
}

/** vswitchd answered with an error (unknown bridge, a flow it cannot parse). */
export class AppctlFailedError extends ApplianceError {
  constructor(message: string, context: ErrorContext = {}, cause?: unknown) {
    super('appctl.failed', message, { context, cause })
  }
}
