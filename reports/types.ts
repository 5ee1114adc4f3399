/**
 * The reporter contract (Playwright/Vitest style): an object of optional, possibly async lifecycle
 * hooks. A new reporter is one small file implementing the hooks it cares about; the runner talks to
 * one `Multiplexer` that fans every event out to all configured reporters.
 *
 * Reporters only ever see data (RunResult, ScenarioResult, history files on disk): they never import
 * the runner, so `harness report`/`merge-reports` can re-run them long after the run ended.
 */
import type { RunResult, ScenarioResult } from '../harness/results/types';

export type { RunResult, ScenarioResult };

/** A scenario as known before it runs. */
export interface ScenarioInfo {
  name: string;
  tags: string[];
  devices: Array<{ id: string; kind: string }>;
  /** 1-based retry attempt (default 1). */
  attempt?: number;
}

export interface RunBeginInfo {
  runId: string;
  /** Absolute path of the run folder (`harness-results/<run-id>`): file reporters write here. */
  outputDir: string;
  scenarios: ScenarioInfo[];
  seed: number;
  shard?: { index: number; total: number };
}

export interface ProgressInfo {
  scenario: string;
  opsDone: number;
  /** Expected total when the workload knows it (drives a percentage). */
  opsTotal?: number;
  /** Devices currently running. */
  devices: number;
  /** Human-readable active faults, e.g. 'offline(phone-1)'. */
  faultsActive: string[];
  elapsedMs: number;
}

/** Anything that went wrong outside a scenario's checks (setup, a crashed service, a reporter). */
export interface ReporterErrorInfo {
  code?: string;
  message: string;
  scenario?: string;
}

export interface Reporter {
  /** Set by reporters that draw on stdout (list, dot, line), so the runner can stay quiet. */
  readonly printsToStdout?: boolean;
  onBegin?(run: RunBeginInfo): Promise<void> | void;
  onScenarioBegin?(s: ScenarioInfo): Promise<void> | void;
  onProgress?(p: ProgressInfo): Promise<void> | void;
  onScenarioEnd?(result: ScenarioResult): Promise<void> | void;
  onError?(e: ReporterErrorInfo | Error): Promise<void> | void;
  onEnd?(result: RunResult): Promise<void> | void;
}

/** Minimal writable used by terminal reporters (process.stdout or a test buffer). */
export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ReporterContext {
  /** Run folder; file reporters write their files here unless given `outputFile`. */
  outputDir: string;
  stdout?: OutStream;
  stderr?: OutStream;
  /** Environment used for NO_COLOR / FORCE_COLOR / CI (default process.env). */
  env?: Record<string, string | undefined>;
}

export type ReporterSpec = string | [name: string, options?: Record<string, unknown>];

export type ReporterFactory = (options: Record<string, unknown>, ctx: ReporterContext) => Reporter;

/**
 * Optional fields a merged or sharded results.json may carry on top of schema v1. Additive: readers
 * of v1 ignore them, so RESULTS_SCHEMA_VERSION stays 1.
 */
export interface RunResultExtensions {
  /** Set by merge-reports: the shard runs this run was merged from. */
  mergedFrom?: Array<{ runId: string; dir: string; shard?: { index: number; total: number } }>;
}
export interface ScenarioResultExtensions {
  /** Set by merge-reports: which shard ran this scenario. */
  shard?: { index: number; total: number };
}
