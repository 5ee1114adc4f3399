/**
 * RFC 0006's success metrics (§1.5, §5.2, §5.3) as the reports quote them next to each threshold, so a
 * reader sees where a number comes from. Keyed by metric name without tags.
 */
export interface RfcTarget {
  target: string;
  section: string;
  /** Direction in which the metric gets better, used by `compare` to call a change a regression. */
  better: 'lower' | 'higher';
}

export const RFC_TARGETS: Record<string, RfcTarget> = {
  sync_latency_ms: { target: 'p95 < 2 s (payload < 100 KB)', section: '§1.5, §5.2', better: 'lower' },
  watch_transfer_ms: { target: 'p95 < 10 s (context pack ~50 KB)', section: '§1.5, §5.2', better: 'lower' },
  lost_writes: { target: '0 (zero data loss)', section: '§1.5', better: 'lower' },
  conflict_rate: { target: '< 1% of syncs', section: '§1.5', better: 'lower' },
  battery_pct_per_sync: { target: '< 2% per sync', section: '§1.5, §5.2', better: 'lower' },
  sync_success_rate: { target: '> 99%', section: '§5.3', better: 'higher' },
  client_memory_mb: { target: '< 50 MB during sync', section: '§5.2', better: 'lower' },
  concurrent_syncs: { target: '≥ 1000 held', section: '§5.2', better: 'higher' },
};

/** `sync_latency_ms{path:phone-cloud}` → `sync_latency_ms`. */
export function baseMetricName(key: string): string {
  const i = key.indexOf('{');
  return i < 0 ? key : key.slice(0, i);
}

export function rfcTargetFor(metricKey: string): RfcTarget | undefined {
  return RFC_TARGETS[baseMetricName(metricKey)];
}

/** Higher-is-better for metrics the RFC does not list: rates of success, throughput, concurrency. */
export function betterDirection(metricKey: string, unit?: string): 'lower' | 'higher' {
  const t = rfcTargetFor(metricKey);
  if (t) return t.better;
  if (unit === 'ops/s' || /success|throughput|concurrent|held|converged/.test(metricKey)) return 'higher';
  return 'lower';
}

/** Canonical metric key as thresholds write it: name{k:v,k2:v2} (tags sorted). */
export function metricKey(name: string, tags?: Record<string, string>): string {
  const entries = Object.entries(tags ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return entries.length ? `${name}{${entries.map(([k, v]) => `${k}:${v}`).join(',')}}` : name;
}

/** k6 threshold expression ('p(95)<2000', 'rate>0.99', 'count==0') → statistic, operator, bound. */
export function parseThresholdExpression(expr: string): { stat: string; op: string; value: number } | null {
  const m =
    /^\s*(p\(\s*(\d+(?:\.\d+)?)\s*\)|avg|mean|max|min|med|rate|count|value)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(
      expr,
    );
  if (!m) return null;
  return { stat: m[2] ? `p${m[2]}` : m[1]!, op: m[3]!, value: Number(m[4]) };
}
