export { createLogger, type Logger, type LoggerOptions } from './logger.js'
export { createMetricsRegistry, createHttpMetrics, Counter, Gauge, Histogram, Registry, type HttpMetrics } from './metrics.js'
export { createSwitchMetrics, type ChainMetricSample, type SwitchMetrics, type SwitchMetricSources } from './switch-metrics.js'
