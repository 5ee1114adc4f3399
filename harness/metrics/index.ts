export { type DeriveOptions, deriveHistoryMetrics, metricsFromChecks } from './derive';
export {
  type Aggregate,
  type MetricDefinition,
  type MetricKind,
  Metrics,
  type MetricUnit,
  seriesKey,
  type Tags,
} from './registry';
export { baseMetricName, betterDirection, RFC_TARGETS, type RfcTarget, rfcTargetFor } from './rfc-targets';
export {
  type Aggregation,
  type Comparator,
  checkThresholds,
  evaluateThresholds,
  layerThresholds,
  mergeThresholdSpecs,
  type ParsedThreshold,
  parseExpression,
  parseMetricKey,
  parseThreshold,
  parseThresholds,
  RFC_THRESHOLDS,
  replacesThresholdKey,
  type ThresholdEvaluation,
  type ThresholdSource,
  type ThresholdSpec,
} from './thresholds';
