/**
 * Record-level invariants of the final state:
 * - no-resurrection: an acknowledged delete stays deleted on the server and on every device of the
 *   user, unless an explicit create may have come after it (a stale update never brings a row back);
 * - no-duplicates: no id twice in one table of a device snapshot or of a user's server state, and no
 *   other user's record on a device.
 */
import type { SyncRecord } from '../../protocol/records';
import { TABLE_NAMES } from '../../protocol/tables';
import { analyse, ServerIndex, usersWhoWrote } from './analysis';
import { plural, Violations } from './collect';
import { createExplainsRevival } from './explain';
import type { Checker, CheckInput, CheckOptions } from './types';

export function checkNoResurrection(input: CheckInput, opts?: CheckOptions) {
  const started = performance.now();
  const a = analyse(input);
  const server = new ServerIndex(input.serverState);
  const v = new Violations(opts);
  const snapshots = new Map<string, Map<string, Set<string>>>(); // device → table → ids
  const idsOf = (deviceId: string, table: string): Set<string> => {
    let t = snapshots.get(deviceId);
    if (!t) {
      t = new Map();
      snapshots.set(deviceId, t);
    }
    let s = t.get(table);
    if (!s) {
      const d = input.devices.find((x) => x.id === deviceId);
      s = new Set(((d?.snapshot as Record<string, SyncRecord[] | undefined>)?.[table] ?? []).map((r) => r.id));
      t.set(table, s);
    }
    return s;
  };
  const devicesOf = new Map<string, string[]>();
  for (const d of input.devices) devicesOf.set(d.user, [...(devicesOf.get(d.user) ?? []), d.id]);
  let deletes = 0;
  for (const list of a.byRecord.values()) {
    for (let k = 0; k < list.length; k++) {
      const w = a.writes[list[k]];
      if (w.kind !== 'delete' || !w.acked) continue;
      deletes++;
      const where: string[] = [];
      if (server.row(w.user, w.table, w.id)) where.push('the server');
      for (const d of devicesOf.get(w.user) ?? []) if (idsOf(d, w.table).has(w.id)) where.push(`device ${d}`);
      if (where.length === 0) continue;
      let revived = false;
      for (const i of list) {
        if (createExplainsRevival(a.writes[i], w)) {
          revived = true;
          break;
        }
      }
      if (revived) continue;
      const recent = list.slice(-3).map((i) => a.writes[i].index);
      v.add({
        device: w.device,
        table: w.table,
        id: w.id,
        message: `resurrected: ${w.table}/${w.id} was deleted by device ${w.device} (op #${w.index}, acknowledged by sync #${w.ackIndex}) but is back on ${where.join(', ')} with no explicit create after the delete`,
        historyIndexes: [...new Set([w.index, w.ackIndex, ...recent])],
      });
    }
  }
  return v.result(
    'no-resurrection',
    started,
    `all ${plural(deletes, 'acknowledged delete')} stayed deleted (or were explicitly re-created)`,
    (first) => `${plural(v.total, 'deleted record')} came back; first: ${first.message}`,
  );
}

export function checkNoDuplicates(input: CheckInput, opts?: CheckOptions) {
  const started = performance.now();
  const a = analyse(input);
  const server = new ServerIndex(input.serverState);
  const v = new Violations(opts);
  const dupes = (rows: readonly SyncRecord[] | undefined): string[] => {
    const seen = new Set<string>();
    const out = new Set<string>();
    for (const r of rows ?? []) {
      if (seen.has(r.id)) out.add(r.id);
      seen.add(r.id);
    }
    return [...out];
  };
  for (const [user, tables] of Object.entries(input.serverState)) {
    for (const table of TABLE_NAMES) {
      for (const id of dupes(tables[table])) {
        v.add({ table, id, message: `the server state of user ${user} holds ${table}/${id} more than once` });
      }
    }
  }
  const users = Object.keys(input.serverState);
  for (const d of input.devices) {
    for (const table of TABLE_NAMES) {
      const rows = d.snapshot[table];
      for (const id of dupes(rows)) {
        v.add({
          device: d.id,
          table,
          id,
          message: `device ${d.id} holds ${table}/${id} more than once (breaks WatermelonDB sync)`,
        });
      }
      for (const r of rows ?? []) {
        if (server.row(d.user, table, r.id)) continue;
        const owners = users.filter((u) => u !== d.user && server.row(u, table, r.id));
        const w = usersWhoWrote(a, table, r.id);
        const foreign = owners.length > 0 || (w.size > 0 && !w.has(d.user));
        if (!foreign) continue;
        const by = owners.length ? owners : [...w];
        v.add({
          device: d.id,
          table,
          id: r.id,
          message: `device ${d.id} (user ${d.user}) holds ${table}/${r.id} of user ${by.join(', ')}: rows of another user must never reach a device`,
          historyIndexes: (a.byRecord.get(by[0], table, r.id) ?? []).slice(-3).map((i) => a.writes[i].index),
        });
      }
    }
  }
  return v.result(
    'no-duplicates',
    started,
    `no duplicate ids on the server or ${plural(input.devices.length, 'device')}, and no foreign rows`,
    (first) => `${plural(v.total, 'duplicate or foreign row')}; first: ${first.message}`,
  );
}

export const noResurrection: Checker = {
  name: 'no-resurrection',
  description: 'an acknowledged delete is never undone on the server or a device except by an explicit later create',
  check: checkNoResurrection,
};

export const noDuplicates: Checker = {
  name: 'no-duplicates',
  description: "no id twice in a table of a device or the server, and no other user's rows on a device",
  check: checkNoDuplicates,
};
