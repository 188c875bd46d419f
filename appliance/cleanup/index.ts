export { describeKept, describeRemovals, isEmptyPlan } from './cleanup-plan.js'
export { runCleanup, type CleanupResult, type CleanupRunOptions } from './run-cleanup.js'
