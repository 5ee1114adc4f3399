/**
 * WatermelonDB `conflictResolver` built on protocol/conflicts.ts `resolveConflict` (no second copy of
 * the strategies). synchronize() calls it for every pulled update of a record that exists locally;
 * only records with unpushed local changes are real conflicts. The strategy decides the data columns;
 * the bookkeeping (_status/_changed) is then set so that WatermelonDB pushes exactly what still
 * differs from the server, or nothing when the server's version won outright.
 *
 * A pull returns every row stamped after the device's lastPulledAt, including the rows of the
 * device's OWN last push (WatermelonDB advances lastPulledAt from the pull, not the push). Such an
 * echo is not a concurrent edit: local edits made since are newer and must win. Treating the echo
 * as "the server's version" would let server_wins / merge discard them (a lost write the harness's
 * conflicts-per-table scenario caught). So the caller tells the resolver what it last pushed
 * (`isEcho`), and only a row someone else changed goes through the table's strategy.
 */
import { createHash } from 'node:crypto';
import { resolveConflict } from '../../protocol/conflicts';
import type { Resolution, SyncRecord, Value } from '../../protocol/records';
import { columnNames, type SchemaVersion, type TableName } from '../../protocol/tables';

type Raw = Record<string, any>;

export interface LocalConflict {
  table: TableName;
  id: string;
  resolution: Resolution;
  /** Columns the device still has to push after resolving. */
  pushColumns: string[];
}

/** Stable fingerprint of a row's data columns for a schema version (compares pushed vs pulled). */
export function dataHash(table: TableName, r: Record<string, unknown>, version: SchemaVersion): string {
  const json = JSON.stringify(columnNames(table, version).map((c) => r[c] ?? null));
  return createHash('sha1').update(json).digest('base64');
}

export function makeConflictResolver(
  version: SchemaVersion,
  onConflict: (c: LocalConflict) => void,
  isEcho: (table: TableName, id: string, remote: Raw) => boolean = () => false,
) {
  return (table: string, local: Raw, remote: Raw, resolved: Raw): Raw => {
    // A plain remote update of a synced record (the common case), or a locally deleted one whose
    // deletion will be pushed: WatermelonDB's own result is right.
    if (local._status === 'synced' || local._status === 'deleted') return resolved;
    const t = table as TableName;
    const cols = columnNames(t, version);
    const pick = (r: Raw): SyncRecord => {
      const out: SyncRecord = { id: String(local.id) };
      for (const c of cols) out[c] = (r[c] ?? null) as Value;
      return out;
    };
    // The client's side of the conflict is what it changed (WatermelonDB's _changed), not its stale
    // copy of every column: merging a full record would let unchanged stale values overwrite the
    // other device's edits (merge_non_null, client_wins). A record never pushed counts whole.
    const clientSide = (r: Raw): SyncRecord => {
      if (r._status !== 'updated') return pick(r);
      const changed = new Set(String(r._changed ?? '').split(','));
      const out: SyncRecord = { id: String(r.id) };
      for (const c of cols) if (changed.has(c)) out[c] = (r[c] ?? null) as Value;
      return out;
    };
    const server = pick(remote);
    const echo = isEcho(t, String(local.id), remote);
    // An echo is the row as the server keeps it after our push, which is not our copy when the
    // server resolved a conflict on it (the echo then matches its resolvedRecord; WatermelonDB marked
    // our stale copy synced). Only what we changed since wins; the rest is the server's. Our whole
    // copy would push the columns we lost back without a conflict (multi-device-random seed
    // 855163402: p2's stale calories overwrote p3's acknowledged update, caught by lost-writes).
    const { resolution, record } = echo
      ? { resolution: null, record: { ...server, ...clientSide(local) } }
      : resolveConflict(t, clientSide(local), server, version);
    const out: Raw = { ...resolved };
    for (const c of cols) out[c] = record[c] ?? null;
    const differing = cols.filter((c) => (out[c] ?? null) !== (server[c] ?? null));
    if (differing.length === 0) {
      // The server's row is the answer (server wins, or our own push echoed back after a lost
      // response): nothing left to push.
      out._status = 'synced';
      out._changed = '';
    } else {
      out._status = local._status;
      out._changed = differing.join(',');
    }
    if (resolution) onConflict({ table: t, id: String(local.id), resolution, pushColumns: differing });
    return out;
  };
}
