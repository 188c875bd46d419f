/** Public surface of the renderer. */
export { renderForNode, RENDERED_FROM_ANNOTATION } from './render-for-node.js'
export { expandDeploymentServices, OWNED_BY_DPUDEPLOYMENT_LABEL, type DeploymentExpansion, type DeploymentProblem } from './expand-deployment.js'
