export { applyLocalObjects, deleteLocalObjects, RENDERED_FROM, type NodeIdentity, type LocalApplyOutcome, type LocalDeleteOutcome } from './local-desired.js'
export { startFleetRollup, computeRollup, ownerOf, RENDERED } from './fleet-rollup.js'
export { RenderedObjectError } from './errors.js'
