/**
 * The phone's worker thread: owns the WatermelonDB database and runs the real synchronize(). The
 * main thread talks to it through ./rpc; the worker asks the main thread for tokens and for sleeps on
 * the run's clock (so RFC backoff follows the time scale and any Clock implementation).
 */

import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { synchronize } from '@nozbe/watermelondb/sync';
import {
  applyRemoteChanges,
  fetchLocalChanges,
  getLastPulledAt,
  getLastPulledSchemaVersion,
  markLocalChangesAsSynced,
} from '@nozbe/watermelondb/sync/impl';
import * as loggerNs from '@nozbe/watermelondb/utils/common/logger';
import type { LocalWrite, RetryRecord, SyncTrigger } from '../../protocol/device';
import type { ConflictRecord, DatabaseChanges } from '../../protocol/records';
import { TRIGGER_PLANS } from '../../protocol/sync-triggers';
import { columnsFor, isTableName, type SchemaVersion, type TableName } from '../../protocol/tables';
import { batchPushId, splitChanges } from '../common/push-batches';
import { Rpc } from '../common/rpc';
import { noteRetry, SyncHttpClient, SyncHttpError, withBackoff } from '../common/sync-http';
import {
  applyWrite,
  applyWrites,
  cjsDefault,
  openPhoneDb,
  type PhoneAdapterKind,
  type PhoneDb,
  pendingCount,
  snapshot,
} from './db';
import { LiveHeapPeak, liveHeapBytes } from './heap-peak';
import { dataHash, type LocalConflict, makeConflictResolver } from './resolver';

export interface WorkerConfig {
  deviceId: string;
  userId: string;
  serverUrl: string;
  schemaVersion: SchemaVersion;
  dataDir: string;
  adapter: PhoneAdapterKind;
  maxAttempts: number;
  requestTimeoutMs: number;
  /** Largest push body before the push is split (default just under the server's 10 MB limit). */
  pushBatchBytes?: number;
}

/** What the worker reports for one sync; the main thread adds trigger and energy. */
export interface WorkerSyncResult {
  ok: boolean;
  durationMs: number;
  pulled: number;
  pushed: number;
  conflicts: ConflictRecord[];
  localConflicts: LocalConflict[];
  bytesUp: number;
  bytesDown: number;
  attempts: number;
  retries?: RetryRecord[];
  indeterminate?: boolean;
  error?: string;
  errorKind?: string;
  lastPulledAt?: number;
  anomalies: string[];
  peakHeapBytes: number;
  /** Contract pushes the sync's push took (more than 1 when it was split under the body limit). */
  pushBatches?: number;
  /** This worker's event-loop busy time during the sync (ms): the app's CPU time for the energy model. */
  cpuMs?: number;
  rejectedIds?: Record<string, string[]>;
  /** Tables this sync pulled and pushed: 'all' (synchronize()) or the trigger's subset (RFC §2.6). */
  scope: 'all' | TableName[];
  /** The server demanded a full re-sync (410) and this sync did one. */
  fullResync?: boolean;
  /** Requests this sync re-sent with a fresh token after a 401 (RFC §5.1). */
  tokenRefreshes?: number;
}

/** Where the phone's pulls stand: what a scenario checks after subset syncs. */
export interface PullStamps {
  /** WatermelonDB's lastPulledAt: every table is complete up to here (only full syncs move it). */
  all: number | null;
  /** Tables pulled by a subset sync since the last full sync, and how far. */
  tables: Partial<Record<TableName, number>>;
}

const PENDING_PUSH_KEY = 'harness_pending_push';
/**
 * `table:id` → the server's version of a row as this device last learned it (by pushing it, or by a
 * subset pull) since the last full pull, which will bring those rows back (see resolver.ts).
 */
const ECHO_KEY = 'harness_push_echo';
/**
 * Per-table pull stamps of subset syncs. A subset pull must not move WatermelonDB's lastPulledAt, which
 * stands for every table: the tables it did not pull would skip the rows changed meanwhile, forever.
 */
const TABLE_STAMPS_KEY = 'harness_table_pulled_at';
/** WatermelonDB's own key (sync/impl): dropping it makes synchronize() pull everything from 0. */
const WATERMELON_LAST_PULLED_AT_KEY = '__watermelon_last_pulled_at';
/** 409 means "pull first": synchronize() pulls again before pushing, no need to wait for backoff. */
const STALE_PULL_RETRIES = 3;

const port = parentPort;
if (!port) throw new Error('devices/phone/worker.ts must run in a worker thread');

// --- WatermelonDB's [🍉] logger: captured, never printed; warn/error become anomalies -------------
const anomalies: string[] = [];
{
  const logger = cjsDefault(loggerNs);
  const fmt = (m: unknown[]) =>
    m.map((x) => (x instanceof Error ? x.message : typeof x === 'string' ? x : JSON.stringify(x))).join(' ');
  logger.log = () => {};
  logger.debug = () => {};
  logger.warn = (...m: unknown[]) => anomalies.push(`[🍉 warn] ${fmt(m)}`);
  logger.error = (...m: unknown[]) => anomalies.push(`[🍉 error] ${fmt(m)}`);
}

let cfg: WorkerConfig;
let db: PhoneDb;
let http: SyncHttpClient;
let syncing = false;
/** `table:id` → dataHash of the row as our last acknowledged push left it on the server. */
let echo = new Map<string, string>();
/** 401s answered by re-sending with a fresh token, since the worker started (a sync reports its share). */
let tokenRefreshes = 0;

async function tableStamps(): Promise<PullStamps['tables']> {
  return ((await db.database.localStorage.get(TABLE_STAMPS_KEY)) as PullStamps['tables'] | undefined) ?? {};
}

async function pullStamps(): Promise<PullStamps> {
  return { all: (await getLastPulledAt(db.database)) ?? null, tables: await tableStamps() };
}

async function saveEcho(): Promise<void> {
  if (echo.size) await db.database.localStorage.set(ECHO_KEY, [...echo]);
  else await db.database.localStorage.remove(ECHO_KEY);
}

const rpc = new Rpc(port, {
  async init(config: WorkerConfig) {
    cfg = config;
    try {
      db = await openPhoneDb({ adapter: cfg.adapter, dataDir: cfg.dataDir, schemaVersion: cfg.schemaVersion });
    } catch (e) {
      throw new Error(`${(e as Error).message}${anomalies.length ? ` (${anomalies.join('; ')})` : ''}`);
    }
    http = new SyncHttpClient({
      baseUrl: cfg.serverUrl,
      deviceId: cfg.deviceId,
      schemaVersion: cfg.schemaVersion,
      getToken: (o) => rpc.call<string>('getToken', o),
      onTokenRefresh: () => {
        tokenRefreshes++;
      },
      timeoutMs: cfg.requestTimeoutMs,
    });
    echo = new Map((await db.database.localStorage.get(ECHO_KEY)) as Array<[string, string]> | undefined);
    return { lastPulledAt: (await db.database.adapter.getLocal('__watermelon_last_pulled_at')) ?? null };
  },
  write: (op: LocalWrite) => applyWrite(db, op),
  writeMany: (ops: LocalWrite[]) => applyWrites(db, ops),
  snapshot: () => snapshot(db),
  pending: () => pendingCount(db),
  memory: () => liveHeapBytes(),
  sync: (trigger: SyncTrigger) => runSync(trigger),
  pullStamps: () => pullStamps(),
  /**
   * The pause fault: the whole thread stops (no timers, no sockets read, no replies) until the main
   * thread stores 1 in `flag`, like a SIGSTOPped app process.
   */
  freeze(flag: SharedArrayBuffer) {
    rpc.emit('frozen', true);
    Atomics.wait(new Int32Array(flag), 0, 0);
  },
  async close() {
    await db?.flush();
  },
});

// Anything else printed in the worker goes to the device's log, not the runner's terminal (capturing
// the worker's stdout stream instead would keep the main process alive).
for (const k of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  console[k] = (...m: unknown[]) =>
    rpc.emit('log', `console.${k}: ${m.map((x) => (x instanceof Error ? x.message : String(x))).join(' ')}`);
}

function count(changes: DatabaseChanges): number {
  let n = 0;
  for (const tc of Object.values(changes))
    if (tc) n += (tc.created?.length ?? 0) + (tc.updated?.length ?? 0) + (tc.deleted?.length ?? 0);
  return n;
}

/** Contract violations in a pull that WatermelonDB would swallow (coerce, drop, or break on later). */
function inspectPull(changes: unknown, version: SchemaVersion, out: string[]): void {
  if (!changes || typeof changes !== 'object') return void out.push('pull: changes is not an object');
  for (const [table, tc] of Object.entries(changes as Record<string, any>)) {
    if (!isTableName(table)) {
      out.push(`pull: unknown table "${table}"`);
      continue;
    }
    if (!Array.isArray(tc?.created) || !Array.isArray(tc?.updated) || !Array.isArray(tc?.deleted)) {
      out.push(`pull: ${table} lacks created/updated/deleted arrays`);
      continue;
    }
    const types = new Map(columnsFor(table, version).map((c) => [c.name, c.type]));
    const seen = new Set<string>();
    const note = (id: string) => {
      if (seen.has(id)) out.push(`pull: ${table}#${id} appears twice in one pull`);
      seen.add(id);
    };
    if (tc.created.length)
      out.push(
        `pull: ${table} has ${tc.created.length} records in "created" (contract: non-deleted rows come in "updated")`,
      );
    for (const r of [...tc.created, ...tc.updated]) {
      note(String(r?.id));
      for (const [k, v] of Object.entries(r ?? {})) {
        if (k === 'id') continue;
        const type = types.get(k);
        if (!type) out.push(`pull: ${table}#${r.id} has column "${k}" unknown to schema v${version}`);
        else if (v !== null && typeof v !== type)
          out.push(`pull: ${table}#${r.id}.${k} is ${typeof v}, expected ${type}`);
      }
    }
    for (const id of tc.deleted) note(String(id));
  }
}

const hashOf = (v: unknown) => createHash('sha1').update(JSON.stringify(v)).digest('hex');

/** Wraps non-HTTP errors so withBackoff does not retry them (a bug does not heal by waiting). */
class Fatal extends SyncHttpError {
  constructor(readonly inner: unknown) {
    super('http', inner instanceof Error ? inner.message : String(inner), 0, 'HRN_ERR_PHONE_SYNC');
  }
}

/** The trigger's tables, or a full sync when WatermelonDB has no complete base to scope against yet. */
async function scopeOf(trigger: SyncTrigger): Promise<'all' | TableName[]> {
  const tables = TRIGGER_PLANS[trigger]?.tables ?? 'all';
  if (tables === 'all') return 'all';
  // No full sync yet, or a schema upgrade waiting to re-pull every table: only synchronize() does that.
  if ((await getLastPulledAt(db.database)) === null) return 'all';
  const pulledVersion = await getLastPulledSchemaVersion(db.database);
  if (pulledVersion !== null && pulledVersion !== cfg.schemaVersion) return 'all';
  return [...tables];
}

async function runSync(trigger: SyncTrigger): Promise<WorkerSyncResult> {
  if (syncing) throw new Error('HRN_ERR_PHONE_BUSY: a sync is already running on this phone');
  syncing = true;
  const started = performance.now();
  const elu = performance.eventLoopUtilization();
  const anomalyStart = anomalies.length;
  const refreshesBefore = tokenRefreshes;
  const pullAnomalies: string[] = [];
  const scope = await scopeOf(trigger).catch(() => 'all' as const);
  const r: WorkerSyncResult = {
    ok: false,
    durationMs: 0,
    pulled: 0,
    pushed: 0,
    conflicts: [],
    localConflicts: [],
    bytesUp: 0,
    bytesDown: 0,
    attempts: 0,
    anomalies: [],
    peakHeapBytes: 0,
    scope,
  };
  const heap = new LiveHeapPeak();
  const sampler = setInterval(() => heap.sample(), 10);
  let phase: 'pull' | 'apply' | 'push' | 'mark' = 'pull';
  // Some attempt's push went out and its answer was lost: the server may have applied it, whatever
  // the later attempts did (one failing in its pull must not make the sync read as "applied nothing").
  let pushMaybeApplied = false;
  const conflictResolver = makeConflictResolver(
    cfg.schemaVersion,
    (c) => r.localConflicts.push(c),
    (table, id, remote) => echo.get(`${table}:${id}`) === dataHash(table, remote, cfg.schemaVersion),
  );
  const database = db.database;

  const pull = async (lastPulledAt: number | null, tables?: TableName[]) => {
    phase = 'pull';
    rpc.emit('phase', 'pull');
    const t = await http.pull(lastPulledAt, tables);
    r.bytesUp += t.bytesUp;
    r.bytesDown += t.bytesDown;
    r.pulled += count(t.body.changes ?? {});
    inspectPull(t.body.changes, cfg.schemaVersion, pullAnomalies);
    heap.sample(true); // the pulled changes are all held now
    phase = 'apply';
    return t.body;
  };

  /** Pushes local changes; returns the ids the server rejected (they stay pending). */
  const push = async (changes: DatabaseChanges, lastPulledAt: number) => {
    phase = 'push';
    rpc.emit('phase', 'push');
    // Same changes as an unacknowledged earlier push (lost response, app kill) → same pushId,
    // so the server recognises the retry. Persisted, so it survives a restart.
    const hash = hashOf(changes);
    heap.sample(true); // the changes to send are all held now
    const prev = (await database.localStorage.get(PENDING_PUSH_KEY)) as { pushId: string; hash: string } | undefined;
    const pushId = prev?.hash === hash ? prev.pushId : `${cfg.deviceId}:${randomUUID()}`;
    if (prev?.pushId !== pushId) await database.localStorage.set(PENDING_PUSH_KEY, { pushId, hash });
    // Remember what the server will hold for each pushed row, so the next pull's copy of it is
    // recognised as our own echo, not a concurrent edit. Recorded before sending: a push whose
    // response is lost (indeterminate) may still have been applied.
    for (const [table, tc] of Object.entries(changes)) {
      if (!isTableName(table) || !tc) continue;
      for (const rec of [...tc.created, ...tc.updated])
        echo.set(`${table}:${rec.id}`, dataHash(table, rec, cfg.schemaVersion));
    }
    await saveEcho();
    await db.flush();
    // Over the server's body limit: several contract pushes, each with the pull's lastPulledAt (a row
    // is in one batch only, so an earlier batch never makes a later one stale). A retry splits the
    // same changes the same way, so each applied batch is replayed by its pushId, not applied twice.
    const batches = splitChanges(changes, cfg.pushBatchBytes);
    r.conflicts = [];
    let rejected: Record<string, string[]> | undefined;
    for (const [i, batch] of batches.entries()) {
      const t = await http
        .push({
          changes: batch,
          lastPulledAt,
          deviceId: cfg.deviceId,
          pushId: batchPushId(pushId, i, batches.length),
        })
        .catch((e: unknown) => {
          if (e instanceof SyncHttpError && e.kind === 'indeterminate') pushMaybeApplied = true;
          throw e;
        });
      r.bytesUp += t.bytesUp;
      r.bytesDown += t.bytesDown;
      const conflicts = t.body.conflictedRecords ?? [];
      r.conflicts.push(...conflicts);
      // Server-side conflict resolution changed some pushed rows: those come back resolved.
      if (conflicts.length) {
        for (const c of conflicts) {
          if (isTableName(c.tableName))
            echo.set(`${c.tableName}:${c.id}`, dataHash(c.tableName, c.resolvedRecord, cfg.schemaVersion));
        }
        await saveEcho();
      }
      r.lastPulledAt = t.body.timestamp ?? r.lastPulledAt;
      const rej = (t.body as any).experimentalRejectedIds as Record<string, string[]> | undefined;
      for (const [table, ids] of Object.entries(rej ?? {})) {
        rejected ??= {};
        rejected[table] = [...(rejected[table] ?? []), ...ids];
      }
    }
    r.pushed = count(changes);
    r.pushBatches = batches.length;
    phase = 'mark';
    if (rejected) r.rejectedIds = rejected;
    return rejected;
  };

  const full = async () => {
    await synchronize({
      database,
      migrationsEnabledAtVersion: 1,
      sendCreatedAsUpdated: true,
      conflictResolver,
      // The pull just applied started from the stamp every table is complete to, so it brought back
      // (or superseded) every row we knew the server's version of; subset stamps are behind it now.
      onDidPullChanges: async () => {
        echo = new Map();
        await database.localStorage.remove(TABLE_STAMPS_KEY);
      },
      // After a local schema upgrade, pull everything again so the new columns arrive (the
      // contract's pull has no migration parameter).
      pullChanges: async ({ lastPulledAt, migration }) => {
        const body = await pull(migration ? null : (lastPulledAt ?? null));
        return { changes: body.changes as any, timestamp: body.timestamp };
      },
      pushChanges: async ({ changes, lastPulledAt }) => {
        const rejected = await push(changes as DatabaseChanges, lastPulledAt);
        return rejected ? { experimentalRejectedIds: rejected } : {};
      },
    });
  };

  /**
   * A trigger's table subset (RFC §2.6) with WatermelonDB's own building blocks: pull only these
   * tables (contract `tables=`), apply, then push only these tables' changes with the subset pull's
   * timestamp (the device has seen every row of them up to it; the other tables' changes wait for a
   * sync that pulled them, or their conflicts would be judged against a stamp they never saw).
   */
  const subset = async (tables: TableName[]) => {
    const stamps = await tableStamps();
    const base = (await getLastPulledAt(database)) as number;
    const body = await pull(Math.min(...tables.map((t) => stamps[t] ?? base)), tables);
    await database.write(async () => {
      await applyRemoteChanges(body.changes as any, { db: database, sendCreatedAsUpdated: true, conflictResolver });
    }, 'harness-subset-apply');
    // The next full pull starts from `base` and brings these rows back: known versions, not conflicts.
    for (const [table, tc] of Object.entries(body.changes ?? {})) {
      if (!isTableName(table) || !tc) continue;
      for (const rec of [...tc.created, ...tc.updated])
        echo.set(`${table}:${rec.id}`, dataHash(table, rec, cfg.schemaVersion));
      for (const id of tc.deleted) echo.delete(`${table}:${id}`);
    }
    await saveEcho();
    for (const t of tables) stamps[t] = body.timestamp;
    await database.localStorage.set(TABLE_STAMPS_KEY, stamps);
    r.lastPulledAt = body.timestamp;
    const local = await fetchLocalChanges(database);
    const mine: DatabaseChanges = {};
    let n = 0;
    for (const t of tables) {
      const tc = (local.changes as DatabaseChanges)[t];
      if (!tc) continue;
      mine[t] = tc;
      n += tc.created.length + tc.updated.length + tc.deleted.length;
    }
    if (n === 0) return;
    const rejected = await push(mine, body.timestamp);
    await markLocalChangesAsSynced(database, { ...local, changes: mine as any }, rejected as any);
  };

  /**
   * 410 SYNC_ERR_RESYNC_REQUIRED (the operator reset this device, RFC §3.4): forget every sync stamp,
   * pending push id and echo, keep the local changes (their _status/_changed), and go again: the next
   * synchronize() pulls everything from 0 and pushes what is still pending.
   */
  const dropSyncMetadata = async () => {
    echo = new Map();
    await saveEcho();
    for (const k of [WATERMELON_LAST_PULLED_AT_KEY, TABLE_STAMPS_KEY, PENDING_PUSH_KEY])
      await database.localStorage.remove(k);
    await db.flush();
    r.fullResync = true;
    r.scope = 'all';
    rpc.emit('log', 'server reset our sync state (410): full re-sync, local changes kept');
  };

  let scopeNow = scope;
  try {
    const { attempts } = await withBackoff(
      async () => {
        for (let stale = 0; ; stale++) {
          try {
            return await (scopeNow === 'all' ? full() : subset(scopeNow));
          } catch (e) {
            if (e instanceof SyncHttpError && e.code === 'SYNC_ERR_RESYNC_REQUIRED' && !r.fullResync) {
              await dropSyncMetadata();
              scopeNow = 'all';
              continue;
            }
            if (e instanceof SyncHttpError && e.status === 409 && stale < STALE_PULL_RETRIES) continue;
            if (e instanceof SyncHttpError) throw e;
            throw new Fatal(e);
          }
        }
      },
      {
        sleep: (ms) => rpc.call<void>('sleep', ms),
        maxAttempts: cfg.maxAttempts,
        onRetry: (attempt, err, wait) => {
          noteRetry(r, attempt, err, wait);
          rpc.emit('log', `sync attempt ${attempt} failed (${(err as Error).message}); retrying in ${wait} ms`);
        },
      },
    );
    r.ok = true;
    r.attempts = attempts;
    await database.localStorage.remove(PENDING_PUSH_KEY);
    if (scopeNow === 'all') r.lastPulledAt = (await getLastPulledAt(database)) ?? r.lastPulledAt;
  } catch (e) {
    const err = e instanceof Fatal ? e.inner : e;
    r.attempts = (e as { attempts?: number }).attempts ?? 1;
    r.error = err instanceof Error ? err.message : String(err);
    r.errorKind = e instanceof Fatal ? 'local' : e instanceof SyncHttpError ? e.kind : 'local';
    // The push may have been applied when the connection broke after sending it, in this attempt or
    // an earlier one.
    r.indeterminate =
      pushMaybeApplied || (e instanceof SyncHttpError && e.kind === 'indeterminate' && (phase as string) === 'push');
  } finally {
    clearInterval(sampler);
    await saveEcho().catch(() => {});
    heap.sample(true);
    r.peakHeapBytes = heap.peak;
    await db.flush().catch(() => {});
    syncing = false;
  }
  r.anomalies = [...pullAnomalies, ...anomalies.slice(anomalyStart)];
  if (tokenRefreshes > refreshesBefore) r.tokenRefreshes = tokenRefreshes - refreshesBefore;
  r.durationMs = performance.now() - started;
  r.cpuMs = performance.eventLoopUtilization(elu).active;
  return r;
}
