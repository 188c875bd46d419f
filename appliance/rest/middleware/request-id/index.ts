export { requestId, type RequestIdOptions } from './request-id.js'
