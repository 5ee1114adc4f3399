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

import type { Reporter } from '../harness/results/reporter';

export type {
  ProgressInfo,
  Reporter,
  ReporterErrorInfo,
  RunBeginInfo,
  ScenarioInfo,
} from '../harness/results/reporter';

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
