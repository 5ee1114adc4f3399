/**
 * The reporter contract (Playwright/Vitest style): an object of optional, possibly async lifecycle
 * hooks, fed by the runner and implemented by reports/. It lives beside the results schema (this
 * neutral module) so the runner needs nothing from reports/ and reports need nothing from the runner.
 */
import type { RunResult, ScenarioResult } from './types';

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
  /** Devices the scenario declares (running ones reach it once all have started). */
  devicesTotal?: number;
  /** Syncs completed so far, how many of them failed, and their p95 duration. */
  syncs?: number;
  syncsFailed?: number;
  syncP95Ms?: number;
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
