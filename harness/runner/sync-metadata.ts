/**
 * RFC 0006 §5.2 "Storage: sync metadata < 1 MB", measured per device after the run, on both sides:
 *
 * - server: the device's rows of the reference server's bookkeeping tables (`sync_state`, `devices`,
 *   `sync_resets`, and `push_results`, the idempotency record of each push, which grows with every
 *   push), as PostgreSQL stores them (`pg_column_size` of the row). `sync_log` is the audit history
 *   (retention 90 days), not sync metadata, and the user's records are data.
 * - phone: what WatermelonDB keeps for sync in the phone's SQLite file: the `local_storage` table
 *   (stamps, pending push id, echo cache) and the `_status`/`_changed` columns of every row.
 *
 * Absent where the harness cannot read it (a --target server, a device kind without a file).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface SyncMetadataSize {
  device: string;
  side: 'server' | 'device';
  bytes: number;
  /** Bytes by table, for the notes. */
  parts: Record<string, number>;
}

const SERVER_TABLES = ['sync_state', 'devices', 'sync_resets', 'push_results'] as const;

export async function serverSyncMetadata(
  databaseUrl: string | undefined,
  deviceIds: ReadonlyMap<string, string>,
): Promise<SyncMetadataSize[]> {
  if (!databaseUrl || !deviceIds.size) return [];
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const union = SERVER_TABLES.map(
      (t) =>
        `SELECT '${t}' AS part, device_id, pg_column_size(x.*)::bigint AS bytes FROM ${t} x WHERE device_id = ANY($1)`,
    ).join(' UNION ALL ');
    const r = await client.query<{ part: string; device_id: string; bytes: string }>(
      `SELECT part, device_id, sum(bytes)::bigint AS bytes FROM (${union}) u GROUP BY part, device_id`,
      [[...deviceIds.keys()]],
    );
    const out = new Map<string, SyncMetadataSize>();
    for (const [serverId, id] of deviceIds) out.set(serverId, { device: id, side: 'server', bytes: 0, parts: {} });
    for (const row of r.rows) {
      const m = out.get(row.device_id)!;
      m.parts[row.part] = Number(row.bytes);
      m.bytes += Number(row.bytes);
    }
    return [...out.values()];
  } finally {
    await client.end().catch(() => {});
  }
}

/** A phone's WatermelonDB sync metadata, read from its SQLite file after the device stopped. */
export async function phoneSyncMetadata(device: string, dataDir: string): Promise<SyncMetadataSize | undefined> {
  const file = join(dataDir, 'phone.db');
  if (!existsSync(file)) return undefined;
  const { default: Database } = await import('better-sqlite3');
  let db: import('better-sqlite3').Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch {
    return undefined; // not a SQLite phone (loki), or a file it cannot share
  }
  try {
    const parts: Record<string, number> = {};
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as Array<{ name: string }>;
    for (const { name } of tables) {
      const cols = new Set(
        (db.prepare(`PRAGMA table_info("${name}")`).all() as Array<{ name: string }>).map((c) => c.name),
      );
      let sql: string | undefined;
      if (name === 'local_storage')
        sql = `SELECT coalesce(sum(length(key) + length(value)), 0) AS b FROM local_storage`;
      else if (cols.has('_status') && cols.has('_changed'))
        sql = `SELECT coalesce(sum(length(_status) + length(_changed)), 0) AS b FROM "${name}"`;
      if (!sql) continue;
      const b = Number((db.prepare(sql).get() as { b: number }).b);
      if (b) parts[name] = b;
    }
    return { device, side: 'device', bytes: Object.values(parts).reduce((a, b) => a + b, 0), parts };
  } finally {
    db.close();
  }
}
