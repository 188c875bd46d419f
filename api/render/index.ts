/** Public surface of the renderer. */
export { renderForNode, RENDERED_FROM_ANNOTATION } from './render-for-node.js'
export { expandDeploymentServices } from './expand-deployment.js'
