/**
 * After a scenario: run the checkers over history + final states, derive metrics from the history,
 * evaluate thresholds (RFC defaults, then config, then scenario), and summarise devices and faults.
 */
import type { EnergyReading } from '../../protocol/device';
import type { UploadSummary } from '../../protocol/files';
import type { HistoryOp } from '../../protocol/history';
import type { TableRecords } from '../../protocol/records';
import { runCheckers } from '../checkers/index';
import type { ServerLogRow } from '../checkers/types';
import { evaluateAlerts } from '../metrics/alerts';
import {
  deriveHistoryMetrics,
  evaluateThresholds,
  layerThresholds,
  metricsFromChecks,
  RFC_THRESHOLDS,
} from '../metrics/index';
import type { ExportedSeries } from '../metrics/registry';
import type {
  AlertResult,
  CheckResult,
  DeviceSummary,
  FaultSpan,
  MetricSummary,
  ThresholdResult,
} from '../results/types';
import type { ScenarioDefinition } from './scenario';
import type { SyncMetadataSize } from './sync-metadata';

export interface AnalysisInput {
  def: ScenarioDefinition;
  history: HistoryOp[];
  serverState: Record<string, TableRecords>;
  devices: Array<{ id: string; user: string; snapshot: TableRecords; pendingChanges: number; schemaVersion: 1 | 2 }>;
  assertions: Array<{ ok: boolean; message: string }>;
  custom: Array<{ name: string; value: number; tags?: Record<string, string> }>;
  /** Whole series from the workload (ctx.mergeMetrics). */
  series?: readonly ExportedSeries[];
  memory: Map<string, number[]>;
  deviceInfo: Array<{
    id: string;
    kind: string;
    user: string;
    energy?: EnergyReading;
    uploads?: UploadSummary;
    /** Syncs of a paired device (a watch), whose ops are not in `history`. */
    pairedSyncs?: number;
  }>;
  configThresholds: Record<string, string[]>;
  fatal?: { code: string; message: string };
  /** The server's sync_log rows of this scenario's devices (absent with --target). */
  serverLog?: readonly ServerLogRow[];
  /** Sync metadata per device (RFC §5.2), server and device side, measured after the run. */
  syncMetadata?: readonly SyncMetadataSize[];
  /** The server lists resolved conflicts in every push answer (see CheckInput.conflictsReported). */
  conflictsReported?: boolean;
  /** Checks decided outside the checkers: the scenario's own (probes), the gateway's, a stopped workload. */
  extraChecks?: CheckResult[];
}

export interface Analysis {
  checks: CheckResult[];
  metrics: MetricSummary[];
  thresholds: ThresholdResult[];
  alerts: AlertResult[];
  faults: FaultSpan[];
  devices: DeviceSummary[];
}

/** The scenario's `expectAlerts` against what fired. */
export function alertExpectationsCheck(
  expect: ScenarioDefinition['expectAlerts'],
  alerts: readonly AlertResult[],
): CheckResult | undefined {
  if (!expect) return undefined;
  const by = new Map(alerts.map((a) => [a.name, a]));
  const shown = (a: AlertResult | undefined) =>
    a
      ? `${a.condition}, ${a.metric} ${a.measured === null ? 'had no samples' : `measured ${a.measured}`}`
      : 'not evaluated';
  const violations = [
    ...(expect.fired ?? [])
      .filter((n) => !by.get(n)?.fired)
      .map((n) => ({ message: `alert ${n} did not fire (${shown(by.get(n))})` })),
    ...(expect.quiet ?? [])
      .filter((n) => by.get(n)?.fired)
      .map((n) => ({ message: `alert ${n} fired (${shown(by.get(n))})` })),
  ];
  const fired = alerts.filter((a) => a.fired).map((a) => `${a.name} (${a.severity})`);
  return {
    name: 'alert-expectations',
    passed: violations.length === 0,
    summary: violations.length
      ? violations.map((v) => v.message).join('; ')
      : `alerts as expected; fired: ${fired.join(', ') || 'none'}`,
    violations,
    durationMs: 0,
  };
}

export function faultSpans(history: HistoryOp[]): FaultSpan[] {
  const open = new Map<string, FaultSpan>();
  const out: FaultSpan[] = [];
  for (const op of history) {
    if (op.type !== 'invoke' || !op.fault) continue;
    const label = String((op.fault.params as Record<string, unknown> | undefined)?.label ?? op.fault.name);
    if (op.f === 'fault-start' && !op.error) {
      const span: FaultSpan = {
        name: op.fault.name,
        targets: op.fault.targets ?? [],
        params: op.fault.params,
        start: op.time,
        end: null,
      };
      open.set(label, span);
      out.push(span);
    } else if (op.f === 'fault-stop') {
      const s = open.get(label);
      if (s) {
        s.end = op.time;
        open.delete(label);
      }
    }
  }
  return out;
}

function assertionsCheck(a: AnalysisInput['assertions']): CheckResult | undefined {
  if (!a.length) return undefined;
  const failed = a.filter((x) => !x.ok);
  return {
    name: 'scenario-assertions',
    passed: failed.length === 0,
    summary: failed.length
      ? `${failed.length} of ${a.length} scenario expectations failed: ${failed[0].message}`
      : `${a.length} scenario expectations held`,
    violations: failed.map((f) => ({ message: f.message })),
    durationMs: 0,
  };
}

/** "Upload queue drained" (jepsen-powersync's stuck queues): nothing may still wait at the end. */
function uploadsCheck(devices: AnalysisInput['deviceInfo']): CheckResult | undefined {
  const withQueue = devices.filter((d) => d.uploads);
  if (!withQueue.length) return undefined;
  const stuck = withQueue.filter((d) => d.uploads!.pending > 0);
  const failed = withQueue.reduce((n, d) => n + d.uploads!.failed.length, 0);
  const done = withQueue.reduce((n, d) => n + d.uploads!.done, 0);
  return {
    name: 'upload-queue-drained',
    passed: stuck.length === 0,
    summary: stuck.length
      ? `${stuck.map((d) => `${d.id}: ${d.uploads!.pending} upload(s) still queued`).join('; ')} after quiescence`
      : `every upload queue drained: ${done} uploaded, ${failed} in the failed queue`,
    violations: stuck.map((d) => ({ message: `${d.uploads!.pending} upload(s) still queued`, device: d.id })),
    durationMs: 0,
  };
}

const DAY_MS = 86_400_000;
/** Shorter spans are not scaled to a day: a few syncs in seconds say nothing about a day. */
const MIN_SPAN_FOR_DAY_MS = 3_600_000;

function perDay(v: { joules: number; batteryPct: number }, spanMs: number | undefined) {
  if (spanMs === undefined || spanMs < MIN_SPAN_FOR_DAY_MS) return {};
  const f = DAY_MS / spanMs;
  return { joulesPerDay: v.joules * f, batteryPctPerDay: v.batteryPct * f };
}

/** The modelled reading with per-sync and per-day figures, and the measured one beside it. */
export function energySummary(e: EnergyReading, syncs: number): NonNullable<DeviceSummary['energy']> {
  const perSync = (pct: number) => (syncs ? pct / syncs : 0);
  const m = e.measured;
  return {
    source: 'modelled',
    ...(e.radio ? { radio: e.radio } : {}),
    ...(e.spanMs !== undefined ? { spanMs: e.spanMs } : {}),
    joules: e.joules,
    batteryPct: e.batteryPct,
    batteryPctPerSync: perSync(e.batteryPct),
    ...perDay(e, e.spanMs),
    ...(e.details ? { details: e.details } : {}),
    ...(m
      ? {
          measured: {
            joules: m.joules,
            batteryPct: m.batteryPct,
            batteryPctPerSync: perSync(m.batteryPct),
            ...perDay(m, e.spanMs),
            ...(m.details ? { details: m.details } : {}),
          },
        }
      : {}),
  };
}

export function deviceSummaries(input: AnalysisInput): DeviceSummary[] {
  return input.deviceInfo.map((d) => {
    const ops = input.history.filter((o) => o.device === d.id && o.type !== 'invoke');
    const syncs = ops.filter((o) => o.f === 'sync');
    const syncCount = d.pairedSyncs ?? syncs.length;
    const mem = input.memory.get(d.id) ?? [];
    const okSyncs = syncs.filter((s) => s.type === 'ok').length;
    return {
      id: d.id,
      kind: d.kind,
      user: d.user,
      platform: '',
      ops: ops.length,
      syncs: syncCount,
      syncFailures: syncs.length - okSyncs,
      bytesUp: syncs.reduce((s, o) => s + (o.bytesUp ?? 0), 0),
      bytesDown: syncs.reduce((s, o) => s + (o.bytesDown ?? 0), 0),
      ...(d.energy ? { energy: energySummary(d.energy, syncCount) } : {}),
      ...(d.uploads ? { uploads: d.uploads } : {}),
      ...(mem.length
        ? { memoryMb: { max: Math.max(...mem) / 1048576, mean: mem.reduce((a, b) => a + b, 0) / mem.length / 1048576 } }
        : {}),
    };
  });
}

export async function analyse(input: AnalysisInput): Promise<Analysis> {
  const checks: CheckResult[] = [];
  // Checkers need a final state; a run that died before reading it only reports why it died.
  if (!input.fatal) {
    // Unknown names were rejected when the scenario loaded; runCheckers throws on any left.
    const names = input.def.checks;
    checks.push(
      ...runCheckers(
        {
          history: input.history,
          serverState: input.serverState,
          devices: input.devices,
          ...(input.serverLog ? { serverLog: input.serverLog } : {}),
          ...(input.conflictsReported !== undefined ? { conflictsReported: input.conflictsReported } : {}),
        },
        names,
      ),
    );
  }
  const a = assertionsCheck(input.assertions);
  if (a) checks.push(a);
  checks.push(...(input.extraChecks ?? []));
  const u = uploadsCheck(input.deviceInfo);
  if (u && !input.fatal) checks.push(u);
  if (input.fatal) {
    checks.push({
      name: 'run',
      passed: false,
      summary: input.fatal.message,
      violations: [{ message: input.fatal.message }],
      durationMs: 0,
    });
  }
  const metrics = deriveHistoryMetrics(input.history, { devices: input.deviceInfo });
  metricsFromChecks(checks, metrics);
  for (const c of input.custom) metrics.add(c.name, c.value, c.tags);
  if (input.series?.length) metrics.merge(input.series);
  // RFC §5.2 "sync metadata < 1 MB": one gauge per device and side (harness/runner/sync-metadata.ts).
  for (const m of input.syncMetadata ?? [])
    metrics.gauge('sync_metadata_bytes', m.bytes, { device: m.device, side: m.side }, 'bytes');
  for (const [device, samples] of input.memory)
    for (const b of samples) metrics.add('client_memory_mb', b / 1048576, { device }, 'mb');
  const devices = deviceSummaries(input);
  for (const d of devices) {
    if (!d.energy || d.syncs === 0) continue;
    // Both readings feed the RFC threshold: the model everywhere, the hardware where there is one.
    for (const [source, e] of [
      ['modelled', d.energy],
      ['measured', d.energy.measured],
    ] as const) {
      if (!e) continue;
      const tags = { device: d.id, kind: d.kind, source, ...(d.energy.radio ? { radio: d.energy.radio } : {}) };
      metrics.gauge('battery_pct_per_sync', e.batteryPctPerSync ?? 0, tags, 'pct');
      if (e.batteryPctPerDay !== undefined) metrics.gauge('battery_pct_per_day', e.batteryPctPerDay, tags, 'pct');
    }
  }
  let thresholds: ThresholdResult[] = [];
  try {
    const layered = layerThresholds([
      { spec: RFC_THRESHOLDS, source: 'rfc' },
      { spec: input.configThresholds, source: 'config' },
      { spec: input.def.thresholds, source: 'scenario' },
    ]);
    thresholds = evaluateThresholds(metrics, layered).map(
      ({ metric, expression, measured, passed, source, skipped }) => ({
        ...{ metric, expression, measured, passed, source },
        ...(skipped ? { noData: true as const } : {}),
      }),
    );
  } catch (e) {
    checks.push({
      name: 'thresholds',
      passed: false,
      summary: (e as Error).message,
      violations: [{ message: (e as Error).message }],
      durationMs: 0,
    });
  }
  const alerts = evaluateAlerts(metrics);
  const ae = input.fatal ? undefined : alertExpectationsCheck(input.def.expectAlerts, alerts);
  if (ae) checks.push(ae);
  return { checks, metrics: metrics.summaries(), thresholds, alerts, faults: faultSpans(input.history), devices };
}
