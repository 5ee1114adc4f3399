/**
 * Conflict strategies of RFC 0006 §2.6 / sync-contract.md as pure functions. The server applies them
 * when a pushed update meets a row changed since the device's lastPulledAt; devices apply the same
 * functions to pulled rows that have unpushed local changes, so both sides agree on the outcome.
 */
import type { Resolution, SyncRecord, Value } from './records';
import {
  ACTIVITY_SUBJECTIVE_COLUMNS,
  type ConflictStrategy,
  CURRENT_SCHEMA_VERSION,
  columnNames,
  type SchemaVersion,
  TABLES,
  type TableName,
} from './tables';

export interface Resolved {
  resolution: Resolution;
  record: SyncRecord;
}

/** Client columns restricted to what the client's schema version knows (a v1 client never touches v2 columns). */
function clientColumns(table: TableName, client: SyncRecord, version: SchemaVersion): Array<[string, Value]> {
  return columnNames(table, version)
    .filter((c) => Object.hasOwn(client, c))
    .map((c) => [c, client[c] ?? null]);
}

function overlay(server: SyncRecord, entries: Array<[string, Value]>): SyncRecord {
  const out: SyncRecord = { ...server };
  for (const [k, v] of entries) out[k] = v;
  return out;
}

function sameValues(a: SyncRecord, b: SyncRecord): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? null) !== (b[k] ?? null)) return false;
  return true;
}

/**
 * Resolve a conflict between the client's version of a row and the server's current one.
 * `server` must be the full current server row; `client` may carry only the columns it knows.
 */
export function resolveConflict(
  table: TableName,
  client: SyncRecord,
  server: SyncRecord,
  clientVersion: SchemaVersion = CURRENT_SCHEMA_VERSION,
): Resolved {
  const strategy: ConflictStrategy = TABLES[table].strategy;
  const base: SyncRecord = { ...server, id: server.id };
  switch (strategy) {
    case 'server_wins':
      return { resolution: 'server_wins', record: base };
    case 'client_wins':
      return { resolution: 'client_wins', record: overlay(base, clientColumns(table, client, clientVersion)) };
    case 'last_write_wins': {
      const c = client.updated_at;
      const s = server.updated_at;
      // Tie (or missing client time) goes to the server, per the contract.
      const clientNewer = typeof c === 'number' && (typeof s !== 'number' || c > s);
      return clientNewer
        ? { resolution: 'client_wins', record: overlay(base, clientColumns(table, client, clientVersion)) }
        : { resolution: 'server_wins', record: base };
    }
    case 'merge_subjective': {
      const known = new Set(columnNames(table, clientVersion));
      const entries: Array<[string, Value]> = [];
      for (const col of ACTIVITY_SUBJECTIVE_COLUMNS) {
        if (!known.has(col)) continue;
        const v = client[col];
        if (v !== null && v !== undefined) entries.push([col, v]);
      }
      return { resolution: 'merged', record: overlay(base, entries) };
    }
    case 'merge_non_null': {
      const entries = clientColumns(table, client, clientVersion).filter(([, v]) => v !== null);
      return { resolution: 'merged', record: overlay(base, entries) };
    }
  }
}

/** True when resolving changed nothing relative to the server row (useful for metrics and checkers). */
export function resolutionIsNoop(server: SyncRecord, resolved: SyncRecord): boolean {
  return sameValues(server, resolved);
}

export { sameValues as recordsEqual };

/**
 * Device side: a pulled row meets a record with unpushed local edits. A pull after a push returns
 * the device's own pushed rows again (the server sends every row stamped after lastPulledAt, and the
 * push's stamps are later than the pull that preceded it). Such an echo is not a concurrent change:
 * applying the table strategy to it lets "server wins" columns overwrite edits the device made after
 * its push, silently losing them (found by the harness: conflicts-per-table, lost-writes). So when the
 * remote row equals what this device last pushed for it, local edits win; otherwise the strategy runs.
 * `lastPushed` holds the data columns as the device pushed them (undefined when it never pushed this row).
 */
export function resolveIncoming(
  table: TableName,
  local: SyncRecord,
  remote: SyncRecord,
  lastPushed: SyncRecord | undefined,
  clientVersion: SchemaVersion = CURRENT_SCHEMA_VERSION,
): Resolved & { echo: boolean } {
  if (lastPushed && isEcho(table, remote, lastPushed, clientVersion)) {
    const entries = clientColumns(table, local, clientVersion);
    return { resolution: 'client_wins', record: overlay({ ...remote, id: remote.id }, entries), echo: true };
  }
  return { ...resolveConflict(table, local, remote, clientVersion), echo: false };
}

function isEcho(table: TableName, remote: SyncRecord, pushed: SyncRecord, version: SchemaVersion): boolean {
  for (const c of columnNames(table, version)) {
    if (!Object.hasOwn(pushed, c)) continue;
    if ((remote[c] ?? null) !== (pushed[c] ?? null)) return false;
  }
  return true;
}
