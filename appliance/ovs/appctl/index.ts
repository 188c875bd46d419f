export { resolveVswitchdCtl } from './ctl-path.js'
export { DEFAULT_TRACE_PACKET, runOfprotoTrace } from './trace.js'
