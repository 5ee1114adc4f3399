import type { UploadSummary } from '../../protocol/files';

/**
 * The shape of `results.json` (schema version below) and of everything reporters receive.
 * Stable and documented in the README: CI and `harness compare` read it. Bump RESULTS_SCHEMA_VERSION
 * on any incompatible change.
 */
export const RESULTS_SCHEMA_VERSION = 1;

export type Verdict = 'passed' | 'failed' | 'flaky' | 'skipped' | 'error';

export interface CheckResult {
  /** e.g. 'convergence', 'lost-writes', 'conflict-rules', 'no-resurrection'. */
  name: string;
  passed: boolean;
  /** One line a person can act on. */
  summary: string;
  /** Each violation, with the history indexes of the operations involved. */
  violations: Array<{ message: string; device?: string; table?: string; id?: string; historyIndexes?: number[] }>;
  /** Exact number of violations when `violations` is capped (absent: the list's length). */
  violationCount?: number;
  durationMs: number;
}

/** One metric's summary. Histograms carry percentiles; counters and rates carry `value`. */
export interface MetricSummary {
  name: string;
  /** e.g. { path: 'phone-cloud' } */
  tags?: Record<string, string>;
  kind: 'trend' | 'counter' | 'rate' | 'gauge';
  unit: 'ms' | 'bytes' | 'count' | 'ratio' | 'mb' | 'pct' | 'ops/s' | 'j';
  /** Whether the values are simulated time (BLE link model, scaled waits) or wall time. */
  time?: 'wall' | 'simulated';
  count?: number;
  value?: number;
  min?: number;
  max?: number;
  mean?: number;
  p50?: number;
  p90?: number;
  p95?: number;
  p99?: number;
  /** Histogram buckets for charts: [upperBound, count]. */
  buckets?: Array<[number, number]>;
}

export interface ThresholdResult {
  /** Metric key as written in config, e.g. 'sync_latency_ms{path:phone-cloud}'. */
  metric: string;
  /** k6 expression, e.g. 'p(95)<2000'. */
  expression: string;
  measured: number | null;
  passed: boolean;
  /** Where the threshold came from: 'rfc' default or 'config'/'scenario'. */
  source: 'rfc' | 'config' | 'scenario';
  /**
   * The metric had no samples (e.g. watch_transfer_ms without a watch): not judged. `passed` stays
   * true so the verdict is not failed, but reports show "no data" and never count it as passed.
   */
  noData?: true;
}

/** RFC §5.3 alert severities: critical pages (PagerDuty), warning posts (Slack), info marks a dashboard. */
export type AlertSeverity = 'critical' | 'warning' | 'info';

/** One RFC alert rule evaluated over the scenario's metrics (harness/metrics/alerts.ts). */
export interface AlertResult {
  name: string;
  metric: string;
  /** The k6 expression that is true while the alert fires, e.g. 'rate<0.95'. */
  fires: string;
  severity: AlertSeverity;
  channel: string;
  /** The rule as the RFC words it, e.g. 'sync failure rate > 5 %'. */
  condition: string;
  section: string;
  /** The metric's value (null: no samples, the alert stays quiet). */
  measured: number | null;
  fired: boolean;
}

export interface FaultSpan {
  name: string;
  targets: string[];
  params?: Record<string, unknown>;
  /** ms since run start */
  start: number;
  end: number | null;
}

export interface DeviceSummary {
  id: string;
  kind: string;
  user: string;
  platform: string;
  ops: number;
  syncs: number;
  syncFailures: number;
  /** The radio/CPU model's estimate over the run, and what real hardware measured beside it (if any). */
  energy?: DeviceEnergySummary & {
    source: 'modelled';
    /** The radio the model charged (lte, 3g, wifi, ble). */
    radio?: string;
    /** Device-clock ms the reading covers. */
    spanMs?: number;
    /** Empty unless real hardware reported (Android batterystats, a watch's Battery Service). */
    measured?: DeviceEnergySummary;
  };
  memoryMb?: { max: number; mean: number };
  /** File upload queue at the end (RFC 2.2.6), for devices that have one. */
  uploads?: UploadSummary;
  bytesUp: number;
  bytesDown: number;
}

export interface DeviceEnergySummary {
  joules: number;
  batteryPct: number;
  batteryPctPerSync?: number;
  /** Scaled to 24 h of device time; only when the reading covers at least an hour of it. */
  joulesPerDay?: number;
  batteryPctPerDay?: number;
  /** The model's breakdown (promotion, active, tail, CPU) or the hardware's readings (levels, app mAh). */
  details?: Record<string, number>;
}

export interface ScenarioResult {
  name: string;
  title?: string;
  tags: string[];
  seed: number;
  verdict: Verdict;
  /** Attempt number (retries), 1-based. */
  attempt: number;
  startedAt: string;
  durationMs: number;
  devices: DeviceSummary[];
  checks: CheckResult[];
  metrics: MetricSummary[];
  thresholds: ThresholdResult[];
  /** RFC §5.3 alert rules over this scenario's metrics; reported, never part of the verdict. */
  alerts?: AlertResult[];
  faults: FaultSpan[];
  /** Relative to the run dir. */
  historyFile: string;
  operations: number;
  error?: { code: string; message: string };
  /** Why the scenario did not run here (verdict `skipped`): missing hardware or tooling, never a pass. */
  skipReason?: string;
  /** Free notes a scenario adds (e.g. "worst BLE profile misses the 10 s target, as expected"). */
  notes?: string[];
}

export interface RunResult {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  runId: string;
  startedAt: string;
  durationMs: number;
  harnessVersion: string;
  /** The command line that produced it (for `harness replay`). */
  argv: string[];
  /** Run options that shape behaviour, so `harness replay` reproduces them. */
  options?: {
    timeScale?: number;
    network?: string;
    brokenServer?: string[];
    serverInstances?: number;
    target?: string;
    adapter?: string;
    configFile?: string;
  };
  seed: number;
  shard?: { index: number; total: number };
  target: { mode: 'started' | 'external'; url: string; services: Record<string, string>; adapter?: string };
  environment: { node: string; platform: string; cpus: number; hostname: string };
  scenarios: ScenarioResult[];
  verdict: Verdict;
  stats: { passed: number; failed: number; flaky: number; skipped: number; error: number };
}
