/**
 * All-or-nothing pushes (sync-contract.md: "all-or-nothing"): the verdict on one push given which of
 * its rows the server holds. Shared by the atomic-push checker (histories of scenario devices) and the
 * @target atomic-push probe (pushes it sends itself), so both name a half-applied push the same way.
 */
export interface PushedRow {
  table: string;
  id: string;
}

export const rowNames = (rows: readonly PushedRow[]): string => rows.map((r) => `${r.table}/${r.id}`).join(', ');

export interface PushVerdict<T extends PushedRow> {
  applied: T[];
  missing: T[];
  /** Some rows of the push are on the server and some are not. */
  half: boolean;
}

/** Split a push's rows into those the server applied and those it did not. */
export function judgePush<T extends PushedRow>(rows: readonly T[], isApplied: (r: T) => boolean): PushVerdict<T> {
  const applied: T[] = [];
  const missing: T[] = [];
  for (const r of rows) (isApplied(r) ? applied : missing).push(r);
  return { applied, missing, half: applied.length > 0 && missing.length > 0 };
}

/** `push` names the request ("the push (history #12)"), `answer` what it got ("answered 500: …"). */
export function halfAppliedMessage(push: string, answer: string, v: PushVerdict<PushedRow>): string {
  return `half-applied push: ${push} ${answer}, yet ${rowNames(v.applied)} ${v.applied.length === 1 ? 'was' : 'were'} applied and ${rowNames(v.missing)} ${v.missing.length === 1 ? 'was' : 'were'} not`;
}
