/**
 * Errors of the OpenFlow client. Switch rejections carry the spec names of the OFPT_ERROR type and code, the xid
 * and, where we can tie it back, the offending message; connection-level failures are retryable.
 */
import { ApplianceError, type ErrorContext } from '../../../api/errors.js'

/** The socket is not connected (vswitchd down, bridge missing) or was lost while a request was pending. */
export class OpenFlowUnavailableError extends ApplianceError {
  constructor(message: string, context: ErrorContext = {}, cause?: unknown) {
    super('openflow.unavailable', message, { context, cause, retryable: true })
  }
}

/** The peer sent bytes we cannot accept (garbage, truncation, wrong version, unexpected xid); we reconnect. */
export class OpenFlowProtocolError extends ApplianceError {
  constructor(message: string, context: ErrorContext = {}, cause?: unknown) {
    super('openflow.protocol', message, { context, cause, retryable: true })
  }
}

export class OpenFlowTimeoutError extends ApplianceError {
  constructor(what: string, timeoutMs: number, context: ErrorContext = {}) {
    super('openflow.timeout', `${what}: no reply within ${timeoutMs} ms`, { context: { ...context, timeoutMs }, retryable: true })
  }
}

/** We refuse to build a message (over 64 KiB, unknown field or action, value out of range). */
export class OpenFlowEncodeError extends ApplianceError {
  constructor(message: string, context: ErrorContext = {}) {
    super('openflow.encode', message, { context })
  }
}

/** One OFPT_ERROR, decoded to names and tied to the message that caused it. */
export interface OfpErrorInfo {
  type: number
  code: number
  typeName: string
  codeName: string
  xid: number
  /** What the failing message was (e.g. the flow rendered as ovs-ofctl text), when the sender knows. */
  offending?: string
  /** Position of the offending message in the batch the caller sent. */
  index?: number
}

function describe(e: OfpErrorInfo): string {
  return `${e.typeName}/${e.codeName}${e.offending ? ` for ${e.offending}` : ''}`
}

/** The switch answered OFPT_ERROR to one or more messages of a request or batch. */
export class OpenFlowRejectedError extends ApplianceError {
  readonly errors: readonly OfpErrorInfo[]
  constructor(what: string, errors: readonly OfpErrorInfo[]) {
    const first = errors[0]
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''
    super('openflow.rejected', `${what}: switch rejected ${first ? describe(first) : 'the request'}${more}`, {
      context: { errors: errors.map((e) => ({ ...e })) },
    })
    this.errors = errors
  }
}
