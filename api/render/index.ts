/** Public surface of the renderer. */
export { renderForNode, RENDERED_FROM_ANNOTATION, type RenderNode } from './render-for-node.js'
export { RenderError } from './errors.js'
