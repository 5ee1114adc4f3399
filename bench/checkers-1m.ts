/**
 * Checker benchmark: a 1,000,000-operation history (HistoryOp entries: invokes and completions) from
 * the reference model (several users and devices, all six tables, conflicts, failed and indeterminate
 * syncs, v1 devices), written to and read back from JSONL, then every checker on the read-back copy.
 * Goal: all checkers < 10 s for 1M ops.
 *
 *   npx tsx bench/checkers-1m.ts [--ops 1000000] [--seed 42]
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyse, type CheckInput, checkerNames, runCheckers } from '../harness/checkers';
import { runWorkload } from '../harness/checkers/testing/model';
import { readHistory, writeHistory } from '../harness/history';
import { deriveHistoryMetrics } from '../harness/metrics';
import type { CheckResult } from '../harness/results/types';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const targetOps = arg('ops', 1_000_000);
const seed = arg('seed', 42);
const GOAL_MS = 10_000;

const ms = (t0: number) => Math.round(performance.now() - t0);
/** CPU time (user + system) since a process.cpuUsage() mark: on a shared, loaded box wall time overstates cost. */
const cpuMs = (c0: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(c0);
  return Math.round((c.user + c.system) / 1000);
};
const log = (s: string) => console.log(s);

const load0 = loadavg()[0];
log(
  `checkers-1m: ${targetOps.toLocaleString()} ops, seed ${seed}, ${cpus().length} CPUs, load average ${load0.toFixed(1)}`,
);

// 1. Generate (each logical operation is an invoke and a completion).
let t0 = performance.now();
const genCpu0 = process.cpuUsage();
const model = runWorkload({
  users: 20,
  devicesPerUser: 3,
  operations: Math.ceil(targetOps / 2),
  seed,
  faults: true,
  mixedVersions: true,
  recordsPerTable: 25,
});
const generated: CheckInput = model.checkInput();
const genMs = ms(t0);
const genCpuMs = cpuMs(genCpu0);
const ops = generated.history.length;
log(`generated ${ops.toLocaleString()} ops in ${genMs} ms wall, ${genCpuMs} ms CPU (${model.conflicts} conflicts)`);

// 2. JSONL round trip.
const dir = join(tmpdir(), `checkers-1m-${process.pid}`);
mkdirSync(dir, { recursive: true });
const file = join(dir, 'history.jsonl');
t0 = performance.now();
let c0 = process.cpuUsage();
const { bytes } = writeHistory(file, generated.history);
const writeMs = ms(t0);
const writeCpuMs = cpuMs(c0);
// Free the generated copy: the checkers run on what was read back, as `harness report` would.
generated.history = [];
model.history.ops.length = 0;
t0 = performance.now();
c0 = process.cpuUsage();
const history = await readHistory(file);
const readMs = ms(t0);
const readCpuMs = cpuMs(c0);
if (history.length !== ops) throw new Error(`read back ${history.length} ops, wrote ${ops}`);
rmSync(dir, { recursive: true, force: true });
const mb = bytes / 1e6;
log(`JSONL CPU: write ${writeCpuMs} ms, read ${readCpuMs} ms`);
log(
  `JSONL: ${mb.toFixed(1)} MB; write ${writeMs} ms (${Math.round(ops / (writeMs / 1000)).toLocaleString()} ops/s, ${(mb / (writeMs / 1000)).toFixed(0)} MB/s); read ${readMs} ms (${Math.round(ops / (readMs / 1000)).toLocaleString()} ops/s, ${(mb / (readMs / 1000)).toFixed(0)} MB/s)`,
);

// 3. Checkers on the read-back history. The shared analysis is timed on its own and counted in the
// total; each checker is then timed in wall and CPU time (wall time on a loaded shared box overstates).
const input = { ...generated, history };
t0 = performance.now();
c0 = process.cpuUsage();
const a = analyse(input);
const analysisMs = ms(t0);
const analysisCpuMs = cpuMs(c0);
const results: Array<CheckResult & { cpuMs: number }> = [];
for (const name of checkerNames()) {
  const c1 = process.cpuUsage();
  const [r] = runCheckers(input, [name]);
  results.push({ ...r, cpuMs: cpuMs(c1) });
}
const checkersMs = ms(t0);
const checkersCpuMs = cpuMs(c0);
log(`  analysis (shared)      ${String(analysisMs).padStart(6)} ms wall ${String(analysisCpuMs).padStart(6)} ms CPU`);
for (const r of results) {
  log(
    `  ${r.passed ? 'pass' : 'FAIL'} ${r.name.padEnd(16)} ${String(Math.round(r.durationMs)).padStart(6)} ms wall ${String(r.cpuMs).padStart(6)} ms CPU  ${r.summary}`,
  );
}
log(
  `checkers total ${checkersMs} ms wall, ${checkersCpuMs} ms CPU for ${ops.toLocaleString()} ops: ${checkersCpuMs < GOAL_MS ? 'within' : 'OVER'} the ${GOAL_MS} ms goal (CPU)`,
);

// 4. Metrics derived from the same history.
t0 = performance.now();
c0 = process.cpuUsage();
const metrics = deriveHistoryMetrics(history, { devices: input.devices });
const metricsMs = ms(t0);
const metricsCpuMs = cpuMs(c0);
log(
  `metrics derived in ${metricsMs} ms wall, ${metricsCpuMs} ms CPU (${metrics.summary('propagation_ms')?.count ?? 0} propagation samples)`,
);

// 5. Sanity: the same checkers must catch one injected lost write at this scale.
t0 = performance.now();
const victim = a.writes.findLast((w) => w.acked && w.kind === 'update' && w.table === 'training_plans');
let caught = false;
if (victim) {
  const col = Object.keys(victim.values ?? {}).find((c) => c !== 'updated_at')!;
  const rows = input.serverState[victim.user].training_plans;
  const mutated = {
    ...input,
    serverState: {
      ...input.serverState,
      [victim.user]: {
        ...input.serverState[victim.user],
        training_plans: (rows ?? []).map((r) => (r.id === victim.id ? { ...r, [col]: 'LOST' } : r)),
      },
    },
  };
  const lw = runCheckers(mutated, ['lost-writes'])[0];
  caught = !lw.passed;
  log(
    `injected lost write on training_plans/${victim.id}.${col}: ${caught ? 'caught' : 'NOT caught'} (${ms(t0)} ms): ${lw.summary.slice(0, 160)}`,
  );
}

const out = {
  benchmark: 'checkers-1m',
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  loadAverageAtStart: Number(load0.toFixed(2)),
  loadAverageAtEnd: Number(loadavg()[0].toFixed(2)),
  seed,
  workload: {
    users: 20,
    devicesPerUser: 3,
    tables: 6,
    ops,
    writes: a.writes.length,
    syncs: a.syncs.length,
    conflicts: model.conflicts,
  },
  generateMs: genMs,
  generateCpuMs: genCpuMs,
  jsonl: {
    bytes,
    writeMs,
    writeOpsPerSec: Math.round(ops / (writeMs / 1000)),
    writeMBPerSec: Number((mb / (writeMs / 1000)).toFixed(1)),
    readMs,
    readOpsPerSec: Math.round(ops / (readMs / 1000)),
    readMBPerSec: Number((mb / (readMs / 1000)).toFixed(1)),
    writeCpuMs,
    readCpuMs,
  },
  checkers: {
    totalMs: checkersMs,
    cpuMs: checkersCpuMs,
    analysisMs,
    analysisCpuMs,
    goalMs: GOAL_MS,
    withinGoal: checkersCpuMs < GOAL_MS,
    withinGoalWall: checkersMs < GOAL_MS,
    note: 'totalMs is wall time on a shared 2-CPU box (see loadAverage); cpuMs is the CPU the checkers used',
    allPassed: results.every((r) => r.passed),
    results: results.map((r) => ({
      name: r.name,
      passed: r.passed,
      durationMs: Math.round(r.durationMs),
      cpuMs: r.cpuMs,
      summary: r.summary,
    })),
  },
  metricsDeriveMs: metricsMs,
  metricsDeriveCpuMs: metricsCpuMs,
  injectedLostWriteCaught: caught,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/checkers-1m.json', `${JSON.stringify(out, null, 2)}\n`);
log(`wrote bench/results/checkers-1m.json (${statSync('bench/results/checkers-1m.json').size} bytes)`);
if (!out.checkers.allPassed || !caught) process.exitCode = 1;
