/**
 * The web sync engine, shared by the pages and the service worker. It speaks sync-contract.md with
 * the isomorphic SyncHttpClient and resolves conflicts with protocol/conflicts.ts (never a copy).
 *
 * Invariants:
 *  - Every sync runs under the Web Lock 'sync' (tabs and the service worker alike), and reads the
 *    outbox inside it: one device never has two pushes of different local state in flight.
 *  - A push is stored as `pendingPush` (with its pushId) before it is sent. A push whose outcome is
 *    unknown (tab killed, connection cut) is resent with the same pushId by whoever syncs next,
 *    before pulling, so the server recognises it instead of applying it twice. A push of several
 *    batches resumes at its first batch not acknowledged (`pushProgress`, stored with each ack).
 */

import { recordsEqual, resolutionIsNoop, resolveConflict } from '../../../protocol/conflicts';
import { blankSyncOutcome, type SyncOutcome, type SyncTrigger } from '../../../protocol/device';
import type { ConflictRecord, DatabaseChanges, SyncRecord, TableRecords } from '../../../protocol/records';
import { columnsFor, type SchemaVersion, TABLE_NAMES, type TableName } from '../../../protocol/tables';
import { batchPushId, splitChanges } from '../../common/push-batches';
import { noteRetry, type SyncHttpClient, SyncHttpError, withBackoff } from '../../common/sync-http';
import {
  checkValues,
  getMeta,
  type HarnessDb,
  type LocalRow,
  type PendingPush,
  type PushProgress,
  setMeta,
  toWire,
} from './db';

export interface AppConfig {
  deviceId: string;
  userId: string;
  schemaVersion: SchemaVersion;
  /** Run time scale: RFC backoff waits are divided by it. */
  timeScale: number;
  /** Attempts per step (pull, push) with RFC backoff before the sync reports failure. */
  maxAttempts: number;
  /** Automatic triggers of the leader tab: app launch, reconnect, pokes, periodic background. */
  autoTriggers: boolean;
  /** Leader's periodic background sync interval in simulated ms (0 = off). */
  backgroundIntervalMs: number;
  /** Sync after each UI write (user action trigger). The harness API never auto-syncs its writes. */
  syncOnUserAction: boolean;
  /** Register a Background Sync after each local write (the service worker delivers the outbox). */
  backgroundSyncOnWrite: boolean;
  requestTimeoutMs: number;
  /** Split a push into contract pushes of at most this many bytes (default: under the 10 MB body limit). */
  pushBatchBytes?: number;
}

export type WriteOp =
  | { op: 'create' | 'update'; table: TableName; id: string; values: Record<string, string | number | null> }
  | { op: 'delete'; table: TableName; id: string };

export interface SyncStatusMeta {
  lastSyncAt: number | null;
  lastOk: boolean | null;
  lastError: string | null;
  lastTrigger: SyncTrigger | null;
  syncing: boolean;
  by: string | null;
}

const key = (t: string, id: string) => `${t}/${id}`;

/** Wire shape of a local row: only the synced columns the row actually has (a partial update stays partial). */
export function wireOf(table: TableName, row: SyncRecord, version: SchemaVersion): SyncRecord {
  const out: SyncRecord = { id: row.id };
  for (const c of columnsFor(table, version)) if (Object.hasOwn(row, c.name)) out[c.name] = row[c.name] ?? null;
  return out;
}

const dirty = (r: LocalRow) => r._status !== 'synced';

export async function localWrite(db: HarnessDb, cfg: AppConfig, op: WriteOp, clockOffsetMs = 0): Promise<void> {
  const table = db[op.table];
  if (!table) throw new Error(`unknown table "${op.table}"`);
  await db.transaction('rw', table, async () => {
    const existing = await table.get(op.id);
    const rev = (existing?._rev ?? 0) + 1;
    const base = existing?._base ?? null;
    if (op.op === 'delete') {
      await table.put({ id: op.id, _status: 'deleted', _rev: rev, _base: base });
      return;
    }
    checkValues(op.table, op.values, cfg.schemaVersion);
    const values = { ...op.values };
    if (!Object.hasOwn(values, 'updated_at') && columnsFor(op.table).some((c) => c.name === 'updated_at')) {
      values.updated_at = Date.now() + clockOffsetMs;
    }
    // Like WatermelonDB's find(): an update needs a live local row. Writing one for a row that a pull
    // (or this device) deleted would push an update the server must discard (deletes win), so the
    // device would acknowledge a write that can never land (found by lost-writes in web-phone-convergence).
    if (op.op === 'update' && (!existing || existing._status === 'deleted')) {
      throw new Error(`${op.table}/${op.id} not found (deleted or never synced to this device)`);
    }
    const status =
      op.op === 'create' && (!existing || existing._status === 'deleted' || existing._status === 'created')
        ? 'created'
        : existing?._status === 'created'
          ? 'created'
          : 'updated';
    const prior = existing && existing._status !== 'deleted' ? existing : { id: op.id };
    await table.put({ ...prior, ...values, id: op.id, _status: status, _rev: rev, _base: base });
  });
}

export async function pendingCount(db: HarnessDb): Promise<number> {
  let n = 0;
  for (const t of TABLE_NAMES) n += await db[t].where('_status').anyOf('created', 'updated', 'deleted').count();
  return n;
}

/** Every row with every column of the client's version (a column never written reads as null). */
export async function snapshot(db: HarnessDb, version: SchemaVersion): Promise<TableRecords> {
  const out = {} as TableRecords;
  for (const t of TABLE_NAMES) {
    const rows = await db[t].toArray();
    out[t] = rows
      .filter((r) => r._status !== 'deleted')
      .map((r) => toWire(t, r, version))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }
  return out;
}

function buildPush(rowsByTable: Map<TableName, LocalRow[]>, version: SchemaVersion) {
  const changes: PendingPush['changes'] = {};
  const revs: Record<string, number> = {};
  let count = 0;
  for (const [t, rows] of rowsByTable) {
    if (!rows.length) continue;
    const tc = { created: [] as SyncRecord[], updated: [] as SyncRecord[], deleted: [] as string[] };
    for (const r of rows) {
      revs[key(t, r.id)] = r._rev;
      count++;
      if (r._status === 'deleted') tc.deleted.push(r.id);
      else if (r._status === 'created') tc.created.push(wireOf(t, r, version));
      else tc.updated.push(wireOf(t, r, version));
    }
    changes[t] = tc;
  }
  return { changes, revs, count };
}

export class SyncEngine {
  constructor(
    readonly db: HarnessDb,
    readonly cfg: AppConfig,
    readonly http: SyncHttpClient,
    /** Who runs the sync, for the status badge and the logs ('tab-…' or 'sw'). */
    readonly actor: string,
  ) {}

  private sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms / Math.max(1e-6, this.cfg.timeScale)));

  /**
   * Runs one sync under the device-wide Web Lock. `origin` 'harness' marks the syncs the harness
   * driver asked for (it meters those itself, with the page's CPU time); the app's own (triggers,
   * the service worker's background sync) are 'app'.
   */
  sync(trigger: SyncTrigger, origin: 'app' | 'harness' = 'app'): Promise<SyncOutcome> {
    return navigator.locks.request('sync', async () => {
      const out = await this.syncLocked(trigger);
      // The leader tab's upload queue completes files whose record has just reached the server.
      if (out.ok) {
        const bc = new BroadcastChannel('sync-harness');
        bc.postMessage({ type: 'synced', actor: this.actor });
        bc.close();
      }
      // Every sync the app runs reaches the harness's energy meter, the ones it starts itself included
      // (same-origin control plane; nobody listens outside the harness).
      void fetch('/harness/event', {
        method: 'POST',
        body: JSON.stringify({
          type: 'sync-meter',
          origin,
          actor: this.actor,
          trigger,
          ok: out.ok,
          durationMs: out.durationMs,
          bytesUp: out.bytesUp,
          bytesDown: out.bytesDown,
        }),
      }).catch(() => {});
      return out;
    }) as unknown as Promise<SyncOutcome>;
  }

  private async setStatus(patch: Partial<SyncStatusMeta>) {
    const cur = (await getMeta<SyncStatusMeta>(this.db, 'status')) ?? {
      lastSyncAt: null,
      lastOk: null,
      lastError: null,
      lastTrigger: null,
      syncing: false,
      by: null,
    };
    await setMeta(this.db, 'status', { ...cur, ...patch });
  }

  private async syncLocked(trigger: SyncTrigger): Promise<SyncOutcome> {
    const started = performance.now();
    const out: SyncOutcome = blankSyncOutcome(trigger);
    const refreshesBefore = tokenRefreshes;
    await this.setStatus({ syncing: true, by: this.actor, lastTrigger: trigger });
    try {
      try {
        await this.syncOnce(out);
      } catch (e) {
        // 410: the operator reset this device (RFC §3.4). Forget the stamp and the pending push,
        // keep the outbox (dirty rows), and sync again: a full pull from 0, then the push.
        if (!(e instanceof SyncHttpError && e.code === 'SYNC_ERR_RESYNC_REQUIRED')) throw e;
        await setMeta(this.db, 'lastPulledAt', 0);
        await setMeta(this.db, 'pendingPush', null);
        out.fullResync = true;
        await this.syncOnce(out);
      }
      out.ok = true;
      out.lastPulledAt = await getMeta<number>(this.db, 'lastPulledAt');
      await this.setStatus({ syncing: false, lastSyncAt: Date.now(), lastOk: true, lastError: null });
    } catch (e) {
      out.ok = false;
      out.error = e instanceof Error ? e.message : String(e);
      if (e instanceof SyncHttpError && e.kind === 'indeterminate') out.indeterminate = true;
      await this.setStatus({ syncing: false, lastOk: false, lastError: out.error }).catch(() => {});
    }
    out.durationMs = Math.round(performance.now() - started);
    if (tokenRefreshes > refreshesBefore) out.tokenRefreshes = tokenRefreshes - refreshesBefore;
    return out;
  }

  private async syncOnce(out: SyncOutcome) {
    // 1. A push of unknown outcome goes first, unchanged (same pushId, same lastPulledAt).
    const pending = await getMeta<PendingPush>(this.db, 'pendingPush');
    if (pending) await this.sendPush(pending, out);
    // 2. Pull, then push what is in the outbox; a 409 (someone pushed in between) means pull again.
    for (let round = 0; ; round++) {
      await this.pull(out);
      const push = await this.preparePush();
      if (!push) break;
      try {
        await this.sendPush(push, out);
        break;
      } catch (e) {
        if (e instanceof SyncHttpError && e.status === 409 && round < 3) continue;
        throw e;
      }
    }
  }

  private async pull(out: SyncOutcome) {
    const lastPulledAt = (await getMeta<number>(this.db, 'lastPulledAt')) ?? 0;
    const { value, attempts } = await withBackoff(() => this.http.pull(lastPulledAt || null), {
      sleep: this.sleep,
      maxAttempts: this.cfg.maxAttempts,
      onRetry: (n, err, wait) => {
        noteRetry(out, n, err, wait);
        console.warn(`[${this.actor}] pull attempt ${n} failed: ${(err as Error).message}`);
      },
    });
    out.attempts += attempts;
    out.bytesUp += value.bytesUp;
    out.bytesDown += value.bytesDown;
    out.pulled += await this.applyPull(value.body.changes, value.body.timestamp);
  }

  /** Applies a pull in one transaction together with the new lastPulledAt (all or nothing). */
  private async applyPull(changes: DatabaseChanges, timestamp: number): Promise<number> {
    const v = this.cfg.schemaVersion;
    let n = 0;
    await this.db.transaction('rw', [this.db.meta, ...TABLE_NAMES.map((t) => this.db[t])], async () => {
      for (const [t, tc] of Object.entries(changes) as Array<[TableName, NonNullable<DatabaseChanges[TableName]>]>) {
        const table = this.db[t];
        if (!table || !tc) continue;
        for (const server of [...(tc.created ?? []), ...(tc.updated ?? [])]) {
          n++;
          const local = await table.get(server.id);
          const base = JSON.stringify(server);
          if (!local || local._status === 'synced') {
            await table.put({ ...server, _status: 'synced', _rev: local?._rev ?? 0, _base: base });
          } else if (local._status === 'deleted') {
            // Our delete is pending: it will be pushed and wins over this edit on the server too.
            await table.put({ ...local, _base: base });
          } else if (local._base !== null && recordsEqual(JSON.parse(local._base), server)) {
            // An echo of what we pushed earlier: nothing concurrent happened, keep the local edits.
          } else {
            // A concurrent change meets unpushed local edits: the table's strategy, as on the server.
            const { record } = resolveConflict(t, wireOf(t, local, v), server, v);
            const settled = resolutionIsNoop(server, record);
            await table.put({ ...record, _status: settled ? 'synced' : 'updated', _rev: local._rev + 1, _base: base });
          }
        }
        for (const id of tc.deleted ?? []) {
          n++;
          const local = await table.get(id);
          // Remote deletes win over edits (contract); only an explicit local create survives them.
          if (local && local._status !== 'created') await table.delete(id);
        }
      }
      await setMeta(this.db, 'lastPulledAt', timestamp);
    });
    return n;
  }

  /** Reads the outbox inside the lock and stores the push (with a fresh pushId) before it is sent. */
  private async preparePush(): Promise<PendingPush | null> {
    const lastPulledAt = (await getMeta<number>(this.db, 'lastPulledAt')) ?? 0;
    const rows = new Map<TableName, LocalRow[]>();
    await this.db.transaction('rw', [this.db.meta, ...TABLE_NAMES.map((t) => this.db[t])], async () => {
      for (const t of TABLE_NAMES) rows.set(t, (await this.db[t].toArray()).filter(dirty));
    });
    const { changes, revs, count } = buildPush(rows, this.cfg.schemaVersion);
    if (!count) return null;
    const pending: PendingPush = { pushId: crypto.randomUUID(), lastPulledAt, changes, revs, createdAt: Date.now() };
    await setMeta(this.db, 'pendingPush', pending);
    return pending;
  }

  /**
   * Sends the stored push. Over the server's body limit it goes as several contract pushes with the
   * same lastPulledAt (common/push-batches.ts, as the phone and the VU do); each batch is acknowledged
   * as it lands, together with `pushProgress`. A resend of the stored push splits it the same way and
   * starts after the batches already acknowledged (before, it started at batch 1: the server replayed
   * those by pushId, but their bytes went up again); a batch sent whose answer was lost is resent
   * with its own pushId, so the server replays it instead of applying it twice.
   */
  private async sendPush(p: PendingPush, out: SyncOutcome) {
    const batches = splitChanges(p.changes as DatabaseChanges, this.cfg.pushBatchBytes);
    const progress = await getMeta<PushProgress | null>(this.db, 'pushProgress');
    // A different split (the batch size changed with the config) has other pushIds: start over.
    const from = progress?.pushId === p.pushId && progress.batches === batches.length ? progress.acked : 0;
    out.pushBatches = (out.pushBatches ?? 0) + batches.length - from;
    for (let i = from; i < batches.length; i++) await this.sendBatch(p, batches[i]!, i, batches.length, out);
  }

  private async sendBatch(p: PendingPush, changes: DatabaseChanges, i: number, n: number, out: SyncOutcome) {
    const pushId = batchPushId(p.pushId, i, n)!;
    let value: Awaited<ReturnType<SyncHttpClient['push']>>;
    try {
      const r = await withBackoff(
        () =>
          this.http.push({
            changes,
            lastPulledAt: p.lastPulledAt,
            deviceId: this.cfg.deviceId,
            pushId,
          }),
        {
          sleep: this.sleep,
          maxAttempts: this.cfg.maxAttempts,
          onRetry: (n, err, wait) => {
            noteRetry(out, n, err, wait);
            console.warn(`[${this.actor}] push attempt ${n} failed: ${(err as Error).message}`);
          },
        },
      );
      out.attempts += r.attempts;
      value = r.value;
    } catch (e) {
      // 4xx other than 409 will never succeed unchanged: drop the push (the rows stay in the outbox).
      if (e instanceof SyncHttpError && e.kind === 'http' && !e.retryable) await setMeta(this.db, 'pendingPush', null);
      // 409 = the server never applied it (a stale lastPulledAt): rebuild after a fresh pull.
      if (e instanceof SyncHttpError && e.status === 409) await setMeta(this.db, 'pendingPush', null);
      throw e;
    }
    out.bytesUp += value.bytesUp;
    out.bytesDown += value.bytesDown;
    for (const tc of Object.values(changes))
      if (tc) out.pushed += tc.created.length + tc.updated.length + tc.deleted.length;
    out.conflicts.push(...(value.body.conflictedRecords ?? []));
    await this.ackPush(p, changes, value.body.conflictedRecords ?? [], i, n);
  }

  /**
   * Clears exactly the rows batch `i` of `n` carried, unless they were edited again since, and records
   * the batch as acknowledged in the same transaction; after the last batch the stored push goes.
   */
  private async ackPush(p: PendingPush, changes: DatabaseChanges, conflicts: ConflictRecord[], i: number, n: number) {
    const resolved = new Map(conflicts.map((c) => [key(c.tableName, c.id), c.resolvedRecord]));
    await this.db.transaction('rw', [this.db.meta, ...TABLE_NAMES.map((t) => this.db[t])], async () => {
      for (const [t, tc] of Object.entries(changes) as Array<[TableName, PendingPush['changes'][string]]>) {
        if (!tc) continue;
        const table = this.db[t];
        for (const id of tc.deleted) {
          const local = await table.get(id);
          if (local && local._rev === p.revs[key(t, id)]) await table.delete(id);
        }
        for (const rec of [...tc.created, ...tc.updated]) {
          const local = await table.get(rec.id);
          if (!local) continue;
          const r = resolved.get(key(t, rec.id));
          const prevBase = local._base ? (JSON.parse(local._base) as SyncRecord) : {};
          const serverNow = r ?? { ...prevBase, ...rec };
          if (local._rev === p.revs[key(t, rec.id)]) {
            await table.put({
              ...serverNow,
              id: rec.id,
              _status: 'synced',
              _rev: local._rev,
              _base: JSON.stringify(serverNow),
            });
          } else {
            await table.put({ ...local, _base: JSON.stringify(serverNow) });
          }
        }
      }
      if (i === n - 1) {
        await setMeta(this.db, 'pendingPush', null);
        await setMeta(this.db, 'pushProgress', null);
      } else {
        await setMeta(this.db, 'pushProgress', { pushId: p.pushId, batches: n, acked: i + 1 } satisfies PushProgress);
      }
    });
  }
}

/**
 * Fetches a token from the harness app server (same origin); the harness owns the JWTs. After a 401
 * (expired mid-sync) SyncHttpClient asks with `refresh`: the app server then gets a new one instead of
 * its cached token, which the server may already refuse (before, the page got the same expired token
 * back on every attempt and the sync gave up after its retries).
 */
export async function fetchToken(o?: { refresh?: boolean }): Promise<string> {
  const res = await fetch(o?.refresh ? '/harness/token?refresh=1' : '/harness/token', { cache: 'no-store' });
  if (!res.ok) throw new SyncHttpError('network', `token endpoint answered ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

export async function loadConfig(db: HarnessDb): Promise<AppConfig> {
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    if (res.ok) {
      const cfg = (await res.json()) as AppConfig;
      await setMeta(db, 'config', cfg);
      return cfg;
    }
  } catch {
    /* offline: use the stored copy */
  }
  const stored = await getMeta<AppConfig>(db, 'config');
  if (!stored) throw new Error('no app configuration (first launch must be online)');
  return stored;
}

// Token refreshes of this page (or service worker), counted into the outcome of the sync they happened in.
let tokenRefreshes = 0;
/** SyncHttpClient's onTokenRefresh for the web app. */
export function countTokenRefresh(): void {
  tokenRefreshes++;
}
