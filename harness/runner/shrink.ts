/**
 * `harness shrink <run-dir>`: turn a failed scenario's history into recorded steps, then search for
 * a smaller failing case (delta debugging: fewer operations, then fewer devices, then shorter
 * faults), re-running every candidate for real. The result is written as a scenario file an
 * engineer can commit as a regression test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { HarnessError } from '../config/errors';
import { loadConfig } from '../config/load';
import { faultDevices } from '../faults/registry';
import { readHistory } from '../history/index';
import { readRunResult } from '../results/read';
import { loadScenarios, selectScenarios } from './loader';
import { stepsFromHistory } from './recorded';
import { type CreateReporters, runHarness } from './run';
import type { RecordedStep, ScenarioDefinition } from './scenario';

/** Devices a set of steps uses: their own, and every device a fault names (its plugin says which). */
export function devicesOf(steps: RecordedStep[]): Set<string> {
  const s = new Set<string>();
  for (const st of steps) {
    if (st.op !== 'fault') s.add(st.device);
    else for (const d of faultDevices(st.fault)) s.add(d);
  }
  return s;
}

/**
 * The search (delta debugging): drop chunks of steps while the failure stays, then halve fault
 * durations while it stays. `fails` runs a candidate for real; it returns false once its budget is spent.
 */
export async function shrinkSteps(
  start: RecordedStep[],
  fails: (steps: RecordedStep[]) => Promise<boolean>,
  budgetLeft: () => boolean,
): Promise<RecordedStep[]> {
  let steps = start;
  let n = 2;
  while (steps.length >= 2 && budgetLeft()) {
    const size = Math.ceil(steps.length / n);
    let reduced = false;
    for (let i = 0; i < n && budgetLeft(); i++) {
      const complement = [...steps.slice(0, i * size), ...steps.slice((i + 1) * size)];
      if (complement.length && (await fails(complement))) {
        steps = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= steps.length) break;
      n = Math.min(steps.length, n * 2);
    }
  }
  for (let i = 0; i < steps.length; i++) {
    // Halve this fault's duration while the failure stays (it used to stop after one halving).
    for (;;) {
      const s = steps[i];
      if (!budgetLeft() || s.op !== 'fault' || !s.duration || s.duration < 20) break;
      const shorter = steps.map((x, j) => (j === i ? { ...s, duration: Math.round(s.duration! / 2) } : x));
      if (!(await fails(shorter))) break;
      steps = shorter;
    }
  }
  return steps;
}

export async function shrinkRun(
  runDir: string,
  o: { scenario?: string; budget: number; createReporters: CreateReporters },
): Promise<number> {
  const prev = await readRunResult(runDir);
  const failed = prev.scenarios.filter(
    (s) => (o.scenario ? s.name === o.scenario : true) && s.checks.some((c) => !c.passed),
  );
  const target = failed[failed.length - 1];
  if (!target)
    throw new HarnessError(
      'HRN_ERR_RUN_DIR',
      `no failed check in ${runDir}${o.scenario ? ` for scenario ${o.scenario}` : ''}: nothing to shrink`,
    );
  const failingChecks = new Set(target.checks.filter((c) => !c.passed).map((c) => c.name));
  const { config, file: configFile } = await loadConfig(prev.options?.configFile);
  const original = selectScenarios(await loadScenarios(resolve(config.scenarioDir)), [target.name])[0].def;
  const history = await readHistory(join(runDir, target.historyFile));
  let steps = stepsFromHistory(history);
  const before = { steps: steps.length, devices: devicesOf(steps).size, ops: history.length };
  const t0 = performance.now();
  let runs = 0;
  const outputDir = join(runDir, 'shrink');

  const candidate = (st: RecordedStep[]): ScenarioDefinition => {
    const used = devicesOf(st);
    const devices = Object.fromEntries(Object.entries(original.devices).filter(([id]) => used.has(id)));
    return {
      name: original.name,
      tags: original.tags,
      devices: Object.keys(devices).length ? devices : original.devices,
      steps: st,
      server: original.server,
      checks: original.checks,
      thresholds: original.thresholds,
      timeScale: original.timeScale,
      timeoutMs: original.timeoutMs,
    };
  };
  // On a terminal the line is redrawn in place; in a CI log each candidate is one line.
  const tty = !!process.stderr.isTTY;
  const progress = (line: string) => process.stderr.write(tty ? `\r\x1b[2K  ${line}` : `  ${line}\n`);
  const fails = async (st: RecordedStep[]): Promise<boolean> => {
    if (runs >= o.budget) return false;
    runs++;
    const { result } = await runHarness({
      config: { ...config, outputDir },
      scenarios: [{ def: candidate(st), file: '(shrink candidate)' }],
      seed: target.seed,
      timeScale: prev.options?.timeScale,
      brokenServer: prev.options?.brokenServer,
      reporters: ['json'],
      argv: ['shrink', runDir],
      configFile,
      createReporters: o.createReporters,
      // One progress line per candidate, not the services' start-up lines of every run.
      quiet: true,
    });
    const s = result.scenarios[result.scenarios.length - 1];
    const hit = !!s && s.checks.some((c) => !c.passed && failingChecks.has(c.name));
    progress(
      `candidate ${runs}/${o.budget}: ${st.length} steps, ${devicesOf(st).size} devices → ${hit ? 'still fails' : 'passes'}`,
    );
    return hit;
  };

  process.stderr.write(
    `shrinking ${target.name} (seed ${target.seed}): ${steps.length} steps from ${history.length} history ops; failing checks: ${[...failingChecks].join(', ')}\n`,
  );
  if (!(await fails(steps))) {
    process.stderr.write(
      'the failure does not reproduce from its recorded steps (its cause is timing the steps do not capture); try `harness replay` with --repeat\n',
    );
    return 1;
  }
  steps = await shrinkSteps(steps, fails, () => runs < o.budget);
  if (tty) process.stderr.write('\n');
  const after = { steps: steps.length, devices: devicesOf(steps).size };
  const name = `${target.name}-min-${target.seed}`;
  const dir = resolve(config.scenarioDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.ts`);
  const def = candidate(steps);
  const body = `import { defineScenario } from '../harness/index';

/**
 * Minimal reproduction written by \`harness shrink\` from ${relative(process.cwd(), runDir)} (scenario ${target.name}, seed ${target.seed}).
 * Fails the checks: ${[...failingChecks].join(', ')}${prev.options?.brokenServer?.length ? ` (found with --broken-server ${prev.options.brokenServer.join(',')})` : ''}.
 * Shrunk from ${before.steps} steps on ${before.devices} devices to ${after.steps} steps on ${after.devices} devices in ${runs} runs.
 */
export default defineScenario(${JSON.stringify({ ...def, name, tags: [...(def.tags ?? []).filter((t) => t !== 'core'), 'regression'], ...(original.expect ? { expect: original.expect } : {}) }, null, 2)});
`;
  writeFileSync(file, body);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  process.stdout.write(
    `shrunk ${target.name}: ${before.steps} → ${after.steps} steps, ${before.devices} → ${after.devices} devices, ${runs} runs in ${secs} s\nwrote ${relative(process.cwd(), file)}\n`,
  );
  writeFileSync(
    join(runDir, 'shrink.json'),
    JSON.stringify(
      { scenario: target.name, seed: target.seed, before, after, runs, seconds: Number(secs), file },
      null,
      2,
    ),
  );
  return 0;
}
