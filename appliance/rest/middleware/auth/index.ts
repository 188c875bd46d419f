export { bearerAuth, tokensEqual } from './bearer.js'
