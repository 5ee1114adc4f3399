/**
 * WatermelonDB `conflictResolver` built on protocol/conflicts.ts `resolveConflict` (no second copy of
 * the strategies). synchronize() calls it for every pulled update of a record that exists locally;
 * only records with unpushed local changes are real conflicts. The strategy decides the data columns;
 * the bookkeeping (_status/_changed) is then set so that WatermelonDB pushes exactly what still
 * differs from the server, or nothing when the server's version won outright.
 */
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

export function makeConflictResolver(version: SchemaVersion, onConflict: (c: LocalConflict) => void) {
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
    const server = pick(remote);
    const { resolution, record } = resolveConflict(t, pick(local), server, version);
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
    onConflict({ table: t, id: String(local.id), resolution, pushColumns: differing });
    return out;
  };
}
