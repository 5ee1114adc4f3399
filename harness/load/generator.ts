/**
 * The load generator (k6-like, on protocol-level virtual users): one executor over many VUs, in this
 * process or spread over worker processes whose HDR histograms merge exactly. Its result says how
 * busy the generator itself was, so a saturated generator is never read as a slow server.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ExportedSeries, Metrics } from '../metrics/registry';
import { totalDurationMs, validateExecutor } from './executors';
import { isSaturated } from './process-stats';
import { type LoadOptions, runSlice, type SliceResult } from './slice';
import { LOAD_TRIGGERS, validateMix } from './triggers';

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface WindowRow {
  /** Window start, s from the executor start. */
  t: number;
  started: number;
  ok: number;
  failed: number;
  dropped: number;
  inFlight: number;
  p50: number;
  p95: number;
  p99: number;
  /** Generator CPU, % of one core: the busiest process, and all of them together. */
  generatorCpuPct: number;
  generatorCpuPctTotal: number;
  loopDelayP99Ms: number;
}

export interface PhaseRow {
  phase: string;
  syncs: number;
  syncsPerSec: number;
  p50: number;
  p95: number;
  p99: number;
  errorRate: number;
  dropped: number;
  meanInFlight: number;
  generatorCpuPct: number;
  saturated: boolean;
}

export interface LoadSummary {
  vus: number;
  users: number;
  workers: number;
  iterations: number;
  ok: number;
  failed: number;
  dropped: number;
  successRate: number;
  syncsPerSec: number;
  latency: LatencySummary;
  byTrigger: Record<string, LatencySummary & { successRate: number }>;
  maxInFlight: number;
  errors: Record<string, number>;
  lostWrites: { checkedUsers: number; lost: number; diverged: number; unverified: number; examples: string[] };
  setupMs: number;
  /** Wall epoch ms when the executors started (after setup): phases and timeline count from here. */
  startedAt: number;
  durationMs: number;
  generator: {
    /** CPU of all generator processes, % of one core, over the run. */
    cpuPct: number;
    /** The busiest generator process, % of one core. */
    maxProcessCpuPct: number;
    cpuMsPer1000Syncs: number;
    elu: number;
    loopDelayP99Ms: number;
    rssMb: number;
    /** (peak RSS − RSS before setup) ÷ VUs, summed over processes. */
    memoryPerVuKb: number;
    saturated: boolean;
    /**
     * Saturated with CPU to spare (under half a core per process): its event loop waited for the
     * machine, not for its own work — other processes had the CPU. Latency then includes that wait.
     */
    starved: boolean;
    reasons: string[];
  };
}

export interface LoadRun {
  summary: LoadSummary;
  /** Merged run metrics (vu_sync_latency_ms{trigger}, …) as a registry and as data for a scenario. */
  metrics: Metrics;
  series: ExportedSeries[];
  timeline: WindowRow[];
  phases: PhaseRow[];
}

const HERE = dirname(fileURLToPath(import.meta.url));

function runWorker(
  o: LoadOptions,
  slice: number,
  slices: number,
  progress: (p: unknown) => void,
): Promise<SliceResult> {
  const require = createRequire(import.meta.url);
  const { getToken: _g, onProgress: _p, ...options } = o;
  return new Promise((resolve, reject) => {
    const child = fork(join(HERE, 'worker.ts'), [], {
      // HARNESS_LOAD_CPU_PROF=DIR profiles each worker (V8 --cpu-prof; read with bench/cpu-profile.ts).
      execArgv: [
        '--import',
        require.resolve('tsx'),
        ...(process.env.HARNESS_LOAD_CPU_PROF
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.HARNESS_LOAD_CPU_PROF}`]
          : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    let done = false;
    child.on('message', (m: { type: string; result?: SliceResult; message?: string; progress?: unknown }) => {
      if (m.type === 'progress') progress(m.progress);
      else if (m.type === 'result') {
        done = true;
        resolve(m.result!);
      } else if (m.type === 'error') {
        done = true;
        reject(new Error(`load worker ${slice}: ${m.message}`));
      }
    });
    child.on('exit', (code, sig) => {
      if (!done) reject(new Error(`load worker ${slice} exited (${code ?? sig}) before its result`));
    });
    child.send({ type: 'start', options, slice, slices });
  });
}

const r1 = (x: number) => Math.round(x * 10) / 10;

export async function runLoad(o: LoadOptions): Promise<LoadRun> {
  validateExecutor(o.executor);
  validateMix(o.mix ?? {});
  const workers = Math.max(1, Math.floor(o.workers ?? 1));
  if (workers > 1 && o.getToken)
    throw new Error(
      'HRN_ERR_LOAD_WORKERS: a custom getToken cannot cross into worker processes; use the server token endpoint',
    );
  const runId = o.runId ?? `${Date.now().toString(36)}${o.seed ?? 1}`;
  let slices: SliceResult[];
  if (workers === 1) slices = [await runSlice({ ...o, runId }, 0, 1)];
  else {
    const latest = new Map<number, { iterations: number; inFlight: number; dropped: number; elapsedMs: number }>();
    slices = await Promise.all(
      Array.from({ length: workers }, (_, i) =>
        runWorker({ ...o, runId }, i, workers, (p) => {
          latest.set(i, p as never);
          if (i === 0 && o.onProgress) {
            const all = [...latest.values()];
            o.onProgress({
              elapsedMs: all[0]!.elapsedMs,
              iterations: all.reduce((a, x) => a + x.iterations, 0),
              inFlight: all.reduce((a, x) => a + x.inFlight, 0),
              dropped: all.reduce((a, x) => a + x.dropped, 0),
            });
          }
        }),
      ),
    );
  }
  return summarise(o, slices);
}

/** Merge slices (one per process) into one run: the same figures one process would have produced. */
export function summarise(o: Pick<LoadOptions, 'executor' | 'phases' | 'windowMs'>, slices: SliceResult[]): LoadRun {
  const metrics = new Metrics();
  const windows = new Metrics();
  for (const s of slices) {
    metrics.merge(s.series);
    windows.merge(s.windows);
  }
  const lat = (tags?: Record<string, string>): LatencySummary => {
    const m = metrics.summary('vu_sync_latency_ms', tags);
    return { count: m?.count ?? 0, p50: m?.p50 ?? 0, p95: m?.p95 ?? 0, p99: m?.p99 ?? 0, max: m?.max ?? 0 };
  };
  const rate = (tags?: Record<string, string>) => metrics.summary('vu_sync_success_rate', tags);
  const all = rate();
  const iterations = all?.count ?? 0;
  const ok = Math.round((all?.value ?? 0) * iterations);
  const dropped = slices.reduce((a, s) => a + s.executor.dropped, 0);
  const durationMs = Math.max(...slices.map((s) => s.executor.durationMs));
  const windowMs = o.windowMs ?? 1000;

  // Per window: counts and latency merged across processes; CPU the busiest process and the sum.
  const nWindows = Math.ceil(durationMs / windowMs);
  const timeline: WindowRow[] = [];
  for (let w = 0; w < nWindows; w++) {
    const tag = { w: String(w) };
    const l = windows.summary('vu_sync_latency_ms', tag);
    // Each process's sample taken nearest the window's end (the sampler may fire late under load).
    const end = (w + 1) * windowMs;
    const near = slices.map((s) =>
      s.samples.reduce<SliceResult['samples'][number] | undefined>(
        (best, x) => (Math.abs(x.t - end) < Math.abs((best?.t ?? Infinity) - end) ? x : best),
        undefined,
      ),
    );
    const cpu = near.map((x) => x?.cpuPct ?? 0);
    timeline.push({
      t: (w * windowMs) / 1000,
      started: windows.summary('vu_iterations_started', tag)?.value ?? 0,
      ok: windows.summary('vu_syncs_ok', tag)?.value ?? 0,
      failed: windows.summary('vu_syncs_failed', tag)?.value ?? 0,
      dropped: windows.summary('vu_dropped_iterations', tag)?.value ?? 0,
      inFlight: near.reduce((a, x) => a + (x?.inFlight ?? 0), 0),
      p50: l?.p50 ?? 0,
      p95: l?.p95 ?? 0,
      p99: l?.p99 ?? 0,
      generatorCpuPct: r1(Math.max(0, ...cpu)),
      generatorCpuPctTotal: r1(cpu.reduce((a, b) => a + b, 0)),
      loopDelayP99Ms: r1(Math.max(0, ...near.map((x) => x?.loopDelayP99Ms ?? 0))),
    });
  }

  const phases: PhaseRow[] = (o.phases ?? []).map((p) => {
    const l = lat({ phase: p.name });
    const r = rate({ phase: p.name });
    const inPhase = timeline.filter((w) => w.t * 1000 >= p.fromMs && w.t * 1000 + windowMs <= p.toMs);
    const mean = (f: (w: WindowRow) => number) =>
      inPhase.length ? inPhase.reduce((a, w) => a + f(w), 0) / inPhase.length : 0;
    const cpu = mean((w) => w.generatorCpuPct);
    return {
      phase: p.name,
      syncs: l.count,
      syncsPerSec: r1((l.count / (p.toMs - p.fromMs)) * 1000),
      p50: l.p50,
      p95: l.p95,
      p99: l.p99,
      errorRate: r ? Math.round((1 - (r.value ?? 0)) * 1e4) / 1e4 : 0,
      dropped: inPhase.reduce((a, w) => a + w.dropped, 0),
      meanInFlight: r1(mean((w) => w.inFlight)),
      generatorCpuPct: r1(cpu),
      saturated: isSaturated({ cpuPct: cpu, elu: 0, loopDelayP99Ms: mean((w) => w.loopDelayP99Ms) }).length > 0,
    };
  });

  const byTrigger: LoadSummary['byTrigger'] = {};
  for (const t of LOAD_TRIGGERS) {
    const l = lat({ trigger: t });
    if (l.count) byTrigger[t] = { ...l, successRate: rate({ trigger: t })?.value ?? 0 };
  }
  const errors: Record<string, number> = {};
  for (const s of slices) for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;
  const cpuMs = slices.reduce((a, s) => a + s.generator.cpuMs, 0);
  const wall = Math.max(...slices.map((s) => s.generator.wallMs));
  const maxProcessCpuPct = Math.max(...slices.map((s) => s.generator.cpuPct));
  const loopDelayP99Ms = Math.max(...slices.map((s) => s.generator.loopDelayP99Ms));
  const elu = Math.max(...slices.map((s) => s.generator.elu));
  const vus = slices.reduce((a, s) => a + s.vus, 0);
  // Judge saturation per process over the run and on the worst window: a burst at the peak counts.
  const peakCpu = Math.max(0, ...timeline.map((w) => w.generatorCpuPct));
  const reasons = [
    ...isSaturated({ cpuPct: maxProcessCpuPct, elu, loopDelayP99Ms }),
    ...(peakCpu > 95 ? [`a generator process used ${peakCpu.toFixed(0)} % of a core in its busiest second`] : []),
  ];
  const lw = slices.map((s) => s.lostWrites);
  return {
    metrics,
    series: metrics.exportSeries(),
    timeline,
    phases,
    summary: {
      vus,
      users: slices.reduce((a, s) => a + s.users, 0),
      workers: slices.length,
      iterations,
      ok,
      failed: iterations - ok,
      dropped,
      successRate: all?.value ?? 0,
      syncsPerSec: r1((iterations / durationMs) * 1000),
      latency: lat(),
      byTrigger,
      maxInFlight:
        slices.length === 1
          ? (metrics.summary('vu_syncs_in_flight_max')?.value ?? 0)
          : Math.max(...timeline.map((w) => w.inFlight), 0),
      errors,
      lostWrites: {
        checkedUsers: lw.reduce((a, x) => a + x.checkedUsers, 0),
        lost: lw.reduce((a, x) => a + x.lost, 0),
        diverged: lw.reduce((a, x) => a + x.diverged, 0),
        unverified: lw.reduce((a, x) => a + x.unverified, 0),
        examples: lw.flatMap((x) => x.examples).slice(0, 5),
      },
      setupMs: Math.max(...slices.map((s) => s.setupMs)),
      startedAt: Math.min(...slices.map((s) => s.startedAt)),
      durationMs,
      generator: {
        cpuPct: r1((cpuMs / wall) * 100),
        maxProcessCpuPct: r1(maxProcessCpuPct),
        cpuMsPer1000Syncs: iterations ? r1((cpuMs / iterations) * 1000) : 0,
        elu: Math.round(elu * 100) / 100,
        loopDelayP99Ms: r1(loopDelayP99Ms),
        rssMb: r1(slices.reduce((a, s) => a + s.generator.rssPeakMb, 0)),
        memoryPerVuKb: vus
          ? r1((slices.reduce((a, s) => a + (s.generator.rssPeakMb - s.generator.rssBaseMb), 0) * 1024) / vus)
          : 0,
        saturated: reasons.length > 0,
        starved: reasons.length > 0 && maxProcessCpuPct < 50 && peakCpu < 80,
        reasons,
      },
    },
  };
}

export { totalDurationMs };
