/**
 * The in-memory sync store both target servers share: per-user stamps, pulls, pushes with the per-table
 * conflict rules, idempotent re-sends, and the bug variants. It knows nothing of the wire; stamps are in the
 * unit the server was built with (ms or s).
 *
 * Every operation on the store is synchronous, so a pull's snapshot and a push's commit are atomic by
 * construction (JavaScript runs one of them at a time); that is the "per-user lock" of the contract.
 */
import { createHash } from 'node:crypto';
import type { BugName } from './bugs';
import { SyncError } from './errors';
import { type Resolution, type Row, resolveConflict, type SchemaVersion, TABLES, viewFor } from './tables';
import type { Changes } from './validate';

/**
 * How stamps relate to the clock.
 * - `increment` (ms): every write gets max(previous + 1, now); a pull answers max(last stamp, now - 1). A write
 *   after the pull gets at least max(last + 1, now) > the answer.
 * - `settle` (s): a second is too coarse to give each write its own stamp without running ahead of the clock, so
 *   a write gets the current second (several writes may share it) and a pull answers only a second that is over:
 *   now - 1. When the user wrote during the current second, the pull first waits for that second to end, so
 *   every write acknowledged before the pull is in it. Rows stamped after the answer are left for the next pull.
 */
export type StampMode = 'increment' | 'settle';

export interface EngineOptions {
  bug: BugName;
  mode: StampMode;
  /** Stamp units per second: 1000 for ms, 1 for s. */
  perSecond: number;
}

interface Entry {
  /** null: a tombstone. */
  row: Row | null;
  stamp: number;
}

interface DeviceState {
  lastPulledAt: number | null;
  schemaVersion: SchemaVersion;
}

export interface ConflictRecord {
  tableName: string;
  id: string;
  clientRecord: Row;
  /** null when the server row was deleted. */
  serverRecord: Row | null;
  resolution: Resolution;
  /** null when the pushed update was discarded because the row was deleted. */
  resolvedRecord: Row | null;
}

export interface PushResult {
  conflicts: ConflictRecord[];
  timestamp: number;
}

export interface PullResult {
  changes: Changes;
  timestamp: number;
}

interface UserState {
  lastStamp: number;
  tables: Map<string, Map<string, Entry>>;
  devices: Map<string, DeviceState>;
  replies: Map<string, PushResult>;
}

/** Re-sent pushes remembered per user; old ones are forgotten first. */
const REPLY_CACHE = 10_000;

export const STALE_TIMESTAMP_LEAD_S = 5;

export class Engine {
  private readonly users = new Map<string, UserState>();
  private readonly owners = new Map<string, string>();
  private lastMs = 0;
  readonly counters = { pulls: 0, pushes: 0, conflicts: 0, errors: 0 };

  constructor(private readonly opts: EngineOptions) {}

  /** Binds a device to a user on first sight; another user's device is refused. */
  claimDevice(userId: string, deviceId: string): void {
    const owner = this.owners.get(deviceId);
    if (owner === undefined) this.owners.set(deviceId, userId);
    else if (owner !== userId) {
      throw new SyncError(
        403,
        'FORBIDDEN',
        `device "${deviceId}" belongs to another user; use a device id of your own`,
      );
    }
  }

  /** The schema version the device last pulled with (2 before its first pull). */
  schemaOf(userId: string, deviceId: string): SchemaVersion {
    return this.users.get(userId)?.devices.get(deviceId)?.schemaVersion ?? 2;
  }

  async pull(req: {
    userId: string;
    deviceId: string;
    lastPulledAt: number;
    schemaVersion: SchemaVersion;
    tables: readonly string[];
  }): Promise<PullResult> {
    const u = this.user(req.userId);
    const { bug, perSecond } = this.opts;
    const sources = bug === 'cross-user-leak' ? [u, ...[...this.users.values()].filter((o) => o !== u)] : [u];
    if (this.opts.mode === 'settle') {
      // Wait until the second of the last write acknowledged before this pull is over. Writes made during the
      // wait are stamped after the answer and left for the next pull, so a busy user cannot starve a pull.
      const lastBefore = Math.max(...sources.map((o) => o.lastStamp));
      while (lastBefore >= this.now()) await sleepMs(this.msUntilNextUnit());
    }
    let timestamp = this.opts.mode === 'settle' ? this.now() - 1 : Math.max(u.lastStamp, this.now() - 1);
    if (bug === 'stale-timestamp') timestamp += STALE_TIMESTAMP_LEAD_S * perSecond;
    const changes: Changes = {};
    for (const table of req.tables) {
      const bucket = { created: [] as Row[], updated: [] as Row[], deleted: [] as string[] };
      const seen = new Set<string>();
      for (const source of sources) {
        for (const [id, e] of source.tables.get(table) ?? []) {
          if (e.stamp <= req.lastPulledAt || e.stamp > timestamp || seen.has(id)) continue;
          seen.add(id);
          // A first pull has nothing to delete.
          if (e.row === null) {
            if (req.lastPulledAt > 0) bucket.deleted.push(id);
          } else bucket.updated.push(viewFor(table, e.row, req.schemaVersion));
        }
      }
      changes[table] = bucket;
    }
    u.devices.set(req.deviceId, { lastPulledAt: timestamp, schemaVersion: req.schemaVersion });
    this.counters.pulls++;
    return { changes, timestamp };
  }

  push(req: { userId: string; deviceId: string; lastPulledAt: number; changes: Changes; pushId?: string }): PushResult {
    const u = this.user(req.userId);
    const replyKey =
      req.pushId !== undefined
        ? `id:${req.pushId}`
        : `content:${createHash('sha256')
            .update(`${req.deviceId}\n${req.lastPulledAt}\n${JSON.stringify(req.changes)}`)
            .digest('hex')}`;
    const earlier = u.replies.get(replyKey);
    if (earlier) return earlier;

    const device = u.devices.get(req.deviceId);
    if (device?.lastPulledAt != null && req.lastPulledAt < device.lastPulledAt) {
      throw new SyncError(
        409,
        'CONFLICT',
        `lastPulledAt ${req.lastPulledAt} is older than this device's last pull (${device.lastPulledAt}); pull first, then push`,
      );
    }
    const version = device?.schemaVersion ?? 2;
    const { bug } = this.opts;
    const stamp =
      this.opts.mode === 'settle' ? Math.max(u.lastStamp, this.now()) : Math.max(u.lastStamp + 1, this.now());
    const conflicts: ConflictRecord[] = [];
    const staged: Array<[Map<string, Entry>, string, Entry]> = [];
    const commit = () => {
      for (const [rows, id, entry] of staged) rows.set(id, entry);
      if (staged.length > 0) u.lastStamp = stamp;
      staged.length = 0;
    };
    const touched = Object.keys(req.changes).filter((t) => {
      const c = req.changes[t];
      return c.created.length + c.updated.length + c.deleted.length > 0;
    });

    for (const table of touched) {
      const { created, updated, deleted } = req.changes[table];
      const rows = u.tables.get(table) ?? new Map<string, Entry>();
      u.tables.set(table, rows);
      const store = (id: string, row: Row | null) => staged.push([rows, id, { row, stamp }]);
      const insert = (rec: Row) => {
        const blank: Row = { id: rec.id };
        for (const c of Object.keys(TABLES[table].columns)) blank[c] = null;
        store(rec.id as string, { ...blank, ...rec });
      };
      const update = (rec: Row, e: Entry | undefined) => {
        if (!e) return insert(rec); // an id the server never saw: upsert
        if (e.row === null) {
          // Deletes win: a stale edit never resurrects a row. A delete the device has not seen is a conflict.
          if (e.stamp > req.lastPulledAt && bug !== 'blind-overwrite') {
            conflicts.push({
              tableName: table,
              id: rec.id as string,
              clientRecord: rec,
              serverRecord: null,
              resolution: 'server_wins',
              resolvedRecord: null,
            });
          }
          return;
        }
        if (e.stamp > req.lastPulledAt && bug !== 'blind-overwrite') {
          const { resolved, resolution } = resolveConflict(table, rec, e.row);
          store(rec.id as string, resolved);
          conflicts.push({
            tableName: table,
            id: rec.id as string,
            clientRecord: rec,
            serverRecord: viewFor(table, e.row, version),
            resolution,
            resolvedRecord: viewFor(table, resolved, version),
          });
          return;
        }
        store(rec.id as string, { ...e.row, ...rec });
      };
      for (const rec of created) {
        const e = rows.get(rec.id as string);
        // A created record on a live id is an update of it; on a tombstone it recreates the row.
        if (e && e.row !== null) update(rec, e);
        else insert(rec);
      }
      for (const rec of updated) update(rec, rows.get(rec.id as string));
      if (bug !== 'drop-deletes') {
        for (const id of deleted) if (rows.get(id)?.row) store(id, null);
      }
      if (bug === 'half-applied-500' && touched.length >= 2) {
        commit();
        this.counters.errors++;
        throw new SyncError(500, 'INTERNAL_SERVER_ERROR', `internal error after writing table ${table}`);
      }
    }
    commit();
    const result: PushResult = { conflicts, timestamp: u.lastStamp };
    u.replies.set(replyKey, result);
    if (u.replies.size > REPLY_CACHE) u.replies.delete(u.replies.keys().next().value as string);
    this.counters.pushes++;
    this.counters.conflicts += conflicts.length;
    return result;
  }

  private user(userId: string): UserState {
    let u = this.users.get(userId);
    if (!u) {
      u = { lastStamp: 0, tables: new Map(), devices: new Map(), replies: new Map() };
      this.users.set(userId, u);
    }
    return u;
  }

  /** The clock in stamp units, never going backwards even if the wall clock does. */
  private now(): number {
    this.lastMs = Math.max(this.lastMs, Date.now());
    return Math.floor((this.lastMs * this.opts.perSecond) / 1000);
  }

  private msUntilNextUnit(): number {
    const unitMs = 1000 / this.opts.perSecond;
    return Math.max(1, Math.ceil(unitMs - (Date.now() % unitMs)));
  }
}

const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));
