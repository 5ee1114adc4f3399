/**
 * conflict-rules: every ConflictRecord the server reported was resolved as the table's strategy
 * demands, the final state does not contradict the
 * resolution unless a later write explains it, and sync_log has a CONFLICT_RESOLVED row for each.
 * "As the strategy demands" is judged by harness/oracle/conflicts.ts, an independent statement of
 * the contract's table, never by protocol/conflicts.ts: the server and the devices resolve with that
 * shared function, so a bug in it would otherwise pass its own review.
 */

import type { ConflictRecord, SyncRecord } from '../../protocol/records';
import { columnNames, isTableName, type SchemaVersion } from '../../protocol/tables';
import { expectedOutcome } from '../oracle/conflicts';
import { analyse, fmt, ServerIndex, type SyncInfo, same } from './analysis';
import { plural, Violations } from './collect';
import type { Checker, CheckInput, CheckOptions } from './types';

/**
 * A conflict against a tombstone (deletes win): the server marks the row (`_status: 'deleted'`, as
 * the reference server does, or `_deleted`), or sends no data columns at all.
 */
function isTombstone(r: SyncRecord): boolean {
  if (r._status === 'deleted' || r._deleted) return true;
  for (const k of Object.keys(r)) {
    if (k !== 'id' && !k.startsWith('_') && r[k] !== null && r[k] !== undefined) return false;
  }
  return true;
}

export function checkConflictRules(input: CheckInput, opts?: CheckOptions) {
  const started = performance.now();
  const a = analyse(input);
  const server = new ServerIndex(input.serverState);
  const ignore = new Set(opts?.conflictIgnoreColumns ?? ['updated_at']);
  const v = new Violations(opts);
  let total = 0;
  // device → table → conflicts reported in ok syncs
  const reported = new Map<string, Map<string, number>>();
  const nonOkSyncs = new Map<string, number>();

  const laterWrite = (s: SyncInfo, cr: ConflictRecord): boolean => {
    // Any write to the record that may have landed after this sync's resolution, other than the
    // writes this very sync pushed, may legitimately have changed it since.
    const list = a.byRecord.get(s.user, cr.tableName, cr.id) ?? [];
    for (const i of list) {
      const x = a.writes[i];
      if (!x.possiblyApplied) continue;
      if (x.dev === s.dev && x.acked && x.ackIndex === s.endIndex) continue;
      if (x.pushHi > s.start) return true;
    }
    return false;
  };

  for (const s of a.syncs) {
    if (s.outcome !== 'ok') {
      nonOkSyncs.set(s.device, (nonOkSyncs.get(s.device) ?? 0) + 1);
      continue;
    }
    if (s.conflicts.length === 0) continue;
    const version: SchemaVersion = a.deviceVersion.get(s.device) ?? 2;
    for (const cr of s.conflicts) {
      total++;
      let perTable = reported.get(s.device);
      if (!perTable) {
        perTable = new Map();
        reported.set(s.device, perTable);
      }
      perTable.set(cr.tableName, (perTable.get(cr.tableName) ?? 0) + 1);
      const base = { device: s.device, table: cr.tableName, id: cr.id, historyIndexes: [s.index, s.endIndex] };
      if (!isTableName(cr.tableName)) {
        v.add({
          ...base,
          message: `sync #${s.endIndex} of ${s.device} reported a conflict on unknown table "${cr.tableName}"`,
        });
        continue;
      }
      if (isTombstone(cr.serverRecord)) {
        if (cr.resolution !== 'server_wins') {
          v.add({
            ...base,
            message: `conflict on deleted ${cr.tableName}/${cr.id} (sync #${s.endIndex} of ${s.device}) resolved as ${cr.resolution}; deletes win, expected server_wins`,
          });
        }
        continue;
      }
      const expected = expectedOutcome(cr.tableName, cr.serverRecord, cr.clientRecord, version);
      const problems: string[] = [];
      if (expected.resolution !== cr.resolution)
        problems.push(`labelled ${cr.resolution}, expected ${expected.resolution}`);
      const cols = columnNames(cr.tableName).filter((c) => !ignore.has(c));
      const diffs = cols.filter((c) => !same(cr.resolvedRecord[c], expected.record[c]));
      if (diffs.length) {
        problems.push(
          diffs
            .slice(0, 3)
            .map((c) => `${c} resolved to ${fmt(cr.resolvedRecord[c])}, expected ${fmt(expected.record[c])}`)
            .join(', ') + (diffs.length > 3 ? ` (+${diffs.length - 3} more)` : ''),
        );
      }
      if (problems.length) {
        v.add({
          ...base,
          message: `conflict on ${cr.tableName}/${cr.id} (sync #${s.endIndex} of ${s.device}) not resolved by the ${cr.tableName} strategy: ${problems.join('; ')}`,
        });
        continue;
      }
      // The final state must agree with the resolution unless something later changed the record.
      const row = server.row(s.user, cr.tableName, cr.id);
      const contradicts = row
        ? cols.filter((c) => !same(row[c], cr.resolvedRecord[c]))
        : ['(record missing from the server)'];
      if (contradicts.length && !laterWrite(s, cr)) {
        v.add({
          ...base,
          message: `the server's final ${cr.tableName}/${cr.id} contradicts the conflict resolution of sync #${s.endIndex} of ${s.device} with no later write to explain it: ${
            row
              ? contradicts
                  .slice(0, 3)
                  .map((c) => `${c} is ${fmt(row[c])}, resolved ${fmt(cr.resolvedRecord[c])}`)
                  .join(', ')
              : contradicts[0]
          }`,
        });
      }
    }
  }

  if (input.serverLog) {
    const logged = new Map<string, Map<string, number>>();
    for (const r of input.serverLog) {
      if (r.operation !== 'CONFLICT_RESOLVED' || !r.success) continue;
      let m = logged.get(r.deviceId);
      if (!m) {
        m = new Map();
        logged.set(r.deviceId, m);
      }
      const t = r.tableName ?? '*';
      m.set(t, (m.get(t) ?? 0) + r.recordCount);
    }
    const devices = new Set([...reported.keys(), ...logged.keys()]);
    for (const d of devices) {
      const rep = reported.get(d) ?? new Map<string, number>();
      const log = logged.get(d) ?? new Map<string, number>();
      const untabled = log.get('*') ?? 0;
      const tables = new Set([...rep.keys(), ...log.keys()]);
      tables.delete('*');
      let missingTotal = 0;
      for (const t of tables) {
        const h = rep.get(t) ?? 0;
        const l = log.get(t) ?? 0;
        if (h > l) missingTotal += h - l;
        else if (l > h && !nonOkSyncs.get(d)) {
          // Extra rows are legitimate only when a push whose response was lost resolved conflicts.
          v.add({
            device: d,
            table: t,
            message: `sync_log has ${l} CONFLICT_RESOLVED rows for ${d} on ${t} but the device saw ${h} conflicts and had no failed or indeterminate syncs`,
          });
        }
      }
      if (missingTotal > untabled) {
        v.add({
          device: d,
          message: `sync_log is missing ${missingTotal - untabled} CONFLICT_RESOLVED rows for device ${d} (history reports ${[...rep.values()].reduce((x, y) => x + y, 0)} conflicts): every resolved conflict must be logged`,
        });
      }
    }
  }

  return v.result(
    'conflict-rules',
    started,
    `all ${plural(total, 'reported conflict')} resolved by their table's strategy${input.serverLog ? ' and logged in sync_log' : ''}`,
    (first) => `${plural(v.total, 'conflict rule violation')} in ${total} conflicts; first: ${first.message}`,
  );
}

export const conflictRules: Checker = {
  name: 'conflict-rules',
  description:
    'each reported conflict matches its table rule (an oracle independent of protocol/conflicts.ts), sticks in the final state, and is logged',
  check: checkConflictRules,
};
