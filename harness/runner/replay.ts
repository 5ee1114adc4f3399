/**
 * `harness replay <run-dir>`: run the same scenarios again with the recorded seed and options. For
 * generated workloads and random nemeses the same seed gives the same operations and faults; what
 * cannot repeat is timing (network, scheduling), so a race may need a few repeats to show again.
 */
import { resolve } from 'node:path';
import { loadConfig } from '../config/load';
import { readRunResult } from '../results/read';
import { loadScenarios, selectScenarios } from './loader';
import { type CreateReporters, runHarness } from './run';

export async function replayRun(
  runDir: string,
  o: { scenario?: string; brokenServer?: string[]; createReporters: CreateReporters },
): Promise<number> {
  const prev = await readRunResult(runDir);
  const { config, file } = await loadConfig(prev.options?.configFile);
  const all = await loadScenarios(resolve(config.scenarioDir));
  const names = o.scenario ? [o.scenario] : [...new Set(prev.scenarios.map((s) => s.name))];
  const selected = selectScenarios(all, names);
  process.stderr.write(`replaying ${names.join(', ')} with seed ${prev.seed}\n`);
  const { exitCode } = await runHarness({
    config,
    scenarios: selected,
    seed: prev.seed,
    timeScale: prev.options?.timeScale,
    network: prev.options?.network,
    brokenServer: o.brokenServer ?? prev.options?.brokenServer,
    serverInstances: prev.options?.serverInstances,
    target: prev.options?.target,
    argv: ['replay', runDir],
    configFile: file,
    createReporters: o.createReporters,
  });
  return exitCode;
}
