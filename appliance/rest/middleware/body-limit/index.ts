export { bodyLimit, DEFAULT_BODY_LIMIT, readBodyText } from './body-limit.js'
