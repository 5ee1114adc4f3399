import type { Violation } from '../harness/checkers/types';
import { defineScenario } from '../harness/index';
import { driveLoad, type MachineSample } from './_load';

/** Minutes of sustained load: HARNESS_SOAK_MINUTES (default 2, short enough for a demo). */
function soakMinutes(): number {
  const raw = process.env.HARNESS_SOAK_MINUTES;
  if (raw === undefined || raw === '') return 2;
  const n = Number(raw);
  if (!(n > 0) || n > 24 * 60)
    throw Object.assign(new Error(`HARNESS_SOAK_MINUTES must be a number of minutes in (0, 1440], got "${raw}"`), {
      code: 'HRN_ERR_CONFIG',
    });
  return n;
}

/** Syncs started per second (open model: the rate holds whatever the latency does). */
const RATE = Number(process.env.HARNESS_SOAK_RATE ?? 150);
const VUS = 600;
/** RSS may grow this much over the second half of the run (after warm-up); a leak keeps growing. */
const RSS_GROWTH_MB = 64;
const RSS_GROWTH_RATIO = 0.25;
/** p95 of the last third may exceed the first third's by this factor plus a floor (noise on a shared box). */
const LATENCY_TREND_FACTOR = 1.5;
const LATENCY_TREND_FLOOR_MS = 100;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
};

/**
 * RSS growth of one process over the second half of the run (the first half is warm-up: pools,
 * caches, V8 growing its heap before it collects, and every device's local store filling), from a
 * least-squares line through the samples so one GC does not decide it. A leak grows steadily.
 */
export function rssGrowth(name: string, xs: readonly number[]): { violations: Violation[]; growthMb: number } {
  const half = xs.slice(Math.floor(xs.length / 2));
  if (half.length < 5) return { violations: [], growthMb: 0 };
  const n = half.length;
  const mx = (n - 1) / 2;
  const my = half.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  half.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  const growthMb = (num / den) * (n - 1);
  const bound = Math.max(RSS_GROWTH_MB, median([...half]) * RSS_GROWTH_RATIO);
  const message = `${name} RSS grew ${Math.round(growthMb)} MB over the second half of the run (${Math.round(half[0]!)} → ${Math.round(half[n - 1]!)} MB), bound ${Math.round(bound)} MB`;
  return { growthMb, violations: growthMb > bound ? [{ message }] : [] };
}

/**
 * Sustained load for HARNESS_SOAK_MINUTES: a constant arrival rate of the RFC 2.6 trigger mix, with
 * the server's and the harness's RSS sampled each second. Passes when neither process grows beyond a
 * bound (a leak shows as steady growth) and latency does not trend upwards (a growing table scan,
 * a queue that never drains), besides the RFC thresholds.
 */
export default defineScenario({
  name: 'soak',
  title: 'Sustained load: no memory growth, no rising latency',
  tags: ['load', 'performance'],
  server: { process: 'child' },
  // The harness judges a run by its devices' history: one observer syncs before and after the load.
  devices: { observer: { kind: 'vu' } },
  load: { users: VUS / 2, devicesPerUser: 2, durationMs: 2 * 60_000, arrivalRatePerSec: RATE },
  thresholds: {
    vu_sync_latency_ms: ['p(95)<2000'],
    vu_sync_success_rate: ['rate>0.99'],
    vu_lost_writes: ['count==0'],
    vu_dropped_iterations: ['count==0'],
  },
  timeoutMs: 24 * 60 * 60_000,
  async workload(ctx) {
    await ctx.devices.observer!.sync();
    const minutes = soakMinutes();
    const durationMs = minutes * 60_000;
    const { run, machine } = await driveLoad(ctx, {
      executor: { executor: 'constant-arrival-rate', rate: RATE, durationMs, maxVUs: VUS, preAllocatedVUs: VUS },
      devicesPerUser: 2,
      workers: 1,
      lostWriteSample: 20,
      requestTimeoutMs: 60_000,
      windowMs: 5000,
    });
    await ctx.devices.observer!.sync();
    const series = (f: (m: MachineSample) => number | undefined) =>
      machine.map(f).filter((x): x is number => x !== undefined);
    const server = series((m) => m.serverRssMb);
    const harness = series((m) => m.harnessRssMb);
    const sg = rssGrowth('server', server);
    const hg = rssGrowth('harness', harness);
    ctx.check('soak-memory', 'server and harness RSS do not grow beyond a bound under sustained load', [
      ...sg.violations,
      ...hg.violations,
    ]);
    // Latency trend: p95 per 5 s window, first third vs last third (median of the windows' p95).
    const w = run.timeline.filter((x) => x.ok + x.failed > 0).map((x) => x.p95);
    const third = Math.max(1, Math.floor(w.length / 3));
    const early = median(w.slice(0, third));
    const late = median(w.slice(-third));
    const limit = early * LATENCY_TREND_FACTOR + LATENCY_TREND_FLOOR_MS;
    ctx.check(
      'soak-latency-trend',
      'latency does not rise over a sustained run',
      w.length >= 6 && late > limit
        ? [
            {
              message: `p95 rose from ${Math.round(early)} ms (first third) to ${Math.round(late)} ms (last third), limit ${Math.round(limit)} ms`,
            },
          ]
        : [],
    );
    ctx.note(
      `soak ${minutes} min at ${RATE}/s: server RSS ${server[0] ?? '?'} → ${server.at(-1) ?? '?'} MB (${Math.round(sg.growthMb)} MB over the second half), harness RSS ${harness[0]} → ${harness.at(-1)} MB (${Math.round(hg.growthMb)} MB over the second half), window p95 ${Math.round(early)} → ${Math.round(late)} ms`,
    );
  },
});
