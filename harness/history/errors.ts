/** Errors of the history module: HarnessErrors (HRN_ERR_HISTORY) that also say where in the file. */
import { HarnessError } from '../../protocol/harness-error';

export class HistoryError extends HarnessError {
  constructor(
    message: string,
    hint: string,
    /** 1-based line of history.jsonl, when the problem is in a file. */
    readonly line?: number,
    readonly file?: string,
  ) {
    super('HRN_ERR_HISTORY', message, hint);
    this.name = 'HistoryError';
  }
}
