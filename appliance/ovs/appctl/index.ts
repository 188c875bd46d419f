export { resolveVswitchdCtl } from './ctl-path.js'
export { DEFAULT_TRACE_PACKET, parseTrace, runOfprotoTrace, type TraceResult, type TraceStep } from './trace.js'
export { AppctlFailedError, AppctlUnavailableError } from './errors.js'
