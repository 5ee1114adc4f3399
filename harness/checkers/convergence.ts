/**
 * convergence: after heal + quiescence every device holds exactly the server's rows for its user
 * (a v1 device is compared on v1 columns only) and its upload queue is empty.
 */
import type { SyncRecord } from '../../protocol/records';
import { columnNames, TABLE_NAMES } from '../../protocol/tables';
import { analyse, fmt, ServerIndex, same } from './analysis';
import { plural, Violations } from './collect';
import type { Checker, CheckInput, CheckOptions } from './types';

export function checkConvergence(input: CheckInput, opts?: CheckOptions) {
  const started = performance.now();
  const a = analyse(input);
  const server = new ServerIndex(input.serverState);
  const v = new Violations(opts);
  const diverged = new Set<string>();
  let compared = 0;
  let pendingDevices = 0;
  const lastWrites = (user: string, table: string, id: string): number[] =>
    (a.byRecord.get(user, table, id) ?? []).slice(-3).map((i) => a.writes[i].index);

  for (const d of input.devices) {
    const lastSync = a.lastSyncIndex.get(d.id);
    const syncIdx = lastSync === undefined ? [] : [lastSync];
    if (d.pendingChanges > 0) {
      pendingDevices++;
      v.add({
        device: d.id,
        message: `device ${d.id} still has ${plural(d.pendingChanges, 'pending change')} after quiescence: upload queue not drained`,
        historyIndexes: syncIdx,
      });
    }
    for (const table of TABLE_NAMES) {
      const cols = columnNames(table, d.schemaVersion);
      const rows = server.table(d.user, table);
      const mine = new Map<string, SyncRecord>();
      for (const r of d.snapshot[table] ?? []) if (!mine.has(r.id)) mine.set(r.id, r);
      for (const [id, s] of rows) {
        compared++;
        const m = mine.get(id);
        const base = { device: d.id, table, id };
        if (!m) {
          diverged.add(d.id);
          v.add({
            ...base,
            message: `device ${d.id} lacks ${table}/${id} that the server has (a change missed in pull?)`,
            historyIndexes: [...lastWrites(d.user, table, id), ...syncIdx],
          });
          continue;
        }
        const diffs: string[] = [];
        for (const c of cols) {
          if (!same(m[c], s[c])) diffs.push(c);
        }
        if (diffs.length) {
          diverged.add(d.id);
          const shown = diffs
            .slice(0, 3)
            .map((c) => `${c} ${fmt(m[c])} on device vs ${fmt(s[c])} on server`)
            .join(', ');
          v.add({
            ...base,
            message: `device ${d.id} differs from the server on ${table}/${id}: ${shown}${diffs.length > 3 ? ` (+${diffs.length - 3} more columns)` : ''}`,
            historyIndexes: [...lastWrites(d.user, table, id), ...syncIdx],
          });
        }
      }
      for (const id of mine.keys()) {
        if (rows.has(id)) continue;
        diverged.add(d.id);
        v.add({
          device: d.id,
          table,
          id,
          message: `device ${d.id} has ${table}/${id} that the server does not (deleted on the server, never pushed, or another user's)`,
          historyIndexes: [...lastWrites(d.user, table, id), ...syncIdx],
        });
      }
    }
  }
  return v.result(
    'convergence',
    started,
    `all ${plural(input.devices.length, 'device')} match the server (${compared} rows compared) and their upload queues are drained`,
    (first) =>
      `${plural(diverged.size, 'device')} diverge from the server, ${plural(pendingDevices, 'device')} with pending changes; first: ${first.message}`,
  );
}

export const convergence: Checker = {
  name: 'convergence',
  description:
    "after heal and quiescence every device equals the server's rows for its user and has no pending changes",
  check: checkConvergence,
};
