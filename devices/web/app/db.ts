/**
 * The web client's local store: one Dexie table per synced table, derived from protocol/tables.ts
 * (the single source of columns), plus a key-value `meta` table for sync bookkeeping.
 *
 * Each local row carries WatermelonDB-like bookkeeping next to its columns:
 *  - `_status`: 'synced' | 'created' | 'updated' | 'deleted' (a 'deleted' row is a tombstone until pushed)
 *  - `_rev`: bumped on every local write, so an acknowledged push only clears rows it actually carried
 *  - `_base`: the last server version of the row this device knows (JSON). A pulled row equal to
 *    `_base` is an echo of our own push, not a concurrent change, so local edits survive it.
 */
import { Dexie, type Table } from 'dexie';
import type { SyncRecord } from '../../../protocol/records';
import {
  CURRENT_SCHEMA_VERSION,
  columnsFor,
  type SchemaVersion,
  TABLE_NAMES,
  type TableName,
} from '../../../protocol/tables';

export type LocalStatus = 'synced' | 'created' | 'updated' | 'deleted';

export interface LocalRow extends SyncRecord {
  _status: LocalStatus;
  _rev: number;
  _base: string | null;
}

export interface MetaRow {
  key: string;
  value: unknown;
}

/** A push whose outcome is not known yet; it is resent with the same pushId before anything else. */
export interface PendingPush {
  pushId: string;
  lastPulledAt: number;
  changes: Record<string, { created: SyncRecord[]; updated: SyncRecord[]; deleted: string[] }>;
  /** `${table}/${id}` → `_rev` of the row when the push was built. */
  revs: Record<string, number>;
  createdAt: number;
}

/**
 * How far a stored push got when it went as several batches: the server acknowledged the first
 * `acked` of its `batches`. Written in the transaction that clears a batch's rows, so a resend (next
 * sync, another tab, the service worker) starts at the first unacknowledged batch. Kept apart from
 * `pendingPush` so an acknowledgement writes a few bytes, not the whole stored push again.
 */
export interface PushProgress {
  pushId: string;
  batches: number;
  acked: number;
}

export type HarnessDb = Dexie & { meta: Table<MetaRow, string> } & { [K in TableName]: Table<LocalRow, string> };

export const DB_NAME = 'sync-harness';

/** Dexie store spec: primary key `id`, indexes on the bookkeeping status and `updated_at`. */
export function dexieStores(): Record<string, string> {
  const stores: Record<string, string> = { meta: 'key' };
  for (const t of TABLE_NAMES) {
    const indexed = columnsFor(t).some((c) => c.name === 'updated_at') ? ',updated_at' : '';
    stores[t] = `id,_status${indexed}`;
  }
  return stores;
}

export function openDb(version: SchemaVersion = CURRENT_SCHEMA_VERSION): HarnessDb {
  const db = new Dexie(DB_NAME) as HarnessDb;
  // The IndexedDB version follows the sync schema version: a v2 app opening a v1 store upgrades it.
  db.version(version).stores(dexieStores());
  return db;
}

/** Only the synced columns (the wire shape), in the client's schema version. */
export function toWire(table: TableName, row: SyncRecord, version: SchemaVersion): SyncRecord {
  const out: SyncRecord = { id: row.id };
  for (const c of columnsFor(table, version)) out[c.name] = row[c.name] ?? null;
  return out;
}

/** Checks a local write against the column types; wrong types are rejected here, never coerced. */
export function checkValues(table: TableName, values: Record<string, unknown>, version: SchemaVersion): void {
  const cols = new Map(columnsFor(table, version).map((c) => [c.name, c.type]));
  for (const [k, v] of Object.entries(values)) {
    if (k === 'id') continue;
    const type = cols.get(k);
    if (!type) throw new Error(`unknown column "${k}" for table "${table}" (schema version ${version})`);
    if (v === null) continue;
    if (type === 'number' ? typeof v !== 'number' || !Number.isFinite(v) : typeof v !== 'string') {
      throw new Error(`${table}.${k} must be a ${type} or null, got ${JSON.stringify(v)}`);
    }
  }
}

export async function getMeta<T>(db: HarnessDb, key: string): Promise<T | undefined> {
  return (await db.meta.get(key))?.value as T | undefined;
}

export async function setMeta(db: HarnessDb, key: string, value: unknown): Promise<void> {
  await db.meta.put({ key, value });
}
