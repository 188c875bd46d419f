/** Errors of the switch view (`dpuctl flows`, `dpuctl trace`). */
import { ApplianceError, type ErrorContext } from '../../api/errors.js'

/** The chain has no such port, or the port has no ofport yet, so there is nothing to trace from. */
export class TracePortError extends ApplianceError {
  constructor(message: string, context: ErrorContext = {}) {
    super('trace.port', message, { context })
  }
}

export class UnknownBridgeError extends ApplianceError {
  constructor(bridge: string) {
    super('rest.not-found', `no bridge "${bridge}" in the Open vSwitch database`, { context: { bridge } })
  }
}

/** The sample packet is not ovs-ofctl flow words; `problem` names the word (api/trace-request.ts). */
export class BadPacketError extends ApplianceError {
  constructor(packet: string, problem: string) {
    super('api.validation', `packet "${packet}": ${problem}`, { context: { packet }, issues: [{ path: 'packet', message: problem }] })
  }
}
