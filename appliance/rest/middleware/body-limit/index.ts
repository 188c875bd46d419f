export { bodyLimit, DEFAULT_BODY_LIMIT } from './body-limit.js'
