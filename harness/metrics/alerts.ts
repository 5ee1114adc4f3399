/**
 * RFC 0006 §5.3's alert rules, evaluated over a run's metrics: what production would page, post or
 * flag on a dashboard had it seen this traffic. Alerts are reported beside the thresholds with their
 * severity and channel; they never change a verdict (a fault scenario is meant to make syncs fail, and
 * the RFC's pass/fail targets are the thresholds). A scenario asserts on them with
 * `expectAlerts` when firing (or staying quiet) is what it proves.
 */
import type { AlertResult } from '../results/types';
import type { Metrics } from './registry';
import { evaluateThresholds, parseThreshold } from './thresholds';

/** A rule is its result without the evaluation (one definition of the fields, in results/types). */
export type AlertRule = Omit<AlertResult, 'measured' | 'fired'>;

/**
 * §5.3 "Alerting", one row per bullet. The failure rate is read from `sync_success_rate` (failure rate
 * > 5 % is success < 95 %); latency from the p95 of every sync (the same statistic as the §5.2 target,
 * so one slow first sync on a bad network does not raise it alone).
 */
export const RFC_ALERT_RULES: readonly AlertRule[] = [
  {
    name: 'sync-failure-rate',
    metric: 'sync_success_rate',
    fires: 'rate<0.95',
    severity: 'critical',
    channel: 'PagerDuty',
    condition: 'sync failure rate > 5 %',
    section: '§5.3',
  },
  {
    name: 'conflict-rate',
    metric: 'conflict_rate',
    fires: 'rate>0.1',
    severity: 'warning',
    channel: 'Slack',
    condition: 'conflict rate > 10 %',
    section: '§5.3',
  },
  {
    name: 'sync-latency',
    metric: 'sync_latency_ms',
    fires: 'p(95)>10000',
    severity: 'info',
    channel: 'Dashboard',
    condition: 'sync latency > 10 s (p95)',
    section: '§5.3',
  },
];

export const ALERT_NAMES: readonly string[] = RFC_ALERT_RULES.map((r) => r.name);

/** Each rule against the metrics; a metric without samples leaves its alert quiet (`measured: null`). */
export function evaluateAlerts(metrics: Metrics, rules: readonly AlertRule[] = RFC_ALERT_RULES): AlertResult[] {
  return rules.map((r) => {
    const [e] = evaluateThresholds(metrics, [parseThreshold(r.metric, r.fires, 'rfc')]);
    const noData = e.measured === null;
    return {
      name: r.name,
      metric: r.metric,
      fires: r.fires,
      severity: r.severity,
      channel: r.channel,
      condition: r.condition,
      section: r.section,
      measured: e.measured,
      fired: !noData && e.passed,
    };
  });
}
