/**
 * lost-writes: every acknowledged write is in the final server state or legitimately superseded
 * (explain.ts). Work is per record: its writes are indexed once, and the search for an explanation
 * starts at the write's own position and moves forward first (later writes are the usual reason).
 */
import { TABLES } from '../../protocol/tables';
import { type Analysis, analyse, fmt, ServerIndex, same, type WriteInfo } from './analysis';
import { plural, Violations } from './collect';
import { createExplainsRevival, deleteExplains, writeExplains } from './explain';
import type { Checker, CheckInput, CheckOptions } from './types';

/** Columns that are bookkeeping, not user data: their value follows whichever write won. */
const SKIP_COLUMNS: ReadonlySet<string> = new Set(['id', 'updated_at', '_status', '_changed']);

function findExplanation(
  a: Analysis,
  list: readonly number[],
  at: number,
  test: (x: WriteInfo) => boolean,
): WriteInfo | undefined {
  for (let k = at + 1; k < list.length; k++) {
    const x = a.writes[list[k]];
    if (test(x)) return x;
  }
  for (let k = at - 1; k >= 0; k--) {
    const x = a.writes[list[k]];
    if (test(x)) return x;
  }
  return undefined;
}

const what = (w: WriteInfo) =>
  `${w.kind} of ${w.table}/${w.id} by device ${w.device} (op #${w.index}, acknowledged by sync #${w.ackIndex})`;

export function checkLostWrites(input: CheckInput, opts?: CheckOptions) {
  const started = performance.now();
  const a = analyse(input);
  const server = new ServerIndex(input.serverState);
  const v = new Violations(opts);
  let acked = 0;
  let indeterminate = 0;
  let lostLocally = 0;
  for (const list of a.byRecord.values()) {
    for (let k = 0; k < list.length; k++) {
      const w = a.writes[list[k]];
      if (w.lostLocally) lostLocally++;
      else if (w.outcome === 'ok' && !w.acked && w.possiblyApplied) indeterminate++;
      if (!w.acked) continue;
      acked++;
      const row = server.row(w.user, w.table, w.id);
      const base = { device: w.device, table: w.table, id: w.id };
      if (w.kind === 'delete') {
        if (!row) continue;
        if (findExplanation(a, list, k, (x) => createExplainsRevival(x, w))) continue;
        v.add({
          ...base,
          message: `lost delete: ${what(w)} was undone: the record is on the server again and no create after the delete explains it`,
          historyIndexes: [w.index, w.ackIndex],
        });
        continue;
      }
      if (!row) {
        if (findExplanation(a, list, k, (x) => deleteExplains(x, w))) continue;
        v.add({
          ...base,
          message: `lost write: ${what(w)}: the record is missing from the server and no delete explains it`,
          historyIndexes: [w.index, w.ackIndex],
        });
        continue;
      }
      if (!w.values) continue;
      const lost: string[] = [];
      for (const col of Object.keys(w.values)) {
        if (SKIP_COLUMNS.has(col)) continue;
        if (same(row[col], w.values[col])) continue;
        if (findExplanation(a, list, k, (x) => writeExplains(x, w, col))) continue;
        lost.push(col);
      }
      if (lost.length === 0) continue;
      const shown = lost
        .slice(0, 3)
        .map((c) => `${c}=${fmt(w.values?.[c])} (server has ${fmt(row[c])})`)
        .join(', ');
      const more = lost.length > 3 ? ` and ${lost.length - 3} more columns` : '';
      // Point at the write, its ack, and the last writes to the record (the likely culprits).
      const recent = list.slice(-3).map((i) => a.writes[i].index);
      v.add({
        ...base,
        message: `lost write: ${what(w)}: ${shown}${more}; no later or winning concurrent write explains it (${w.table} is ${strategyOf(w)})`,
        historyIndexes: [...new Set([w.index, w.ackIndex, ...recent])],
      });
    }
  }
  return v.result(
    'lost-writes',
    started,
    `all ${plural(acked, 'acknowledged write')} are on the server or legitimately superseded (${indeterminate} indeterminate not judged${lostLocally ? `; ${plural(lostLocally, 'write')} lost by the device in a power loss before it pushed them, not the server's` : ''})`,
    (first) =>
      `${plural(v.total, 'acknowledged write')} lost of ${acked}; first: ${first.message}. Replay the ops listed and check the server's push handling for ${first.table}.`,
  );
}

const strategyOf = (w: WriteInfo) => TABLES[w.table].strategy;

export const lostWrites: Checker = {
  name: 'lost-writes',
  description: 'every acknowledged write is on the server or superseded per the table strategy (deletes win)',
  check: checkLostWrites,
};
