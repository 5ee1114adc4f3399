/**
 * The one reader of `results.json`, beside its schema: `harness report`, `merge-reports`, `replay`
 * and `shrink` all read a run folder through it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError } from '../../protocol/harness-error';
import { RESULTS_SCHEMA_VERSION, type RunResult } from './types';

/** Reads and validates `<runDir>/results.json`. */
export async function readRunResult(runDir: string): Promise<RunResult> {
  const file = join(runDir, 'results.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new HarnessError('HRN_ERR_RUN_DIR', `${runDir} has no results.json.`);
  }
  let data: RunResult;
  try {
    data = JSON.parse(text) as RunResult;
  } catch (e) {
    throw new HarnessError('HRN_ERR_RUN_DIR', `${file} is not valid JSON (${(e as Error).message}).`);
  }
  if (!data || typeof data !== 'object' || !Array.isArray(data.scenarios)) {
    throw new HarnessError('HRN_ERR_RUN_DIR', `${file} is not a harness results file (no "scenarios").`);
  }
  if (data.schemaVersion !== RESULTS_SCHEMA_VERSION) {
    throw new HarnessError(
      'HRN_ERR_RUN_DIR',
      `${file} has results schema v${data.schemaVersion}; this harness reads v${RESULTS_SCHEMA_VERSION}.`,
      data.schemaVersion > RESULTS_SCHEMA_VERSION
        ? 'Upgrade the harness to read it.'
        : 'Re-run the scenarios with this harness.',
    );
  }
  return data;
}
