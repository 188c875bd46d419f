export { applyLocalObjects, deleteLocalObjects, type NodeIdentity, type LocalApplyOutcome } from './local-desired.js'
export { startFleetRollup } from './fleet-rollup.js'
