/**
 * `make bench-load`: the concurrency curve of the reference server on this machine, with the load
 * generator's own cost, in one run (child server, embedded PostgreSQL or HARNESS_PG_URL).
 *
 *   npx tsx bench/load-curve.ts [--levels 10,50,100,250,500,1000,1500,2000] [--ramp-s 2] [--hold-s 8]
 *                               [--workers 2] [--devices 2]
 *
 * Closed-model VUs stepped through the levels (RFC 2.6 trigger mix), one row per level: syncs/s,
 * p50/p95/p99, errors, generator and server CPU, server RSS; then memory per VU and generator CPU per
 * 1000 syncs. Writes harness-results/bench/load-curve.json and load-curve.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  curveTable,
  DEFAULT_LEVELS,
  knee,
  ProcessSampler,
  ProcessTreeSampler,
  postmasterPid,
  runLoad,
  serverByPhase,
  steppedStages,
} from '../harness/load/index';
import { startChildServer } from '../harness/runner/server-process';
import { resolvePostgres } from '../harness/services/postgres/index';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
function num(name: string, dflt: number): number {
  const v = Number(arg(name, String(dflt)));
  if (!(v > 0)) {
    console.error(`--${name} must be a positive number`);
    process.exit(2);
  }
  return v;
}
const levelsArg = arg('levels', DEFAULT_LEVELS.join(','));
const levels = levelsArg.split(',').map(Number);
if (levels.some((l) => !(l > 0) || !Number.isInteger(l))) {
  console.error(`--levels must be positive integers separated by commas, got "${levelsArg}"`);
  process.exit(2);
}
const rampMs = num('ramp-s', 2) * 1000;
const holdMs = num('hold-s', 8) * 1000;
const workers = num('workers', 2);
const devicesPerUser = num('devices', 2);

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'harness-results', 'bench');

const pg = await resolvePostgres({
  mode: process.env.HARNESS_PG_URL ? 'url' : 'embedded',
  url: process.env.HARNESS_PG_URL,
  log: () => {},
});
const server = await startChildServer({ databaseUrl: pg.url });
try {
  const loadAtStart = loadavg();
  const { stages, phases } = steppedStages(levels, rampMs, holdMs);
  const pid = server.pid?.();
  const sampler = pid ? new ProcessSampler(pid) : undefined;
  // PostgreSQL: its postmaster and backends (children), found by the port of the database URL.
  const pmPid = postmasterPid(Number(new URL(pg.url).port || 5432));
  const pgSampler = pmPid ? new ProcessTreeSampler(pmPid) : undefined;
  const samples: Array<{ at: number; cpuPct?: number; rssMb?: number; load1: number }> = [];
  const pgSamples: Array<{ at: number; cpuPct?: number }> = [];
  const timer = setInterval(() => {
    const s = sampler?.sample();
    samples.push({ at: Date.now(), ...(s ?? {}), load1: loadavg()[0]! });
    if (pgSampler) pgSamples.push({ at: Date.now(), cpuPct: pgSampler.sample() });
  }, 1000);
  const run = await runLoad({
    serverUrl: server.url,
    executor: { executor: 'ramping-vus', startVUs: 0, stages },
    devicesPerUser,
    workers,
    phases,
    lostWriteSample: 10,
    requestTimeoutMs: 60_000,
    onProgress: (p) =>
      process.stdout.write(
        `\rt=${(p.elapsedMs / 1000).toFixed(0)}s syncs=${p.iterations} inFlight=${p.inFlight} load=${loadavg()[0]!.toFixed(1)}   `,
      ),
  });
  clearInterval(timer);
  process.stdout.write('\n');
  const s = run.summary;
  const server_ = serverByPhase(samples, phases, s.startedAt);
  const pg_ = serverByPhase(pgSamples, phases, s.startedAt);
  const k = knee(run.phases);
  const loadDuring = samples.map((x) => x.load1);
  const result = {
    bench: 'load-curve',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      loadAvgAtStart: loadAtStart.map((x) => Math.round(x * 100) / 100),
      loadAvg1DuringMax: Math.round(Math.max(0, ...loadDuring) * 100) / 100,
      loadAvg1DuringMean:
        Math.round((loadDuring.reduce((a, b) => a + b, 0) / Math.max(1, loadDuring.length)) * 100) / 100,
    },
    params: { levels, rampMs, holdMs, workers, devicesPerUser, mix: 'default (RFC 2.6)' },
    notes: [
      'Closed model: each VU starts its next sync when the last one ends (no think time), so VUs = syncs in flight.',
      'Server, PostgreSQL and the generator share the machine; other work on it shows in the load average.',
      'generatorCpuPct: the busiest generator process, % of one core; saturated = > 80 % or event-loop delay p99 > 100 ms.',
    ],
    curve: run.phases.map((r) => ({ ...r, server: server_[r.phase], postgresCpuPct: pg_[r.phase]?.cpuPct })),
    knee: k,
    generator: {
      cpuMsPer1000Syncs: s.generator.cpuMsPer1000Syncs,
      memoryPerVuKb: s.generator.memoryPerVuKb,
      cpuPct: s.generator.cpuPct,
      saturated: s.generator.saturated,
      starved: s.generator.starved,
      reasons: s.generator.reasons,
    },
    totals: {
      syncs: s.iterations,
      successRate: s.successRate,
      lostWrites: s.lostWrites,
      byTrigger: s.byTrigger,
      errors: s.errors,
    },
  };
  const md = [
    `# Load curve (${result.date})`,
    '',
    `${cpus().length} cores; load average ${result.machine.loadAvgAtStart.join(' / ')} at start, mean ${result.machine.loadAvg1DuringMean} (max ${result.machine.loadAvg1DuringMax}) during the run. ${workers} generator process(es), ${devicesPerUser} devices per user, each level ramped in ${rampMs / 1000} s and held ${holdMs / 1000} s.`,
    '',
    ...curveTable(run.phases, server_, pg_),
    '',
    `Knee: ${k.level ? `${k.level} VUs (${k.why})` : `none up to ${levels.at(-1)} VUs`}. Most VUs within the RFC latency (p95 < 2 s, ≤ 1 % errors): ${k.maxWithinRfc ?? 'none'}.`,
    '',
    '| generator overhead | figure |',
    '|---|---:|',
    `| CPU per 1000 syncs | ${s.generator.cpuMsPer1000Syncs} ms |`,
    `| memory per VU | ${s.generator.memoryPerVuKb} KB |`,
    `| CPU over the run (all processes) | ${s.generator.cpuPct} % of a core |`,
    `| saturated | ${s.generator.saturated ? `yes${s.generator.starved ? ' (starved: under half a core used, the machine was oversubscribed)' : ''}: ${s.generator.reasons.join('; ')}` : 'no'} |`,
    '',
    `Lost writes: ${s.lostWrites.lost} on ${s.lostWrites.checkedUsers} checked users (${s.lostWrites.diverged} diverged devices). Success ${(s.successRate * 100).toFixed(2)} % of ${s.iterations} syncs.`,
    '',
  ].join('\n');
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'load-curve.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(OUT, 'load-curve.md'), md);
  console.log(md);
  console.log(`wrote ${join(OUT, 'load-curve.json')} and load-curve.md`);
} finally {
  await server.close().catch(() => {});
  await pg.stop().catch(() => {});
}
