/**
 * Metrics the runner gets for free from a history: sync latency per path, success rate, conflict
 * rate (syncs with >= 1 conflict / ok syncs, also per table), bytes up/down, and propagation time
 * (a write's local ack on one device until the first ok sync of another device of the same user that
 * started after the write's push was acknowledged, so its pull certainly contained it).
 */
import type { HistoryOp } from '../../protocol/history';
import { analyse } from '../checkers/analysis';
import type { DeviceFinalState } from '../checkers/types';
import type { CheckResult } from '../results/types';
import { Metrics } from './registry';

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
  const a = analyse({ history, devices });
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

  for (const s of a.syncs) {
    const p = path(s.device);
    m.count('syncs', 1, { path: p, outcome: s.outcome });
    m.rate('sync_success_rate', s.outcome === 'ok', { path: p });
    const c = s.completion;
    if (c?.bytesUp) m.count('bytes_up', c.bytesUp, { path: p }, 'bytes');
    if (c?.bytesDown) m.count('bytes_down', c.bytesDown, { path: p }, 'bytes');
    if (s.outcome !== 'ok' || !c) continue;
    const bytes =
      c.bytesUp !== undefined || c.bytesDown !== undefined ? (c.bytesUp ?? 0) + (c.bytesDown ?? 0) : undefined;
    const payload = bytes === undefined ? 'unknown' : bytes < small ? 'small' : 'large';
    m.add('sync_latency_ms', c.latencyMs ?? c.time - history[s.pos].time, { path: p, payload });
    m.rate('conflict_rate', s.conflicts.length > 0, { path: p });
    const perTable = new Set<string>();
    for (const cr of s.conflicts) {
      perTable.add(cr.tableName);
      tables.add(cr.tableName);
    }
    for (const t of tables) m.rate('table_conflict_rate', perTable.has(t), { table: t });
    for (const cr of s.conflicts) m.count('conflicts', 1, { table: cr.tableName });
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
      if (lo < o.starts.length) m.add('propagation_ms', Math.max(0, o.sufMinEnd[lo] - w.end), { table: w.table });
    }
  }
  return m;
}

/** Checker outcomes as metrics: `lost_writes` (exact count) and `check_violations{check}`. */
export function metricsFromChecks(results: readonly CheckResult[], metrics: Metrics = new Metrics()): Metrics {
  metrics.define('lost_writes', { kind: 'counter', unit: 'count' });
  metrics.define('check_violations', { kind: 'counter', unit: 'count' });
  for (const r of results) {
    const n =
      (r as CheckResult & { violationCount?: number }).violationCount ?? r.violations.filter((v) => v.id).length;
    metrics.count('check_violations', n, { check: r.name });
    if (r.name === 'lost-writes') metrics.count('lost_writes', n);
  }
  return metrics;
}
