import { defineScenario } from '../harness/index';
import type { PhaseRow } from '../harness/load/index';
import { driveLoad } from './_load';

/** VU levels of the curve; each is ramped to in RAMP_MS and held for HOLD_MS. */
const LEVELS = [10, 50, 100, 250, 500, 1000, 1500, 2000];
const RAMP_MS = 2000;
const HOLD_MS = 8000;
const RFC_P95_MS = 2000;

const stages = LEVELS.flatMap((target) => [
  { durationMs: RAMP_MS, target },
  { durationMs: HOLD_MS, target },
]);
/** The plateaus, named by their VU count: latency starting there is tagged `phase:<VUs>`. */
const phases = LEVELS.map((vus, i) => ({
  name: String(vus),
  fromMs: i * (RAMP_MS + HOLD_MS) + RAMP_MS,
  toMs: (i + 1) * (RAMP_MS + HOLD_MS),
}));

/**
 * The knee: the first level where the server stops keeping up — p95 over the RFC's 2 s, more than 1 %
 * errors, or throughput growing less than 10 % for the added VUs (more VUs only queue).
 */
export function knee(rows: readonly PhaseRow[]): { level?: string; why?: string; maxWithinRfc?: string } {
  const within = rows.filter((r) => r.p95 < RFC_P95_MS && r.errorRate <= 0.01 && r.syncs > 0);
  const maxWithinRfc = within.length ? within[within.length - 1]!.phase : undefined;
  for (let i = 1; i < rows.length; i++) {
    const r = rows[i]!;
    const prev = rows[i - 1]!;
    if (r.p95 >= RFC_P95_MS)
      return { level: r.phase, why: `p95 ${Math.round(r.p95)} ms ≥ ${RFC_P95_MS} ms`, maxWithinRfc };
    if (r.errorRate > 0.01) return { level: r.phase, why: `${(r.errorRate * 100).toFixed(1)} % errors`, maxWithinRfc };
    if (r.syncsPerSec < prev.syncsPerSec * 1.1)
      return {
        level: r.phase,
        why: `throughput ${r.syncsPerSec}/s vs ${prev.syncsPerSec}/s at ${prev.phase} VUs: added VUs only queue`,
        maxWithinRfc,
      };
  }
  return { maxWithinRfc };
}

export function curveTable(rows: readonly PhaseRow[]): string[] {
  return [
    '| VUs | syncs/s | p50 ms | p95 ms | p99 ms | errors | dropped | mean in flight | generator CPU % |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.phase} | ${r.syncsPerSec} | ${Math.round(r.p50)} | ${Math.round(r.p95)} | ${Math.round(r.p99)} | ${(r.errorRate * 100).toFixed(2)} % | ${r.dropped} | ${r.meanInFlight} | ${r.generatorCpuPct}${r.saturated ? ' (saturated)' : ''} |`,
    ),
  ];
}

/**
 * The concurrency curve: closed-model VUs stepped 10 → 2000 (each level ramped to, then held), with
 * syncs/s, latency percentiles, errors and the generator's own CPU per level, and the knee. Where the
 * RFC's 2 s p95 stops holding is the machine's capacity; the table is in the result's notes.
 */
export default defineScenario({
  name: 'load-ramp',
  title: 'Concurrency curve 10 → 2000 VUs and its knee',
  tags: ['load', 'performance'],
  server: { process: 'child' },
  // The harness judges a run by its devices' history: one observer syncs before and after the load.
  devices: { observer: { kind: 'vu' } },
  load: { users: 1000, devicesPerUser: 2, stages },
  thresholds: {
    vu_lost_writes: ['count==0'],
    vu_diverged_devices: ['count==0'],
  },
  timeoutMs: 15 * 60_000,
  async workload(ctx) {
    await ctx.devices.observer!.sync();
    const { run } = await driveLoad(ctx, {
      executor: { executor: 'ramping-vus', startVUs: 0, stages },
      devicesPerUser: 2,
      workers: 2,
      phases,
      lostWriteSample: 10,
      requestTimeoutMs: 60_000,
    });
    for (const line of curveTable(run.phases)) ctx.note(line);
    const k = knee(run.phases);
    ctx.note(
      `knee: ${k.level ? `${k.level} VUs (${k.why})` : 'none up to 2000 VUs'}; most VUs within the RFC latency (p95 < 2 s, ≤ 1 % errors): ${k.maxWithinRfc ?? 'none'}`,
    );
    await ctx.devices.observer!.sync();
    if (k.maxWithinRfc) ctx.metric('vus_within_rfc_latency', Number(k.maxWithinRfc));
    for (const r of run.phases) {
      ctx.metric('curve_syncs_per_sec', r.syncsPerSec, { vus: r.phase });
    }
  },
});
