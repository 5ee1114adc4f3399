/**
 * Metrics the runner gets for free from a history: sync latency per path, payload size and
 * `fault:none|active` (whether the sync overlapped a nemesis fault window that applies to its device,
 * harness/history/faulted-syncs.ts: the RFC targets judge `fault:none`), success rate per path and
 * `fault:none|active` (the same tag), conflict
 * rate (syncs with >= 1 conflict / ok syncs, also per table), bytes up/down, and propagation time
 * (a write's local ack on one device until the first ok sync of another device of the same user that
 * started after the write's push was acknowledged, so its pull certainly contained it), and the
 * sync-loops checker's figures: `sync_loop_devices{loop:repull|failing}` (devices in a loop) and
 * `sync_consecutive_failures{device}` (per device, its longest run of failed syncs with no fault in
 * effect, or its failures in a row at the end of the run if more), so `count==0` and `max<5` are
 * thresholds.
 */
import type { HistoryOp } from '../../protocol/history';
import { analyse, cachedAnalysis } from '../checkers/analysis';
import { loopsOf, syncLoopStats } from '../checkers/sync-loops';
import type { DeviceFinalState } from '../checkers/types';
import { faultTagger, faultWindows } from '../history/faulted-syncs';
import type { CheckResult } from '../results/types';
import { type MetricKind, Metrics, type MetricUnit, type SeriesHandle, seriesKey, type Tags } from './registry';

export interface DeriveOptions {
  /** Add to this registry (default: a new one). */
  metrics?: Metrics;
  /** Devices of the run: user for propagation, kind for the path tag. */
  devices?: ReadonlyArray<{ id: string; user?: string; kind?: string; schemaVersion?: 1 | 2 }>;
  /** Path tag of a device's syncs. Default `${kind}-cloud`, `phone-cloud` when the kind is unknown. */
  pathOf?: (deviceId: string) => string;
  /** Payloads below this many bytes (up + down) are tagged payload:small. Default 100 KB (the RFC target). */
  smallPayloadBytes?: number;
}

export function deriveHistoryMetrics(history: readonly HistoryOp[], opts: DeriveOptions = {}): Metrics {
  const m = opts.metrics ?? new Metrics();
  m.define('sync_latency_ms', { kind: 'trend', unit: 'ms', time: 'wall' });
  m.define('propagation_ms', { kind: 'trend', unit: 'ms', time: 'wall' });
  m.define('sync_success_rate', { kind: 'rate', unit: 'ratio' });
  m.define('conflict_rate', { kind: 'rate', unit: 'ratio' });
  m.define('table_conflict_rate', { kind: 'rate', unit: 'ratio' });
  m.define('syncs', { kind: 'counter', unit: 'count' });
  m.define('conflicts', { kind: 'counter', unit: 'count' });
  m.define('bytes_up', { kind: 'counter', unit: 'bytes' });
  m.define('bytes_down', { kind: 'counter', unit: 'bytes' });
  const kinds = new Map((opts.devices ?? []).map((d) => [d.id, d.kind]));
  const pathOf = opts.pathOf ?? ((id: string) => `${kinds.get(id) ?? 'phone'}-cloud`);
  const small = opts.smallPayloadBytes ?? 100 * 1024;
  const devices: DeviceFinalState[] = (opts.devices ?? [])
    .filter((d) => d.user !== undefined)
    .map((d) => ({ id: d.id, user: d.user!, schemaVersion: d.schemaVersion ?? 2, snapshot: {}, pendingChanges: 0 }));
  // Reuse the checkers' analysis of this history (the runner checks first): at a million ops it is
  // the most expensive step.
  const a = cachedAnalysis(history) ?? analyse({ history, devices });
  const tables = new Set<string>();
  for (const w of a.writes) tables.add(w.table);
  const pathCache = new Map<string, string>();
  const path = (d: string) => {
    let p = pathCache.get(d);
    if (p === undefined) {
      p = pathOf(d);
      pathCache.set(d, p);
    }
    return p;
  };

  // Series handles, cached: a million-op history records hundreds of thousands of samples.
  const handles = new Map<string, SeriesHandle>();
  const h = (name: string, kind: MetricKind, tags: Tags, unit?: MetricUnit): SeriesHandle => {
    const key = seriesKey(name, tags);
    let x = handles.get(key);
    if (!x) {
      x = m.handle(name, kind, tags, unit);
      handles.set(key, x);
    }
    return x;
  };
  const faultOf = faultTagger(faultWindows(history));
  const tableRate = new Map<string, SeriesHandle>();
  const tableConflicts = new Map<string, SeriesHandle>();
  for (const s of a.syncs) {
    const p = path(s.device);
    h('syncs', 'counter', { path: p, outcome: s.outcome }).count(1);
    // Success and latency share one fault tag per sync: the RFC targets judge fault:none.
    const fault = faultOf(s.device, s.start, s.end);
    h('sync_success_rate', 'rate', { path: p, fault }).rate(s.outcome === 'ok');
    const c = s.completion;
    if (c?.bytesUp) h('bytes_up', 'counter', { path: p }, 'bytes').count(c.bytesUp);
    if (c?.bytesDown) h('bytes_down', 'counter', { path: p }, 'bytes').count(c.bytesDown);
    if (s.outcome !== 'ok' || !c) continue;
    const bytes =
      c.bytesUp !== undefined || c.bytesDown !== undefined ? (c.bytesUp ?? 0) + (c.bytesDown ?? 0) : undefined;
    const payload = bytes === undefined ? 'unknown' : bytes < small ? 'small' : 'large';
    h('sync_latency_ms', 'trend', { path: p, payload, fault }).add(c.latencyMs ?? c.time - history[s.pos].time);
    h('conflict_rate', 'rate', { path: p }).rate(s.conflicts.length > 0);
    const perTable = new Set<string>();
    for (const cr of s.conflicts) {
      perTable.add(cr.tableName);
      tables.add(cr.tableName);
    }
    for (const t of tables) {
      let r = tableRate.get(t);
      if (!r) {
        r = m.handle('table_conflict_rate', 'rate', { table: t });
        tableRate.set(t, r);
      }
      r.rate(perTable.has(t));
    }
    for (const cr of s.conflicts) {
      let k = tableConflicts.get(cr.tableName);
      if (!k) {
        k = m.handle('conflicts', 'counter', { table: cr.tableName });
        tableConflicts.set(cr.tableName, k);
      }
      k.count(1);
    }
  }

  m.define('sync_loop_devices', { kind: 'counter', unit: 'count' });
  m.define('sync_consecutive_failures', { kind: 'trend', unit: 'count' });
  const loops = syncLoopStats(history);
  if (loops.size) {
    // Zero counts too: "no device in a loop" is a measurement a threshold can judge, not "no data".
    const inLoop = { repull: 0, failing: 0 };
    for (const [device, st] of loops) {
      for (const k of loopsOf(st)) inLoop[k]++;
      h('sync_consecutive_failures', 'trend', { device }, 'count').add(
        Math.max(st.unexcusedFailureStreak, st.trailingFailures),
      );
    }
    for (const [loop, n] of Object.entries(inLoop)) h('sync_loop_devices', 'counter', { loop }).count(n);
  }

  // Propagation: per device, ok syncs by start with the suffix minimum of their ends.
  const okByDev = new Map<string, { starts: Float64Array; sufMinEnd: Float64Array }>();
  for (const d of a.deviceNames) {
    const ok = a.syncs.filter((s) => s.device === d && s.outcome === 'ok').sort((x, y) => x.start - y.start);
    const starts = Float64Array.from(ok, (s) => s.start);
    const sufMinEnd = new Float64Array(ok.length);
    let min = Number.POSITIVE_INFINITY;
    for (let i = ok.length - 1; i >= 0; i--) {
      min = Math.min(min, ok[i].end);
      sufMinEnd[i] = min;
    }
    okByDev.set(d, { starts, sufMinEnd });
  }
  const peers = new Map<string, string[]>();
  for (const d of a.deviceNames) {
    const u = a.deviceUser.get(d) ?? 'default';
    peers.set(u, [...(peers.get(u) ?? []), d]);
  }
  const propagation = new Map<string, SeriesHandle>();
  for (const w of a.writes) {
    if (!w.acked) continue;
    for (const e of peers.get(w.user) ?? []) {
      if (e === w.device) continue;
      const o = okByDev.get(e)!;
      let lo = 0;
      let hi = o.starts.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (o.starts[mid] < w.pushHi) lo = mid + 1;
        else hi = mid;
      }
      if (lo < o.starts.length) {
        let t = propagation.get(w.table);
        if (!t) {
          t = m.handle('propagation_ms', 'trend', { table: w.table });
          propagation.set(w.table, t);
        }
        t.add(Math.max(0, o.sufMinEnd[lo] - w.end));
      }
    }
  }
  return m;
}

/** Checker outcomes as metrics: `lost_writes` (exact count) and `check_violations{check}`. */
export function metricsFromChecks(results: readonly CheckResult[], metrics: Metrics = new Metrics()): Metrics {
  metrics.define('lost_writes', { kind: 'counter', unit: 'count' });
  metrics.define('check_violations', { kind: 'counter', unit: 'count' });
  for (const r of results) {
    // Every listed violation counts (scenario-assertions' carry no record id); a failed check is
    // never recorded as 0 violations.
    const listed = r.violationCount ?? r.violations.length;
    const n = r.passed ? listed : Math.max(1, listed);
    metrics.count('check_violations', n, { check: r.name });
    if (r.name === 'lost-writes') metrics.count('lost_writes', n);
  }
  return metrics;
}
