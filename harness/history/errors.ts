/**
 * Errors of the history module. `HRN_ERR_HISTORY` is not (yet) in harness/config/errors.ts's table,
 * which belongs to another folder; it follows the same shape (code, message saying what to do) so
 * the CLI can print it like any HarnessError.
 */
export class HistoryError extends Error {
  readonly code = 'HRN_ERR_HISTORY' as const;
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly hint: string,
    /** 1-based line of history.jsonl, when the problem is in a file. */
    readonly line?: number,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'HistoryError';
  }
}
