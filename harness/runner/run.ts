/**
 * `harness run`: resolve services once, run the selected scenarios (repeat, retries, shard), feed the
 * reporters, write the run folder, and return the exit code CI can trust (0 passed, 1 failed).
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { HarnessError } from '../config/errors';
import type { HarnessConfig, ReporterSpec } from '../config/types';
import type { Reporter } from '../results/reporter';
import type { RunResult, ScenarioResult, Verdict } from '../results/types';
import { RESULTS_SCHEMA_VERSION } from '../results/types';
import { shutdownDeviceKinds } from './devices';
import type { LoadedScenario } from './loader';
import { randomSeed } from './rng';
import { type RunEnvironment, runScenario } from './run-scenario';

export interface RunOptions {
  config: HarnessConfig;
  /** No service and scenario log lines on stderr (shrink runs many candidates; results still tell). */
  quiet?: boolean;
  scenarios: LoadedScenario[];
  seed?: number;
  repeat?: number;
  retries?: number;
  shard?: { index: number; total: number };
  reporters?: ReporterSpec[];
  target?: string;
  /** `--adapter`: a built-in adapter name or an adapter file (with --target). */
  adapter?: string;
  timeScale?: number;
  network?: string;
  brokenServer?: string[];
  /** Reference-server processes behind a round-robin front (`--server-instances`). */
  serverInstances?: number;
  /** Skipped scenarios (hardware absent) do not fail the run (`--allow-skipped`); by default they do. */
  allowSkipped?: boolean;
  argv: string[];
  configFile?: string;
  /**
   * Builds the reporters (reports/ `createReporters`). Given by the caller, the CLI, because the
   * runner sits below reports/ in the layering.
   */
  createReporters: CreateReporters;
}

export type CreateReporters = (specs: ReporterSpec[], ctx: { outputDir: string }) => Promise<Reporter>;

export function newRunId(d = new Date()): string {
  return (
    d.toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19) +
    '-' +
    Math.floor(Math.random() * 1e4).toString(36)
  );
}

export async function runHarness(opts: RunOptions): Promise<{ result: RunResult; exitCode: number; runDir: string }> {
  const { config } = opts;
  const seed = opts.seed ?? config.seed ?? randomSeed();
  const runId = newRunId();
  const outRoot = resolve(config.outputDir);
  const runDir = join(outRoot, runId);
  // Everything that can refuse the run (an unknown reporter, a bad adapter) comes before the run
  // folder exists: a run that never started leaves no empty folder behind `latest`.
  const reporter = await opts.createReporters(opts.reporters ?? config.reporters, { outputDir: runDir });
  const log = (l: string) => {
    if (!opts.quiet) process.stderr.write(`${l}\n`);
  };

  const started = new Date();
  const t0 = performance.now();
  const cleanups: Array<() => Promise<void>> = [];
  const results: ScenarioResult[] = [];
  const services: Record<string, string> = {};
  let env: RunEnvironment | undefined;
  const target = opts.target ?? ('target' in config.server ? config.server.target : undefined);
  const adapterSpec = opts.adapter ?? ('target' in config.server ? config.server.adapter : undefined);
  if (adapterSpec !== undefined && !target)
    throw new HarnessError('HRN_ERR_USAGE', '--adapter needs --target URL (the adapter describes that server)');
  const { loadAdapter } = await import('../target/load');
  const adapter = target ? await loadAdapter(adapterSpec) : undefined;
  mkdirSync(runDir, { recursive: true });
  try {
    rmSync(join(outRoot, 'latest'), { force: true });
    symlinkSync(runId, join(outRoot, 'latest'));
  } catch {
    /* a filesystem without symlinks: not worth failing the run */
  }
  try {
    // Services: PostgreSQL only when we start the server ourselves; the proxy always.
    const { resolveToxiproxy } = await import('../services/toxiproxy/provider');
    // The seed reaches the embedded proxy, so `replay` repeats its jitter, toxicity and slicer draws.
    const tp = await resolveToxiproxy(config.services.proxy.mode, { url: config.services.proxy.url, log, seed });
    cleanups.push(() => tp.stop());
    const kinds = new Set(opts.scenarios.flatMap((s) => Object.values(s.def.devices).map((d) => d.kind)));
    cleanups.push(() => shutdownDeviceKinds(kinds));
    services.proxy = tp.mode;
    let postgres: RunEnvironment['postgres'];
    if (!target) {
      const { resolvePostgres, createDatabase } = await import('../services/postgres/index');
      const pgs = await resolvePostgres({
        mode: config.services.postgres.mode,
        url: config.services.postgres.url,
        dataDir: join(runDir, 'postgres'),
        log,
      });
      cleanups.push(() => pgs.stop());
      services.postgres = pgs.mode;
      postgres = {
        adminUrl: pgs.url,
        createDatabase: async (name) => (await createDatabase(pgs.url, name)).url,
        control: pgs.control,
        ...(pgs.socketUrl ? { serverUrl: pgs.socketUrl } : {}),
      };
    } else {
      const health = adapter!.health.path;
      const status = await fetch(`${target.replace(/\/$/, '')}${health}`)
        .then((r) => r.status)
        .catch((e: Error) => `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}`);
      if (status !== 200)
        throw new HarnessError(
          'HRN_ERR_TARGET',
          `--target ${target} does not answer GET ${health} with 200 (${typeof status === 'number' ? `it answered ${status}` : status})${status === 404 ? ': set adapter.health.path' : ''}`,
        );
    }
    let objectStore: RunEnvironment['objectStore'];
    if (!target) {
      const { resolveObjectStore } = await import('../services/object-store/index');
      const os = await resolveObjectStore(config.services.objectStore.mode, {
        url: config.services.objectStore.url,
        log,
      });
      cleanups.push(() => os.stop());
      services.objectStore = os.mode;
      objectStore = os;
    }
    env = {
      config,
      runDir,
      postgres,
      objectStore,
      toxiproxy: { url: tp.url, client: tp.client, addressing: tp },
      target,
      adapter,
      // Base 36 of the start time: short, increasing, and unique per run on one target.
      namespace: target ? `r${Date.now().toString(36)}` : undefined,
      log,
      onProgress: (p) => reporter.onProgress?.(p),
    };
    await reporter.onBegin?.({
      runId,
      outputDir: runDir,
      seed,
      scenarios: opts.scenarios.map((s) => ({
        name: s.def.name,
        tags: s.def.tags ?? [],
        devices: Object.entries(s.def.devices).map(([id, d]) => ({ id, kind: d.kind })),
      })),
      ...(opts.shard ? { shard: opts.shard } : {}),
    });

    const repeat = opts.repeat ?? config.repeat;
    const retries = opts.retries ?? config.retries;
    for (const s of opts.scenarios) {
      for (let r = 0; r < repeat; r++) {
        const scenarioSeed = repeat > 1 ? seed + r : seed;
        let res: ScenarioResult | undefined;
        for (let attempt = 1; attempt <= retries + 1; attempt++) {
          await reporter.onScenarioBegin?.({
            name: s.def.name,
            tags: s.def.tags ?? [],
            devices: Object.entries(s.def.devices).map(([id, d]) => ({ id, kind: d.kind })),
            attempt,
          });
          res = await runScenario(env, s, {
            seed: scenarioSeed,
            attempt,
            repetition: r,
            timeScale: opts.timeScale ?? s.def.timeScale ?? config.use.timeScale,
            network: opts.network,
            brokenServer: opts.brokenServer,
            serverInstances: opts.serverInstances,
          });
          if (res.verdict === 'passed' && attempt > 1) res.verdict = 'flaky';
          await reporter.onScenarioEnd?.(res);
          if (res.verdict === 'passed' || res.verdict === 'flaky' || res.verdict === 'skipped' || attempt > retries)
            break;
          results.push(res);
        }
        results.push(res!);
      }
    }
  } catch (e) {
    await reporter.onError?.(e as Error);
    throw e;
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }

  // A failed attempt later retried stays in the list for the report; the verdict counts the last one.
  const finalByKey = new Map<string, ScenarioResult>();
  for (const r of results) finalByKey.set(`${r.name}#${r.seed}`, r);
  const finals = [...finalByKey.values()];
  const stats = { passed: 0, failed: 0, flaky: 0, skipped: 0, error: 0 };
  for (const r of finals) stats[r.verdict]++;
  // A skipped scenario (hardware absent) is never a pass: the run says `skipped` and fails unless
  // --allow-skipped, so CI cannot mistake "could not run" for "ran and passed".
  const verdict: Verdict = stats.error
    ? 'error'
    : stats.failed
      ? 'failed'
      : stats.skipped
        ? 'skipped'
        : stats.flaky
          ? 'flaky'
          : 'passed';
  const result: RunResult = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    runId,
    startedAt: started.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    harnessVersion: '0.1.0',
    argv: opts.argv,
    options: {
      timeScale: opts.timeScale,
      network: opts.network,
      brokenServer: opts.brokenServer,
      serverInstances: opts.serverInstances,
      target: opts.target,
      adapter: opts.adapter,
      configFile: opts.configFile,
    },
    seed,
    ...(opts.shard ? { shard: opts.shard } : {}),
    target: {
      mode: target ? 'external' : 'started',
      url: target ?? 'in-process',
      services,
      ...(adapter ? { adapter: adapter.name } : {}),
    },
    environment: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpus().length,
      hostname: hostname(),
    },
    scenarios: results,
    verdict,
    stats,
  };
  writeFileSync(join(runDir, 'results.json'), JSON.stringify(result, null, 2));
  await reporter.onEnd?.(result);
  const ok = verdict === 'passed' || verdict === 'flaky' || (verdict === 'skipped' && !!opts.allowSkipped);
  // A scenario that stopped on its own mistake (an unknown table or device in its workload) is a
  // usage error like a bad flag: exit 2, not the 1 of a failed check.
  const misuse = finals.some((r) => /^HRN_ERR_(SCENARIO|USAGE|CONFIG)$/.test(r.error?.code ?? ''));
  return { result, exitCode: misuse ? 2 : ok ? 0 : 1, runDir };
}
