/**
 * Database schema, derived from protocol/tables.ts so a new column is one line there. Migrations are
 * idempotent (IF NOT EXISTS everywhere) and serialised by an advisory lock, because several server
 * processes may start at once against one database (multi-server tests, serverCrash restarts).
 */
import type pg from 'pg';
import { TABLE_NAMES, TABLES, type TableName } from '../protocol/tables';
import { checkout } from './db';

/** Arbitrary constant key for pg_advisory_xact_lock: "RFC 0006". */
const MIGRATION_LOCK_KEY = 60060006;

export const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

/** Stamp and tombstone bookkeeping columns; prefixed so they can never clash with a data column. */
export const STAMP_COL = '_stamp';
export const DELETED_COL = '_deleted';

function tableDdl(table: TableName): string[] {
  const spec = TABLES[table];
  const t = q(table);
  const sqlType = (type: string) => (type === 'number' ? 'double precision' : 'text');
  const stmts = [
    `CREATE TABLE IF NOT EXISTS ${t} (
       user_id text NOT NULL,
       id text NOT NULL,
       ${STAMP_COL} bigint NOT NULL,
       ${DELETED_COL} boolean NOT NULL DEFAULT false,
       ${spec.columns.map((c) => `${q(c.name)} ${sqlType(c.type)}`).join(',\n       ')},
       PRIMARY KEY (user_id, id)
     )`,
  ];
  // Columns are also added one by one, so a database created by an older schema migrates in place.
  for (const c of spec.columns) {
    stmts.push(`ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS ${q(c.name)} ${sqlType(c.type)}`);
  }
  stmts.push(`CREATE INDEX IF NOT EXISTS ${q(`${table}_user_stamp`)} ON ${t} (user_id, ${STAMP_COL})`);
  return stmts;
}

const COMMON_DDL = [
  // One row per user: the per-user monotonic change stamp, and the lock every write takes.
  `CREATE TABLE IF NOT EXISTS user_stamps (user_id text PRIMARY KEY, stamp bigint NOT NULL)`,
  // A device id belongs to the first user that presented it (RFC 5.1 "device ID binding to user").
  `CREATE TABLE IF NOT EXISTS devices (
     device_id text PRIMARY KEY,
     user_id text NOT NULL,
     platform text,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS sync_state (
     user_id text NOT NULL,
     device_id text NOT NULL,
     platform text,
     last_pulled_at bigint NOT NULL DEFAULT 0,
     last_pushed_at bigint,
     schema_version integer,
     app_version text,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now(),
     UNIQUE (user_id, device_id)
   )`,
  `CREATE TABLE IF NOT EXISTS sync_log (
     id bigserial PRIMARY KEY,
     user_id text NOT NULL,
     device_id text NOT NULL,
     operation text NOT NULL CHECK (operation IN ('PULL', 'PUSH', 'CONFLICT_RESOLVED', 'FULL_SYNC')),
     table_name text,
     record_count integer,
     duration_ms integer,
     success boolean NOT NULL,
     error text,
     timestamp timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX IF NOT EXISTS sync_log_user_ts ON sync_log (user_id, timestamp)`,
  // The request's trace id (x-trace-id, also in every log line of the request): audit (RFC §5.1, §5.3).
  `ALTER TABLE sync_log ADD COLUMN IF NOT EXISTS trace_id text`,
  // Retention (RFC §7, 90 days): the job deletes by age.
  `CREATE INDEX IF NOT EXISTS sync_log_ts ON sync_log (timestamp)`,
  // Forced full re-syncs (RFC §3.4 step 4): a row per device the operator reset and that has not
  // pulled everything since. Its pulls from a stamp and its pushes get 410 until it does.
  `CREATE TABLE IF NOT EXISTS sync_resets (
     user_id text NOT NULL,
     device_id text NOT NULL,
     reset_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (user_id, device_id)
   )`,
  // Idempotency records: the first response of each push, keyed by pushId or content hash per device.
  `CREATE TABLE IF NOT EXISTS push_results (
     user_id text NOT NULL,
     device_id text NOT NULL,
     push_key text NOT NULL,
     response jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (user_id, device_id, push_key)
   )`,
  // File objects (FIT uploads, RFC 2.2.6); the endpoints arrive with the object-store issue.
  `CREATE TABLE IF NOT EXISTS file_objects (
     file_key text PRIMARY KEY,
     user_id text NOT NULL,
     device_id text,
     file_name text,
     content_type text,
     size bigint,
     sha256 text,
     status text NOT NULL DEFAULT 'pending',
     record_table text,
     record_id text,
     created_at timestamptz NOT NULL DEFAULT now(),
     completed_at timestamptz
   )`,
  `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
];

export const SCHEMA_REVISION = 3;

export async function migrate(pool: pg.Pool): Promise<void> {
  const client = await checkout(pool);
  try {
    // Fast path: an already migrated database (server restart) needs no DDL and no lock.
    const done = await client
      .query('SELECT 1 FROM schema_migrations WHERE version = $1', [SCHEMA_REVISION])
      .then((r) => r.rowCount === 1)
      .catch(() => false);
    if (done) return;
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    // One round trip for all DDL (simple query protocol accepts several statements).
    const ddl = [...COMMON_DDL, ...TABLE_NAMES.flatMap(tableDdl)];
    await client.query(`SET LOCAL client_min_messages = warning; ${ddl.join(';\n')};`);
    await client.query('INSERT INTO schema_migrations (version) VALUES ($1) ON CONFLICT DO NOTHING', [SCHEMA_REVISION]);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release(client.lost !== undefined);
  }
}
