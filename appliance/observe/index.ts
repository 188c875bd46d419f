export type { Logger } from 'pino'
export { createMetricsRegistry, createHttpMetrics, Counter, Gauge, Histogram, Registry, type HttpMetrics } from './metrics.js'
export { createSwitchMetrics, type ChainMetricSample, type SwitchMetrics, type SwitchMetricSources } from './switch-metrics.js'
