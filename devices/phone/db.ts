/**
 * The phone's local database (worker side): WatermelonDB over SQLite (better-sqlite3 on a file, the
 * default) or LokiJS persisted to a file. Models carry no decorators: data goes through _raw/_setRaw,
 * which is all synchronize() needs.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Database, Model, Q } from '@nozbe/watermelondb';
import * as lokiAdapterNs from '@nozbe/watermelondb/adapters/lokijs';
import * as sqliteNs from '@nozbe/watermelondb/adapters/sqlite';
import * as bridgeNs from '@nozbe/watermelondb/adapters/sqlite/sqlite-node/DatabaseBridge';
import * as lokiNs from 'lokijs';
import type { LocalWrite } from '../../protocol/device';
import type { SyncRecord, TableRecords, Value } from '../../protocol/records';
import { columnNames, columnsFor, type SchemaVersion, TABLE_NAMES, type TableName } from '../../protocol/tables';
import { buildAppSchema, buildMigrations } from './schema';

/** 'lokijs' is accepted as another name for 'loki' (the runner's spelling). */
/** `default` of a CommonJS module whichever interop produced the namespace. */
export function cjsDefault(ns: any): any {
  const d = ns?.default ?? ns;
  return d?.__esModule ? d.default : d;
}

export type PhoneAdapterKind = 'sqlite' | 'loki' | 'lokijs';

export class PhoneWriteError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'PhoneWriteError';
  }
}

// Default exports of WatermelonDB's CommonJS files. Imported as namespaces (so the worker bundle
// holds ONE copy of WatermelonDB: adapters, logger and sync must share singletons) and unwrapped by
// hand, because default-import interop differs between tsx, vitest and esbuild's output.
const SQLiteAdapter = cjsDefault(sqliteNs);
const LokiJSAdapter = cjsDefault(lokiAdapterNs);
const DatabaseBridge = cjsDefault(bridgeNs);

function modelClassFor(table: TableName): typeof Model {
  // A fresh subclass per table: WatermelonDB keys collections by the static `table`.
  return class extends Model {
    static override table = table;
  };
}

export interface PhoneDb {
  database: Database;
  schemaVersion: SchemaVersion;
  adapterKind: PhoneAdapterKind;
  /** Make everything written so far durable (a no-op for SQLite, whose commits already are). */
  flush(): Promise<void>;
}

export async function openPhoneDb(opts: {
  adapter: PhoneAdapterKind;
  dataDir: string;
  schemaVersion: SchemaVersion;
}): Promise<PhoneDb> {
  mkdirSync(opts.dataDir, { recursive: true });
  const schema = buildAppSchema(opts.schemaVersion);
  const migrations = buildMigrations(opts.schemaVersion);
  let flush: () => Promise<void> = async () => {};
  let adapter: any;
  if (opts.adapter === 'sqlite') {
    adapter = new SQLiteAdapter({ dbName: join(opts.dataDir, 'phone.db'), schema, migrations, jsi: false } as any);
  } else {
    // LokiJS has no file persistence of its own in Node (it falls back to memory without IndexedDB):
    // hand it lokijs's LokiFsAdapter (atomic: writes `file~` then renames) and save explicitly after
    // every write and sync instead of relying on the 500 ms autosave, so an app kill never loses an
    // acknowledged write.
    const { LokiFsAdapter } = cjsDefault(lokiNs);
    const fsAdapter = new LokiFsAdapter();
    // WatermelonDB "resets" an empty database by deleting it first; with no file yet that is ENOENT.
    const deleteDatabase = fsAdapter.deleteDatabase.bind(fsAdapter);
    fsAdapter.deleteDatabase = (name: string, cb: (err?: unknown) => void) =>
      deleteDatabase(name, (err?: unknown) => cb(err && /ENOENT/.test(String(err)) ? undefined : err));
    adapter = new LokiJSAdapter({
      dbName: join(opts.dataDir, 'phone.loki.json'),
      schema,
      migrations,
      useWebWorker: false,
      useIncrementalIndexedDB: false,
      extraLokiOptions: { autosave: false },
      _testLokiAdapter: fsAdapter,
    } as any);
    flush = () =>
      new Promise<void>((resolve, reject) => {
        const loki = adapter._driver?.loki;
        if (!loki) return resolve();
        loki.saveDatabase((err: unknown) => (err ? reject(err) : resolve()));
      });
  }
  const database = new Database({ adapter, modelClasses: TABLE_NAMES.map(modelClassFor) });
  // Fail now (bad file, failed migration) rather than on the first write.
  await database.adapter.getLocal('__open_check__');
  if (opts.adapter === 'sqlite') {
    // WAL with synchronous=NORMAL: every committed transaction survives an application crash (our
    // app kill), only an OS crash or power loss may roll back the last ones; the default rollback
    // journal with synchronous=FULL costs an fsync per write (about 30 ms here) for no app-kill gain.
    const sqlite = DatabaseBridge.connections[adapter._tag]?.driver?.database?.instance;
    if (sqlite) {
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = NORMAL');
      // No automatic checkpoint: the WAL only grows while the app runs, so which commits a power
      // loss can take away is a prefix of it (power-loss.ts). Closing the database checkpoints it.
      sqlite.pragma('wal_autocheckpoint = 0');
    }
  }
  return {
    database,
    schemaVersion: opts.schemaVersion,
    adapterKind: opts.adapter === 'sqlite' ? 'sqlite' : 'loki',
    flush,
  };
}

function checkValues(db: PhoneDb, table: TableName, values: Record<string, Value | undefined>): void {
  const cols = new Map(columnsFor(table, db.schemaVersion).map((c) => [c.name, c.type]));
  for (const [k, v] of Object.entries(values)) {
    if (k === 'id') continue;
    const type = cols.get(k);
    if (!type) {
      throw new PhoneWriteError(
        'HRN_ERR_PHONE_UNKNOWN_COLUMN',
        `table "${table}" has no column "${k}" at schema version ${db.schemaVersion}; write only columns of protocol/tables.ts for this version`,
      );
    }
    // WatermelonDB would coerce a wrong type silently ('' / 0 / null): refuse it at the source instead.
    if (v !== null && v !== undefined && typeof v !== type) {
      throw new PhoneWriteError('HRN_ERR_PHONE_WRONG_TYPE', `${table}.${k} must be a ${type} or null, got ${typeof v}`);
    }
  }
}

function setValues(record: Model, values: Record<string, Value | undefined>): void {
  for (const [k, v] of Object.entries(values)) {
    if (k === 'id' || v === undefined) continue;
    (record as any)._setRaw(k, v);
  }
}

/** Local-first write inside one WatermelonDB writer; deletes use markAsDeleted so they sync. */
export async function applyWrite(db: PhoneDb, op: LocalWrite): Promise<void> {
  await applyWrites(db, [op]);
}

/** Several local writes in one writer (one RPC, one flush): seeding and bursts of edits. */
export async function applyWrites(db: PhoneDb, ops: LocalWrite[]): Promise<void> {
  for (const op of ops) if (op.op !== 'delete') checkValues(db, op.table, op.values);
  await db.database.write(async () => {
    for (const op of ops) await writeOne(db, op);
  }, 'harness-write');
  await db.flush();
}

async function writeOne(db: PhoneDb, op: LocalWrite): Promise<void> {
  const collection = db.database.get<Model>(op.table);
  if (op.op === 'create') {
    const existing = await findLive(collection, op.id);
    if (existing) throw new PhoneWriteError('HRN_ERR_PHONE_EXISTS', `${op.table}#${op.id} already exists locally`);
    await collection.create((r) => {
      (r as any)._raw.id = op.id;
      setValues(r, op.values);
    });
    return;
  }
  const record = await findLive(collection, op.id);
  if (!record) throw new PhoneWriteError('HRN_ERR_PHONE_NOT_FOUND', `${op.table}#${op.id} does not exist locally`);
  if (op.op === 'update') await record.update((r) => setValues(r, op.values));
  else await record.markAsDeleted();
}

async function findLive(collection: ReturnType<Database['get']>, id: string): Promise<Model | null> {
  try {
    const r = await collection.find(id);
    return (r as any)._raw._status === 'deleted' ? null : r;
  } catch {
    return null;
  }
}

/** Data columns only (no _status/_changed), for the device's schema version. */
export function toPlain(table: TableName, raw: Record<string, unknown>, version: SchemaVersion): SyncRecord {
  const out: SyncRecord = { id: String(raw.id) };
  for (const c of columnNames(table, version)) out[c] = (raw[c] ?? null) as Value;
  return out;
}

export async function snapshot(db: PhoneDb): Promise<TableRecords> {
  const out = {} as TableRecords;
  for (const t of TABLE_NAMES) {
    // Queries exclude locally deleted rows by default.
    const raws = (await db.database.get(t).query().unsafeFetchRaw()) as Array<Record<string, unknown>>;
    out[t] = raws.map((r) => toPlain(t, r, db.schemaVersion)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  return out;
}

/** Records created, updated or deleted locally and not yet acknowledged by a push. */
export async function pendingCount(db: PhoneDb): Promise<number> {
  let n = 0;
  for (const t of TABLE_NAMES) {
    n += await db.database
      .get(t)
      .query(Q.where('_status', Q.oneOf(['created', 'updated'])))
      .fetchCount();
    n += (await db.database.adapter.getDeletedRecords(t)).length;
  }
  return n;
}
