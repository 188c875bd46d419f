export type { Logger } from 'pino'
export { createMetricsRegistry, createHttpMetrics, Counter, Gauge, Registry, type HttpMetrics } from './metrics.js'
export { createSwitchMetrics, type ChainMetricSample, type SwitchMetrics } from './switch-metrics.js'
