export { hostAllowed, hostCheck, hostName } from './host-check.js'
