export { httpMetrics } from './http-metrics.js'
