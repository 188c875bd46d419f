export { bodyLimit, readBodyText } from './body-limit.js'
