/**
 * Errors the report commands raise: HarnessErrors (one class, one hint table in
 * protocol/harness-error.ts) with the codes reports use.
 */
import { HarnessError } from '../protocol/harness-error';

export type ReportErrorCode = 'HRN_ERR_RUN_DIR' | 'HRN_ERR_USAGE' | 'HRN_ERR_CONFIG' | 'HRN_ERR_REPORTER';

/** Reporter-specific hint for a config mistake (the table's says to fix harness.config.ts). */
const CONFIG_HINT =
  'Use one of the built-in reporters (list, dot, line, json, junit, markdown, html) or a path to a module.';

export class ReportError extends HarnessError {
  constructor(code: ReportErrorCode, message: string, hint?: string) {
    super(code, message, hint ?? (code === 'HRN_ERR_CONFIG' ? CONFIG_HINT : undefined));
    this.name = 'ReportError';
  }
}
