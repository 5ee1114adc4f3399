/**
 * What reports need of the RFC targets, the metric keys and the threshold grammar, all from
 * harness/metrics (declared once there).
 */
import { seriesKey } from '../harness/metrics/registry';
import {
  baseMetricName,
  betterDirection,
  RFC_TARGETS,
  type RfcTarget,
  rfcTargetFor,
} from '../harness/metrics/rfc-targets';
import { parseExpression, parseMetricKey } from '../harness/metrics/thresholds';

export { baseMetricName, betterDirection, RFC_TARGETS, type RfcTarget, rfcTargetFor };

/** Canonical metric key as thresholds write it: name{k:v,k2:v2} (tags sorted). */
export const metricKey: (name: string, tags?: Record<string, string>) => string = seriesKey;

/**
 * A threshold key as written (`sync_latency_ms{path:phone-cloud,payload:small,fault:none}`) in the
 * canonical form of the series it selects (tags sorted), so it finds the metric it bounds.
 */
export function canonicalMetricKey(key: string): string {
  try {
    const { name, tags } = parseMetricKey(key);
    return metricKey(name, tags);
  } catch {
    return key;
  }
}

/** A threshold expression as reports draw it: statistic (`p95`, `max`, `rate`…), operator, bound. */
export function parseThresholdExpression(expr: string): { stat: string; op: string; value: number } | null {
  const e = parseExpression(expr);
  if (!e) return null;
  return { stat: e.aggregation === 'p' ? `p${e.percentile}` : e.aggregation, op: e.op, value: e.target };
}
