/**
 * Errors the report commands raise. Same shape and codes as harness/config/errors.ts (HRN_ERR_*, exit
 * code 2 = something the user must fix), kept local so reports/ does not depend on the runner.
 */
export type ReportErrorCode = 'HRN_ERR_RUN_DIR' | 'HRN_ERR_USAGE' | 'HRN_ERR_CONFIG' | 'HRN_ERR_REPORTER';

const HINTS: Record<ReportErrorCode, string> = {
  HRN_ERR_RUN_DIR: 'Pass a folder written by `harness run` (it holds results.json).',
  HRN_ERR_USAGE: 'Run `harness <command> --help`.',
  HRN_ERR_CONFIG:
    'Use one of the built-in reporters (list, dot, line, json, junit, markdown, html) or a path to a module.',
  HRN_ERR_REPORTER: 'A reporter failed; the other reports were still written. Re-run with `harness report <run-dir>`.',
};

export class ReportError extends Error {
  readonly exitCode = 2;
  readonly hint: string;
  constructor(
    readonly code: ReportErrorCode,
    message: string,
    hint?: string,
  ) {
    super(message);
    this.name = 'ReportError';
    this.hint = hint ?? HINTS[code];
  }
}
