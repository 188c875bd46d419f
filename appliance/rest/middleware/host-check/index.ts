export { hostAllowed, hostCheck, hostName, HostNotAllowedError } from './host-check.js'
