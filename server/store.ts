/**
 * Pull and push against PostgreSQL: the stamp and lost-update rules of sync-contract.md.
 *
 * - Every write of a user happens under that user's row lock in `user_stamps` and takes the stamp
 *   max(previous + 1, now_ms) inside the writing transaction.
 * - A pull reads the current stamp and the changed rows in one REPEATABLE READ snapshot, and returns
 *   that stamp. A writer committing after the snapshot read the stamp under the lock after the
 *   snapshot's stamp was committed, so its stamp is strictly greater: no later write can hide below a
 *   pull's timestamp ("never read now, stamp later").
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { resolveConflict } from '../protocol/conflicts';
import { SyncApiError } from '../protocol/errors';
import type {
  ConflictRecord,
  DatabaseChanges,
  PushResponse,
  SyncRecord,
  TableChanges,
  Value,
} from '../protocol/records';
import {
  CURRENT_SCHEMA_VERSION,
  columnNames,
  type SchemaVersion,
  TABLE_NAMES,
  TABLES,
  type TableName,
} from '../protocol/tables';
import type { BrokenMode } from './broken';
import { asExecute, withTransaction } from './db';
import type { SyncPhase } from './metrics';
import { PoolGate } from './pool-gate';
import { DELETED_COL, q, STAMP_COL } from './schema';

export interface Actor {
  userId: string;
  deviceId: string;
  platform: string;
  /** The request's trace id (x-trace-id), written to every sync_log row of the request (RFC §5.3). */
  traceId?: string;
}

export interface StoreOptions {
  broken: ReadonlySet<BrokenMode>;
  /** Wall clock (ms); injectable for tests. */
  now?: () => number;
  /** Receives the duration (ms) of each step of a sync (metrics sync_phase_duration_seconds). */
  phase?: (phase: SyncPhase, ms: number) => void;
  /** Who gets the next connection under overload (default: pushes first, server/pool-gate.ts). */
  gate?: PoolGate;
}

export const POKE_CHANNEL = 'sync_poke';

interface ServerRow {
  id: string;
  _stamp: number;
  _deleted: boolean;
  [col: string]: Value | boolean;
}

const ALL_COLS: Record<TableName, string[]> = Object.fromEntries(
  TABLE_NAMES.map((t) => [t, columnNames(t, CURRENT_SCHEMA_VERSION)]),
) as Record<TableName, string[]>;

/** SQL snippets per table, built once: $1 is the user; `p` the parameter of the ids / rows. */
const SQL = Object.fromEntries(
  TABLE_NAMES.map((t) => {
    const cols = ALL_COLS[t];
    const colList = cols.map(q).join(', ');
    // One primary-key probe per id (the LIMIT keeps the planner from flattening the lateral into a
    // join): `id = ANY($p)` was planned as a scan of all the user's rows (bitmap on user_id, or a
    // seq scan once analysed), so a push's read grew with the rows the user had, not the rows pushed:
    // 10.4 ms for 230 ids of a user with 7000 rows, 1.0 ms by key (bench/README.md).
    const selectAgg = (p: number) =>
      `(SELECT json_agg(x) FROM (SELECT r.* FROM unnest($${p}::text[]) k(id) CROSS JOIN LATERAL ` +
      `(SELECT id, ${STAMP_COL}, ${DELETED_COL}, ${colList} FROM ${q(t)} WHERE user_id = $1 AND id = k.id LIMIT 1) r) x)`;
    // The stamp is $3 of the write statement.
    const upsert = (p: number) =>
      `INSERT INTO ${q(t)} (user_id, id, ${colList}, ${STAMP_COL}, ${DELETED_COL}) ` +
      `SELECT $1, r.id, ${cols.map((c) => `r.${q(c)}`).join(', ')}, $3::bigint, r.${DELETED_COL} ` +
      `FROM json_populate_recordset(NULL::${q(t)}, $${p}::json) r ` +
      `ON CONFLICT (user_id, id) DO UPDATE SET ${cols.map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ')}, ` +
      `${STAMP_COL} = EXCLUDED.${STAMP_COL}, ${DELETED_COL} = EXCLUDED.${DELETED_COL}`;
    return [t, { selectAgg, upsert }];
  }),
) as Record<TableName, { selectAgg: (p: number) => string; upsert: (p: number) => string }>;

interface Statement {
  name: string;
  text: string;
}
const statements = new Map<string, Statement>();
/** A named (prepared once per connection) statement per table set, built once. */
function statement(kind: string, tables: readonly TableName[], build: () => string): Statement {
  const name = `${kind}_${tables.map((t) => TABLE_NAMES.indexOf(t)).join('_')}`;
  const cached = statements.get(name);
  if (cached) return cached;
  const s = { name, text: build() };
  statements.set(name, s);
  return s;
}

/**
 * The push's read under the lock. $1 user, $2 device, $3 push key, $4.. the ids of each table;
 * column r<i> is table i's rows as JSON (numbers, text, booleans and nulls as the columns hold them).
 */
function readStatement(tables: readonly TableName[]): Statement {
  return statement('push_read', tables, () => {
    const rows = tables.map((t, i) => `${SQL[t].selectAgg(4 + i)} AS r${i}`);
    return `SELECT (SELECT response FROM push_results WHERE user_id = $1 AND device_id = $2 AND push_key = $3) AS response,
              st.last_pulled_at, st.last_pushed_at,
              EXISTS (SELECT 1 FROM sync_resets WHERE user_id = $1 AND device_id = $2) AS reset${rows.map((r) => `,\n              ${r}`).join('')}
       FROM (SELECT 1) one LEFT JOIN sync_state st ON st.user_id = $1 AND st.device_id = $2`;
  });
}

/**
 * The push's writes, one statement. $1 user, $2 device, $3 new stamp (null: nothing written),
 * $4 platform, $5 response timestamp, $6 schema version, $7 push key (null: not stored), $8 response,
 * $9 sync_log rows, $10 poke payload (null: none), $11.. the rows of each written table.
 */
function writeStatement(tables: readonly TableName[]): Statement {
  return statement('push_write', tables, () => {
    const upserts = tables.map((t, i) => `u${i} AS (${SQL[t].upsert(11 + i)}), `).join('');
    return `WITH ${upserts}s AS (
               UPDATE user_stamps SET stamp = GREATEST(stamp, $3::bigint) WHERE user_id = $1 AND $3::bigint IS NOT NULL
             ), st AS (
               INSERT INTO sync_state (user_id, device_id, platform, last_pulled_at, last_pushed_at, schema_version)
               VALUES ($1, $2, $4, 0, $5, $6)
               ON CONFLICT (user_id, device_id) DO UPDATE SET
                 last_pushed_at = EXCLUDED.last_pushed_at, platform = EXCLUDED.platform,
                 schema_version = EXCLUDED.schema_version, updated_at = now()
             ), pr AS (
               INSERT INTO push_results (user_id, device_id, push_key, response)
               SELECT $1, $2, $7, $8::jsonb WHERE $7::text IS NOT NULL
               ON CONFLICT DO NOTHING
             ), lg AS (
               INSERT INTO sync_log (user_id, device_id, operation, table_name, record_count, duration_ms, success, error, trace_id)
               SELECT user_id, device_id, operation, table_name, record_count, duration_ms, success, error, trace_id
               FROM json_populate_recordset(NULL::sync_log, $9::json)
             )
             SELECT CASE WHEN $10::text IS NOT NULL THEN pg_notify('${POKE_CHANNEL}', $10::text) END`;
  });
}

/** The per-user lock (row lock on user_stamps); returns the last committed stamp. */
const LOCK_USER: Statement = { name: 'lock_user', text: 'SELECT stamp FROM user_stamps WHERE user_id = $1 FOR UPDATE' };

/** What a push reads under the user's lock. */
interface UnderLock {
  /** The operator reset this device's sync state (it must re-sync from 0 first). */
  reset: boolean;
  response?: PushResponse;
  lastPulledAt: number;
  lastPushedAt: number;
  /** Per table of the push, in its order: id -> the server's row. */
  existing: Map<string, ServerRow>[];
}

function toRecord(table: TableName, row: Record<string, unknown>, version: SchemaVersion): SyncRecord {
  const out: SyncRecord = { id: row.id as string };
  for (const c of columnNames(table, version)) out[c] = (row[c] ?? null) as Value;
  return out;
}

function restrict(table: TableName, rec: SyncRecord, version: SchemaVersion): SyncRecord {
  if (version === CURRENT_SCHEMA_VERSION) return rec;
  const out: SyncRecord = { id: rec.id };
  for (const c of columnNames(table, version)) if (Object.hasOwn(rec, c)) out[c] = rec[c] ?? null;
  for (const k of Object.keys(rec)) if (k.startsWith('_')) out[k] = rec[k] ?? null;
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Pull
// ---------------------------------------------------------------------------------------------

export interface PullArgs {
  lastPulledAt: number;
  version: SchemaVersion;
  tables: readonly TableName[];
}

export interface PullResult {
  /** The serialized PullResponse. */
  body: string;
  timestamp: number;
  recordCount: number;
}

function pullStatementName(args: PullArgs): string {
  return `pull_v${args.version}_${args.tables.map((t) => TABLE_NAMES.indexOf(t)).join('')}`;
}

interface PullPlan {
  name: string;
  text: string;
}
const pullPlans = new Map<string, PullPlan>();

/**
 * One statement = one snapshot: the stamp and the changed rows of every requested table come from
 * the same instant, and the device's last_pulled_at is recorded in the same round trip.
 * $1 user, $2 lastPulledAt, $3 minimum timestamp (broken mode only, else 0), $4 upper bound override
 * (broken mode only, else null), $5 device, $6 platform, $7 schema version, $8 whether this pull is
 * a full one (every table from 0). A device with a pending reset is recorded as having pulled only
 * by a full pull; any other pull of it is refused after the statement, which then changed nothing.
 *
 * PostgreSQL writes the records as JSON text (the columns of the client's schema version, as the
 * columns hold them), so the server splices them into the response instead of parsing every field
 * into an object and serializing it again. Row (rowMode array): [stamp, reset pending, then per
 * table: count and JSON of the updated records, count and JSON of the deleted ids].
 */
function pullPlan(args: PullArgs): PullPlan {
  const name = pullStatementName(args);
  const cached = pullPlans.get(name);
  if (cached) return cached;
  const head = `WITH rs AS (SELECT EXISTS (SELECT 1 FROM sync_resets WHERE user_id = $1 AND device_id = $5) AS pending),
     s AS (SELECT GREATEST(stamp, $3::bigint) AS stamp, COALESCE($4::bigint, stamp) AS upper FROM user_stamps WHERE user_id = $1),
     st AS (
       INSERT INTO sync_state (user_id, device_id, platform, last_pulled_at, schema_version)
       SELECT $1, $5, $6, s.stamp, $7 FROM s, rs WHERE NOT rs.pending OR $8::boolean
       ON CONFLICT (user_id, device_id) DO UPDATE SET
         last_pulled_at = GREATEST(sync_state.last_pulled_at, EXCLUDED.last_pulled_at),
         platform = EXCLUDED.platform, schema_version = EXCLUDED.schema_version, updated_at = now()
     )\n`;
  const cols = args.tables.map((_, i) => `u${i}.n, u${i}.rows, d${i}.n, d${i}.ids`);
  const joins = args.tables.flatMap((t, i) => {
    const record = ['id', ...columnNames(t, args.version)].map((c) => `r.${q(c)}`).join(', ');
    const changed = `r.user_id = $1 AND r.${STAMP_COL} > $2 AND r.${STAMP_COL} <= s.upper`;
    // json_agg of a subquery's rows writes each as an object keyed by column name (the fastest of
    // the forms tried: json_build_object per row took 1.7x as long for 230 activities).
    return [
      `CROSS JOIN LATERAL (SELECT count(*)::int AS n, COALESCE(json_agg(x), '[]')::text AS rows FROM ` +
        `(SELECT ${record} FROM ${q(t)} r WHERE ${changed} AND NOT r.${DELETED_COL}) x) u${i}`,
      `CROSS JOIN LATERAL (SELECT count(*)::int AS n, COALESCE(json_agg(r.id), '[]')::text AS ids ` +
        `FROM ${q(t)} r WHERE ${changed} AND r.${DELETED_COL}) d${i}`,
    ];
  });
  const text = `${head}SELECT s.stamp, rs.pending${cols.map((c) => `, ${c}`).join('')} FROM s CROSS JOIN rs\n${joins.join('\n')}`;
  const plan = { name, text };
  pullPlans.set(name, plan);
  return plan;
}

/** sync_log's PULL rows are written together: at most this many per statement, at most this late. */
const PULL_LOG_BATCH = 200;
const PULL_LOG_DELAY_MS = 50;

interface PullLogRow {
  user_id: string;
  device_id: string;
  table_name: string;
  record_count: number;
  duration_ms: number;
  /** ISO time of the pull (the row's timestamp, not the batch's). */
  timestamp: string;
  /** The request's trace id (audit). */
  trace_id: string | null;
}

/** Push results kept per device by the retention job (prunePushResults). */
export const PUSH_RESULTS_KEPT = 32;

export class SyncStore {
  private readonly knownUsers = new Set<string>();
  private readonly now: () => number;
  private readonly phase: (phase: SyncPhase, ms: number) => void;
  /**
   * Broken mode stamp-before-commit: the window between taking the stamp and committing. A test
   * replaces it with a gate it opens itself, so "a pull inside the window" does not depend on timing.
   */
  brokenStampWindow: () => Promise<unknown> = () => sleep(100);
  readonly gate: PoolGate;
  constructor(
    readonly pool: pg.Pool,
    private readonly opts: StoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.phase = opts.phase ?? (() => {});
    this.gate = opts.gate ?? new PoolGate(pool.options.max ?? 10);
  }

  /** Reports the time since `since` as `phase` and returns now (for the next step's start). */
  private lap(phase: SyncPhase, since: number): number {
    const t = performance.now();
    this.phase(phase, t - since);
    return t;
  }

  private readonly pending = new Set<Promise<unknown>>();

  private background(p: Promise<unknown>): void {
    const tracked = p.catch(() => {}).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** Waits for background writes (sync_log rows of pulls); called before the pool closes. */
  async flush(): Promise<void> {
    this.writePullLog();
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private pullLog: PullLogRow[] = [];
  private pullLogTimer?: NodeJS.Timeout;

  /**
   * A PULL row of sync_log changes no sync state, so it stays off the request path: rows are
   * written together, one statement per PULL_LOG_BATCH rows or PULL_LOG_DELAY_MS, with the time of
   * each pull. A server killed outright loses at most that window of PULL rows (never a push's).
   */
  private logPull(row: PullLogRow): void {
    this.pullLog.push(row);
    if (this.pullLog.length >= PULL_LOG_BATCH) this.writePullLog();
    else if (!this.pullLogTimer) {
      this.pullLogTimer = setTimeout(() => this.writePullLog(), PULL_LOG_DELAY_MS);
      this.pullLogTimer.unref();
    }
  }

  private writePullLog(): void {
    clearTimeout(this.pullLogTimer);
    this.pullLogTimer = undefined;
    if (this.pullLog.length === 0) return;
    const rows = this.pullLog;
    this.pullLog = [];
    this.background(
      this.pool.query({
        name: 'log_pulls',
        text: `INSERT INTO sync_log (user_id, device_id, operation, table_name, record_count, duration_ms, success, timestamp, trace_id)
               SELECT user_id, device_id, 'PULL', table_name, record_count, duration_ms, true, timestamp, trace_id
               FROM json_populate_recordset(NULL::sync_log, $1::json)`,
        values: [JSON.stringify(rows)],
      }),
    );
  }

  private broken(m: BrokenMode): boolean {
    return this.opts.broken.has(m);
  }

  /** Makes sure the user's stamp row exists, starting at now (so a first pull's timestamp is > 0). */
  private async ensureUser(userId: string): Promise<void> {
    if (this.knownUsers.has(userId)) return;
    await this.pool.query({
      name: 'ensure_user',
      text: 'INSERT INTO user_stamps (user_id, stamp) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING',
      values: [userId, this.now()],
    });
    this.knownUsers.add(userId);
  }

  /**
   * Forced full re-sync (RFC §3.4 steps 2 and 4): clears the device's sync state (last pull and push
   * stamps, idempotency records) and marks it reset until it pulls every table from 0.
   */
  async resetDevice(userId: string, deviceId: string): Promise<{ resetAt: string }> {
    return withTransaction(this.pool, 'BEGIN', async (c) => {
      // Under the user's lock, as every push is: a push in flight commits first and the reset then
      // clears what it wrote, or it reads the reset and answers 410. Without the lock, a push that
      // had read before the reset committed wrote sync_state and push_results after it.
      await this.lockUser(c, userId);
      const r = await c.query(
        `INSERT INTO sync_resets (user_id, device_id) VALUES ($1, $2)
         ON CONFLICT (user_id, device_id) DO UPDATE SET reset_at = now() RETURNING reset_at`,
        [userId, deviceId],
      );
      await c.query(
        'UPDATE sync_state SET last_pulled_at = 0, last_pushed_at = NULL, updated_at = now() WHERE user_id = $1 AND device_id = $2',
        [userId, deviceId],
      );
      await c.query('DELETE FROM push_results WHERE user_id = $1 AND device_id = $2', [userId, deviceId]);
      return { resetAt: (r.rows[0].reset_at as Date).toISOString() };
    });
  }

  /** Retention (RFC §7 "sync history retention: 90 days"): deletes sync_log rows older than `days`. */
  async pruneSyncLog(days: number): Promise<number> {
    const r = await this.pool.query(`DELETE FROM sync_log WHERE timestamp < now() - make_interval(days => $1)`, [days]);
    return r.rowCount ?? 0;
  }

  /**
   * Idempotency records only have to answer a device re-sending its pending push, which is its latest:
   * the newest `keep` per device are plenty, and without a bound a device's server-side sync metadata
   * (RFC §5.2: < 1 MB) grows by ~235 bytes a push forever (past 1 MB after ~4,400 pushes).
   */
  async prunePushResults(keep = PUSH_RESULTS_KEPT): Promise<number> {
    const r = await this.pool.query(
      `DELETE FROM push_results p USING (
         SELECT user_id, device_id, push_key,
                row_number() OVER (PARTITION BY user_id, device_id ORDER BY created_at DESC, push_key) AS rn
         FROM push_results) x
       WHERE x.rn > $1 AND p.user_id = x.user_id AND p.device_id = x.device_id AND p.push_key = x.push_key`,
      [keep],
    );
    return r.rowCount ?? 0;
  }

  private resyncRequired(deviceId: string, what: string): SyncApiError {
    return new SyncApiError('SYNC_ERR_RESYNC_REQUIRED', [
      `The server reset the sync state of device "${deviceId}" (${what} refused). Drop the local sync metadata (last pulled stamp, pending push ids), keep unpushed changes, pull everything with lastPulledAt=0, then push them again.`,
    ]);
  }

  async pull(actor: Actor, args: PullArgs): Promise<PullResult> {
    const started = performance.now();
    await this.ensureUser(actor.userId);
    const fullPull = args.lastPulledAt === 0 && TABLE_NAMES.every((t) => args.tables.includes(t));
    const brokenStamp = this.broken('stamp-before-commit');
    const plan = pullPlan(args);
    const tQuery = performance.now();
    const r = await this.gate.run('pull', () =>
      this.pool.query({
        name: plan.name,
        text: plan.text,
        rowMode: 'array',
        values: [
          actor.userId,
          args.lastPulledAt,
          // Broken "read now, stamp later": the wall clock as timestamp and no upper bound on rows.
          brokenStamp ? this.now() : 0,
          brokenStamp ? Number.MAX_SAFE_INTEGER : null,
          actor.deviceId,
          actor.platform,
          args.version,
          fullPull,
        ],
      }),
    );
    const tSerialize = this.lap('pull_query', tQuery);
    const row = (r.rows[0] as unknown[] | undefined) ?? [0, false];
    const fullResync = row[1] === true;
    // Only a pull of every table from 0 re-syncs; anything else would leave the device's base stale.
    if (fullResync && !fullPull)
      throw this.resyncRequired(actor.deviceId, `pull from ${args.lastPulledAt} of ${args.tables.join(',')}`);
    let timestamp = Number(row[0]);
    let count = 0;
    const parts = args.tables.map((t, i) => {
      const at = 2 + 4 * i;
      count += ((row[at] as number | undefined) ?? 0) + ((row[at + 2] as number | undefined) ?? 0);
      let updated = (row[at + 1] as string | undefined) ?? '[]';
      const deleted = (row[at + 3] as string | undefined) ?? '[]';
      if (this.broken('duplicate-ids-in-pull')) {
        const up = JSON.parse(updated) as SyncRecord[];
        if (up.length > 0) up.push({ ...up[0]! });
        for (const id of JSON.parse(deleted) as string[]) up.push({ id });
        updated = JSON.stringify(up);
      }
      return `${JSON.stringify(t)}:{"created":[],"updated":${updated},"deleted":${deleted}}`;
    });
    // Broken: the stamp never moves past what the device sent, so it pulls the same rows again and again.
    if (this.broken('stuck-pull-timestamp') && args.lastPulledAt > 0) timestamp = args.lastPulledAt;
    // The PullResponse's shape, { changes: { <table>: { created, updated, deleted } }, timestamp }.
    const body = `{"changes":{${parts.join(',')}},"timestamp":${timestamp}}`;
    this.lap('pull_serialize', tSerialize);
    if (fullResync) {
      // Done in the request (not in the background): the device's next push must see it cleared.
      await this.pool.query(
        `WITH d AS (DELETE FROM sync_resets WHERE user_id = $1 AND device_id = $2)
         INSERT INTO sync_log (user_id, device_id, operation, table_name, record_count, duration_ms, success, trace_id)
         VALUES ($1, $2, 'FULL_SYNC', $3, $4, $5, true, $6)`,
        [
          actor.userId,
          actor.deviceId,
          args.tables.join(','),
          count,
          Math.round(performance.now() - started),
          actor.traceId ?? null,
        ],
      );
    }
    this.logPull({
      user_id: actor.userId,
      device_id: actor.deviceId,
      table_name: args.tables.join(','),
      record_count: count,
      duration_ms: Math.round(performance.now() - started),
      timestamp: new Date().toISOString(),
      trace_id: actor.traceId ?? null,
    });
    return { body, timestamp, recordCount: count };
  }

  /** The device's schema version as last recorded (push fallback when the client does not say). */
  async deviceSchemaVersion(actor: Actor): Promise<number | undefined> {
    const r = await this.pool.query({
      name: 'device_version',
      text: 'SELECT schema_version FROM sync_state WHERE user_id = $1 AND device_id = $2',
      values: [actor.userId, actor.deviceId],
    });
    return r.rows[0]?.schema_version ?? undefined;
  }

  /** Logs a failed sync operation (best effort: never masks the original error). */
  async logFailure(actor: Actor, operation: 'PULL' | 'PUSH', error: string, durationMs: number): Promise<void> {
    await this.pool
      .query(
        `INSERT INTO sync_log (user_id, device_id, operation, duration_ms, success, error, trace_id) VALUES ($1, $2, $3, $4, false, $5, $6)`,
        // The message may quote what the client sent; text cannot hold the NULs it may contain.
        [
          actor.userId,
          actor.deviceId,
          operation,
          Math.round(durationMs),
          error.slice(0, 2000).replace(/\0/g, '\\0'),
          actor.traceId ?? null,
        ],
      )
      .catch(() => {});
  }

  // ---------------------------------------------------------------------------------------------
  // Push
  // ---------------------------------------------------------------------------------------------

  /**
   * Applies a validated push. `rawChanges` is only used by the split-push-transactions broken mode
   * (which validates table by table); `validate` turns raw table changes into validated ones.
   */
  async push(actor: Actor, args: PushArgs): Promise<PushResult> {
    const started = performance.now();
    await this.ensureUser(actor.userId);
    const pushKey = args.pushId
      ? `id:${args.pushId}`
      : `hash:${createHash('sha256')
          .update(JSON.stringify([args.version, args.lastPulledAt, args.changes]))
          .digest('base64url')}`;
    const tables = (Object.keys(args.rawChanges ?? args.changes) as TableName[]).filter((t) => TABLES[t]);

    // Broken: the stamp is the wall clock read before the lock, and the commit comes 100 ms later.
    const earlyStamp = this.broken('stamp-before-commit') ? this.now() : 0;
    if (earlyStamp) await this.brokenStampWindow();

    if (this.broken('split-push-transactions') && tables.length > 1) {
      return this.pushSplit(actor, args, pushKey, tables, started);
    }

    const tBegin = performance.now();
    let locked = 0;
    let done = 0;
    // Two round trips per push once a connection has prepared the statements: BEGIN, the lock and
    // the read as one simple query (each statement takes its own snapshot under READ COMMITTED, so
    // the read still sees what the previous lock holder committed), then the write and COMMIT. Four
    // before (BEGIN+lock, read, write, COMMIT): a third of PostgreSQL's CPU per sync was the
    // per-message work of round trips, not the statements (bench/README.md). A simple query cannot
    // take parameters: values go as literals quoted by the driver, into the same prepared plans.
    // push_begin is the wait for a connection.
    const readSt = readStatement(tables);
    const readValues = this.readValues(actor, args, pushKey, tables);
    let tLock = 0;
    let readWithLock = false;
    const beginAndLock = (c: pg.PoolClient) => {
      tLock = this.lap('push_begin', tBegin);
      const lock = asExecute(c, LOCK_USER.name, [actor.userId]);
      const read = asExecute(c, readSt.name, readValues);
      readWithLock = lock !== undefined && read !== undefined;
      // PostgreSQL planned the read anew on every push (its generic plan, estimated on unnest's
      // default 10 ids, looked dearer than a custom plan for the 1 or 2 pushed), and a literal lock
      // statement is planned every time by nature: 0.33 ms of planning per push against 0.12 ms of
      // execution (pg_stat_statements, track_planning). Both run their cached generic plans here,
      // for this transaction only (SET LOCAL): the same primary-key probes.
      return readWithLock ? `BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; ${lock}; ${read}` : 'BEGIN';
    };
    const result = await this.gate.run('push', () =>
      withTransaction(this.pool, beginAndLock, async (c, began, tx) => {
        const results = began as pg.QueryResult[];
        // First push of this table set on this connection: the named statements prepare the plans.
        const prev = readWithLock ? Number(results[2]!.rows[0].stamp) : await this.lockUser(c, actor.userId);
        locked = this.lap('lock_wait', tLock);
        const read = readWithLock
          ? this.parseRead(results[3]!.rows[0], tables)
          : await this.readUnderLock(c, actor, args, pushKey, tables);
        const tResolve = this.lap('push_read', locked);
        const replay = this.replayOrStale(actor, args, read);
        if (replay) return replay;
        const stamp = earlyStamp || Math.max(prev + 1, this.now());
        const conflicts: ConflictRecord[] = [];
        const writes = tables.map((t, i) => this.resolveTable(args, t, read.existing[i]!, conflicts));
        const written = writes.reduce((n, w) => n + w.length, 0);
        const response: PushResponse = {
          success: true,
          conflictedRecords: conflicts,
          timestamp: written > 0 ? stamp : prev,
        };
        const tWrite = this.lap('push_resolve', tResolve);
        const w = this.writeQuery(
          actor,
          args,
          pushKey,
          response,
          tables,
          writes,
          written > 0 ? stamp : undefined,
          started,
        );
        const asSql = asExecute(c, w.name, w.values);
        if (asSql) {
          // The write keeps PostgreSQL's own choice of plan (the SET LOCAL above was for the read).
          await c.query(`${readWithLock ? 'SET LOCAL plan_cache_mode = auto; ' : ''}${asSql}; COMMIT`);
          tx.committed = true;
        } else {
          await c.query(w);
        }
        done = this.lap('push_write', tWrite);
        return { response, replayed: false, tables: written > 0 ? tables : [] };
      }),
    );
    if (done) this.lap('push_commit', done);
    if (locked) this.lap('lock_held', locked);
    return result;
  }

  /** Takes the per-user lock (row lock on user_stamps) and returns the last committed stamp. */
  private async lockUser(c: pg.PoolClient, userId: string): Promise<number> {
    const r = await c.query({ ...LOCK_USER, values: [userId] });
    return r.rows[0].stamp as number;
  }

  /**
   * Under the user lock, in one statement (a new snapshot, taken after the lock was granted, so it
   * sees everything the previous holder committed): the stored response of this push if it is a
   * retry, the device's sync state, and the server's rows for every id the push names, per table.
   */
  private async readUnderLock(
    c: pg.PoolClient,
    actor: Actor,
    args: PushArgs,
    pushKey: string,
    tables: TableName[],
  ): Promise<UnderLock> {
    const st = readStatement(tables);
    const r = await c.query({ name: st.name, text: st.text, values: this.readValues(actor, args, pushKey, tables) });
    return this.parseRead(r.rows[0], tables);
  }

  /** The read statement's values: user, device, push key, then each table's ids. */
  private readValues(actor: Actor, args: PushArgs, pushKey: string, tables: TableName[]): unknown[] {
    const ids = tables.map((t) => {
      const tc = args.changes[t];
      return tc ? [...tc.created.map((r) => r.id), ...tc.updated.map((r) => r.id), ...tc.deleted] : [];
    });
    return [actor.userId, actor.deviceId, pushKey, ...ids];
  }

  private parseRead(row: Record<string, unknown>, tables: TableName[]): UnderLock {
    return {
      reset: row.reset === true,
      response: (row.response as PushResponse | null) ?? undefined,
      lastPulledAt: row.last_pulled_at === null ? 0 : Number(row.last_pulled_at),
      lastPushedAt: row.last_pushed_at === null ? 0 : Number(row.last_pushed_at),
      existing: tables.map((_, i) => {
        const m = new Map<string, ServerRow>();
        for (const x of (row[`r${i}`] as ServerRow[] | null) ?? []) m.set(x.id, x);
        return m;
      }),
    };
  }

  /** A reset device must re-sync; a retried push returns its stored first response; a stale one gets 409. */
  private replayOrStale(actor: Actor, args: PushArgs, read: UnderLock): PushResult | undefined {
    // Its lastPulledAt belongs to the state the operator threw away: conflicts cannot be judged.
    if (read.reset) throw this.resyncRequired(actor.deviceId, 'push');
    if (read.response) return { response: read.response, replayed: true, tables: [] };
    const devLast = read.lastPulledAt;
    if (args.lastPulledAt < devLast) {
      throw new SyncApiError('SYNC_ERR_STALE_PULL', [
        `lastPulledAt ${args.lastPulledAt} is older than this device's last pull (${devLast}); pull first, then push again.`,
      ]);
    }
    // Conflicts are detected against lastPulledAt, so one from the future would let a stale push
    // overwrite every newer row. It must be a timestamp this server gave this device: its latest
    // pull's, or a push response's (both stamps of this user, never ahead of the user's clock).
    const handedOut = Math.max(devLast, read.lastPushedAt);
    if (args.lastPulledAt > handedOut) {
      throw new SyncApiError('SYNC_ERR_FUTURE_PULL', [
        `lastPulledAt ${args.lastPulledAt} is newer than any timestamp this server has given device "${actor.deviceId}" (latest ${handedOut}); send the timestamp of the last pull (pull first, then push again).`,
      ]);
    }
    return undefined;
  }

  /** One table's changes against the server's rows: the rows to write (conflicts go to `conflicts`). */
  private resolveTable(
    args: PushArgs,
    t: TableName,
    existing: Map<string, ServerRow>,
    conflicts: ConflictRecord[],
  ): Record<string, Value | boolean>[] {
    const tc = args.changes[t];
    if (!tc) return [];
    const cols = ALL_COLS[t];
    const clientCols = columnNames(t, args.version);
    const writes: Record<string, Value | boolean>[] = [];
    const serverRecord = (row: ServerRow): SyncRecord => toRecord(t, row, CURRENT_SCHEMA_VERSION);
    const fresh = (rec: SyncRecord) => {
      const row: Record<string, Value | boolean> = { id: rec.id, [DELETED_COL]: false };
      for (const col of cols) row[col] = null;
      for (const col of clientCols) if (Object.hasOwn(rec, col)) row[col] = rec[col] ?? null;
      return row;
    };
    const overlay = (base: SyncRecord, rec: SyncRecord) => {
      const row: Record<string, Value | boolean> = { ...base, [DELETED_COL]: false };
      for (const col of clientCols) if (Object.hasOwn(rec, col)) row[col] = rec[col] ?? null;
      return row;
    };
    const report = (conflict: Omit<ConflictRecord, 'tableName'>) => {
      conflicts.push({
        tableName: t,
        id: conflict.id,
        clientRecord: conflict.clientRecord,
        serverRecord: restrict(t, conflict.serverRecord, args.version),
        resolution: conflict.resolution,
        resolvedRecord: restrict(t, conflict.resolvedRecord, args.version),
      });
    };

    const update = (rec: SyncRecord, cur: ServerRow) => {
      const srv = serverRecord(cur);
      if (cur._stamp > args.lastPulledAt && !this.broken('skip-stale-check')) {
        // Changed by someone else since this device last pulled: the table's strategy decides.
        const resolved = resolveConflict(t, rec, srv, args.version);
        writes.push({ ...resolved.record, [DELETED_COL]: false });
        report({
          id: rec.id,
          clientRecord: rec,
          serverRecord: srv,
          resolution: resolved.resolution,
          resolvedRecord: resolved.record,
        });
      } else {
        writes.push(overlay(srv, rec));
      }
    };

    for (const rec of tc.created) {
      const cur = existing.get(rec.id);
      if (!cur || cur._deleted) writes.push(fresh(rec));
      else update(rec, cur); // created for a live id = update
    }
    for (const rec of tc.updated) {
      const cur = existing.get(rec.id);
      if (!cur) {
        writes.push(fresh(rec)); // an update the server never saw created: accept it as a create
      } else if (cur._deleted) {
        if (this.broken('resurrect-on-update')) {
          writes.push(overlay(serverRecord(cur), rec));
          continue;
        }
        // Deletes win; a stale edit never resurrects a row. Report it; when the device had already
        // pulled the delete, re-stamp the tombstone so it receives the delete again.
        const tomb: SyncRecord = { ...serverRecord(cur), _status: 'deleted' };
        report({ id: rec.id, clientRecord: rec, serverRecord: tomb, resolution: 'server_wins', resolvedRecord: tomb });
        if (cur._stamp <= args.lastPulledAt) writes.push({ ...serverRecord(cur), [DELETED_COL]: true });
      } else {
        update(rec, cur);
      }
    }
    for (const id of tc.deleted) {
      const cur = existing.get(id);
      if (cur && !cur._deleted) writes.push({ ...serverRecord(cur), [DELETED_COL]: true });
      // unknown or already deleted: no-op
    }
    return writes;
  }

  /**
   * Everything a push writes, in one statement: each table's upsert, the user's stamp, the device's
   * sync state, the stored response (replays), the sync_log rows and the poke (sent on commit).
   */
  private async writePush(c: pg.PoolClient, ...a: Parameters<SyncStore['writeQuery']>): Promise<void> {
    await c.query(this.writeQuery(...a));
  }

  /** The write statement and its values (see writePush). */
  private writeQuery(
    actor: Actor,
    args: PushArgs,
    pushKey: string | undefined,
    response: PushResponse,
    tables: TableName[],
    writes: Record<string, Value | boolean>[][],
    newStamp: number | undefined,
    started: number,
  ): { name: string; text: string; values: unknown[] } {
    const recordCount = tables.reduce((n, t) => {
      const tc = args.changes[t]!;
      return n + tc.created.length + tc.updated.length + tc.deleted.length;
    }, 0);
    const logRows = [
      {
        user_id: actor.userId,
        device_id: actor.deviceId,
        operation: 'PUSH',
        table_name: tables.join(','),
        record_count: recordCount,
        duration_ms: Math.round(performance.now() - started),
        success: true,
        trace_id: actor.traceId ?? null,
      },
      ...(this.broken('drop-conflicts-from-log') ? [] : response.conflictedRecords).map((cr) => ({
        user_id: actor.userId,
        device_id: actor.deviceId,
        operation: 'CONFLICT_RESOLVED',
        table_name: cr.tableName,
        record_count: 1,
        duration_ms: 0,
        success: true,
        error: `${cr.resolution}:${cr.id}`,
        trace_id: actor.traceId ?? null,
      })),
    ];
    const poke = newStamp
      ? JSON.stringify({ u: actor.userId, tables, timestamp: newStamp, sourceDeviceId: actor.deviceId })
      : null;
    const written = tables.filter((_, i) => writes[i]!.length > 0);
    const st = writeStatement(written);
    return {
      name: st.name,
      text: st.text,
      values: [
        actor.userId,
        actor.deviceId,
        newStamp ?? null,
        actor.platform,
        response.timestamp,
        args.version,
        pushKey ?? null,
        JSON.stringify(response),
        JSON.stringify(logRows),
        poke,
        ...writes.filter((w) => w.length > 0).map((w) => JSON.stringify(w)),
      ],
    };
  }

  /** Broken mode split-push-transactions: one transaction per table, then a crash midway. */
  private async pushSplit(
    actor: Actor,
    args: PushArgs,
    pushKey: string,
    tables: TableName[],
    started: number,
  ): Promise<PushResult> {
    const conflicts: ConflictRecord[] = [];
    let i = 0;
    let last = 0;
    for (const t of tables) {
      const tc = args.rawChanges ? args.validateTable?.(t, args.rawChanges[t]) : undefined;
      const tableArgs: PushArgs = tc ? { ...args, changes: { ...args.changes, [t]: tc } } : args;
      last = await withTransaction(this.pool, 'BEGIN', async (c) => {
        const prev = await this.lockUser(c, actor.userId);
        const read = await this.readUnderLock(c, actor, tableArgs, pushKey, [t]);
        if (i === 0) {
          const replay = this.replayOrStale(actor, args, read);
          if (replay) throw Object.assign(new Error('replay'), { replay });
        }
        const stamp = Math.max(prev + 1, this.now());
        const writes = this.resolveTable(tableArgs, t, read.existing[0]!, conflicts);
        const response: PushResponse = { success: true, conflictedRecords: conflicts, timestamp: stamp };
        const newStamp = writes.length > 0 ? stamp : undefined;
        await this.writePush(c, actor, tableArgs, undefined, response, [t], [writes], newStamp, started);
        return stamp;
      }).catch((e) => {
        if (e?.replay) return -1;
        throw e;
      });
      if (last === -1) break;
      i++;
      if (i < tables.length) {
        throw new SyncApiError('SYNC_ERR_INTERNAL', [
          `broken mode split-push-transactions: simulated crash after table ${t} (${i}/${tables.length} tables committed)`,
        ]);
      }
    }
    return { response: { success: true, conflictedRecords: conflicts, timestamp: last }, replayed: false, tables };
  }
}

export interface PushArgs {
  changes: DatabaseChanges;
  lastPulledAt: number;
  version: SchemaVersion;
  pushId?: string;
  /** split-push-transactions only: the unvalidated changes, validated table by table. */
  rawChanges?: Record<string, unknown>;
  validateTable?: (t: TableName, raw: unknown) => TableChanges;
}

export interface PushResult {
  response: PushResponse;
  replayed: boolean;
  /** Tables that changed (for the poke); empty for a replay or a no-op push. */
  tables: TableName[];
}
