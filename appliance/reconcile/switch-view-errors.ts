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

export class BadPacketError extends ApplianceError {
  constructor(packet: string) {
    super('api.validation', `packet "${packet}" is not a list of ovs-ofctl flow fields (e.g. dl_src=02:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff)`, {
      issues: [{ path: 'packet', message: 'expected comma-separated field=value words, without in_port' }],
    })
  }
}
