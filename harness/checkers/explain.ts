/**
 * When is an acknowledged write legitimately absent from the final state? The rules of
 * sync-contract.md, decided from the history's real-time order. Every question is asked as "is there
 * SOME order consistent with the intervals in which this is legitimate?" so a report is never a false
 * positive; the timing definitions are in analysis.ts.
 */
import { ACTIVITY_SUBJECTIVE_COLUMNS, columnSpec, TABLES, type TableName } from '../../protocol/tables';
import type { WriteInfo } from './analysis';

const SUBJECTIVE: ReadonlySet<string> = new Set(ACTIVITY_SUBJECTIVE_COLUMNS);

/** W's device had definitely pulled X (acknowledged) before W was written, or X precedes W on one device. */
export function definitelyBefore(x: WriteInfo, w: WriteInfo): boolean {
  if (x.dev === w.dev) return x.pos < w.pos;
  return x.acked && w.seenUpTo > x.pushHi;
}

/** X's device may have pulled W before X was written (or X follows W on one device). */
export function maybeSaw(x: WriteInfo, w: WriteInfo): boolean {
  if (x.dev === w.dev) return x.pos > w.pos;
  return x.pullEndBefore > w.pushLo;
}

const writesColumn = (x: WriteInfo, col: string): boolean =>
  x.kind !== 'delete' && x.values !== undefined && Object.hasOwn(x.values, col);

/** Whether a client of this write's schema version sends the column at all (v1 never sends v2 columns). */
function knows(x: WriteInfo, col: string): boolean {
  const spec = columnSpec(x.table, col);
  return !spec || spec.since <= x.schemaVersion;
}

/**
 * The value of `col` in the record X's device pushes: its own value when it wrote the column, null for
 * a create that left it out, unknown (undefined) for an update that left it out (the device pushes
 * its whole record, whose other columns the history does not show).
 */
function pushedValue(x: WriteInfo, col: string): { known: boolean; nonNull: boolean } {
  if (writesColumn(x, col)) {
    const v = x.values?.[col];
    return { known: true, nonNull: v !== null && v !== undefined };
  }
  if (x.kind === 'create') return { known: true, nonNull: false };
  return { known: false, nonNull: true };
}

/** In a conflict where `client` is pushed onto a row last written by `server`, does the client's `col` win? */
function clientWinsColumn(table: TableName, client: WriteInfo, server: WriteInfo, col: string): boolean {
  if (!knows(client, col)) return false;
  switch (TABLES[table].strategy) {
    case 'client_wins':
      return true;
    case 'server_wins':
      return false;
    case 'last_write_wins':
      // Unknown times: either outcome is possible.
      if (client.ua === undefined || server.ua === undefined) return true;
      return client.ua > server.ua;
    case 'merge_subjective':
      return SUBJECTIVE.has(col) && pushedValue(client, col).nonNull;
    case 'merge_non_null':
      return pushedValue(client, col).nonNull;
  }
}

/** Same question, asked as "may the client lose?" (for unknown times both answers are possible). */
function clientMayLoseColumn(table: TableName, client: WriteInfo, server: WriteInfo, col: string): boolean {
  if (TABLES[table].strategy === 'last_write_wins' && (client.ua === undefined || server.ua === undefined)) return true;
  return !clientWinsColumn(table, client, server, col);
}

/** Does delete X explain that create/update W is not on the server? (deletes win over concurrent edits) */
export function deleteExplains(x: WriteInfo, w: WriteInfo): boolean {
  if (!x.possiblyApplied || x.kind !== 'delete') return false;
  // A device that had seen the delete can only have written W as a deliberate re-create.
  if (definitelyBefore(x, w)) return false;
  if (x.dev === w.dev) return x.pos > w.pos;
  // An update pushed after a concurrent delete is discarded; one pushed before is deleted with the row.
  if (w.kind === 'update') return true;
  // A create pushed after the delete recreates the record, so the delete must be able to come later.
  return x.pushHi > w.pushLo;
}

/** Does create X explain that W (an acknowledged delete) was undone? Only an explicit create may. */
export function createExplainsRevival(x: WriteInfo, w: WriteInfo): boolean {
  if (!x.possiblyApplied || x.kind !== 'create' || x === w) return false;
  if (x.dev === w.dev) return x.pos > w.pos;
  return x.pushHi > w.pushLo;
}

/** Does X explain that column `col` of create/update W is not the final server value? */
export function writeExplains(x: WriteInfo, w: WriteInfo, col: string): boolean {
  if (x === w || !x.possiblyApplied) return false;
  if (x.kind === 'delete') return deleteExplains(x, w);
  if (x.dev === w.dev) return x.pos > w.pos && writesColumn(x, col);
  // Causally later overwrite of the same column.
  if (writesColumn(x, col) && maybeSaw(x, w)) return true;
  if (definitelyBefore(x, w) || definitelyBefore(w, x)) return false;
  // Concurrent: the whole record conflicts; the table's strategy decides per column and push order.
  if (x.pushHi > w.pushLo && clientWinsColumn(w.table, x, w, col)) return true;
  // W lost a conflict against X's row: not when W's push was answered without a conflict for it.
  if (!w.appliedWithoutConflict && x.pushLo < w.pushHi && clientMayLoseColumn(w.table, w, x, col)) return true;
  return false;
}
