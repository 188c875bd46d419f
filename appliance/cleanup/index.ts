export {
  computeCleanupPlan,
  describeKept,
  describeRemovals,
  describeVeth,
  isEmptyPlan,
  type BridgeRemoval,
  type CleanupPlan,
  type CleanupSettings,
  type ObservedHost,
  type PortRemoval,
} from './cleanup-plan.js'
export { applyCleanupPlan, readObservedHost, type CleanupDeps, type CleanupOutcome } from './cleanup-apply.js'
export { runCleanup, type CleanupResult, type CleanupRunOptions, type CleanupTarget } from './run-cleanup.js'
