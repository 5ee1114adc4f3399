/**
 * RFC 0006's success metrics (§1.5, §5.2, §5.3), declared once: the threshold every run is judged
 * by (architecture.md "Metrics against the RFC") and the text reports quote beside it, so a reader
 * sees where a number comes from. Keyed by metric name without tags.
 */
export interface RfcTarget {
  /**
   * The metric key the RFC threshold applies to (latency: payloads under 100 KB; latency and success
   * rate: syncs that overlapped no nemesis fault, harness/history/faulted-syncs.ts).
   */
  key: string;
  /** The k6 expression judged on every run. */
  threshold: string;
  target: string;
  section: string;
  /** Direction in which the metric gets better, used by `compare` to call a change a regression. */
  better: 'lower' | 'higher';
}

export const RFC_TARGETS: Record<string, RfcTarget> = {
  sync_latency_ms: {
    // The RFC promises 2 s to a user's sync, not to one that ran through a server crash or a cut link:
    // judged on syncs with no fault in effect. A scenario bounds its faulted syncs on fault:active.
    key: 'sync_latency_ms{path:phone-cloud,payload:small,fault:none}',
    threshold: 'p(95)<2000',
    target: 'p95 < 2 s (payload < 100 KB, no fault in effect)',
    section: '§1.5, §5.2',
    better: 'lower',
  },
  watch_transfer_ms: {
    key: 'watch_transfer_ms{pack:context}',
    threshold: 'p(95)<10000',
    target: 'p95 < 10 s (context pack ~50 KB)',
    section: '§1.5, §5.2',
    better: 'lower',
  },
  lost_writes: {
    key: 'lost_writes',
    threshold: 'count==0',
    target: '0 (zero data loss)',
    section: '§1.5',
    better: 'lower',
  },
  conflict_rate: {
    key: 'conflict_rate',
    threshold: 'rate<0.01',
    target: '< 1% of syncs',
    section: '§1.5',
    better: 'lower',
  },
  battery_pct_per_sync: {
    key: 'battery_pct_per_sync',
    threshold: 'max<2',
    target: '< 2% per sync',
    section: '§1.5, §5.2',
    better: 'lower',
  },
  sync_success_rate: {
    // As latency: the RFC's 99 % is a healthy system's, judged on the syncs no fault overlapped. A fault
    // scenario states the floor its faulted syncs must keep on fault:active.
    key: 'sync_success_rate{fault:none}',
    threshold: 'rate>0.99',
    target: '> 99% (no fault in effect)',
    section: '§5.3',
    better: 'higher',
  },
  client_memory_mb: {
    key: 'client_memory_mb',
    threshold: 'max<50',
    target: '< 50 MB during sync',
    section: '§5.2',
    better: 'lower',
  },
  sync_metadata_bytes: {
    key: 'sync_metadata_bytes',
    threshold: 'max<1048576',
    target: '< 1 MB per device',
    section: '§5.2',
    better: 'lower',
  },
  concurrent_syncs: {
    key: 'concurrent_syncs',
    threshold: 'max>=1000',
    target: '≥ 1000 held',
    section: '§5.2',
    better: 'higher',
  },
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
