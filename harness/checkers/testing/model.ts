/**
 * A correct, sequential model of the sync contract (server + devices) that records a history. The
 * property tests and the 1M-op benchmark use it: whatever it produces must pass every checker, and
 * mutating its final state must make a checker fail.
 *
 * Server: per-user monotonic stamp, one stamp per push transaction, conflicts when the row changed
 * after the pushing device's lastPulledAt (a device's own earlier push, e.g. one whose response was
 * lost, is not a conflict with itself), `resolveConflict` for the strategy, deletes win over
 * concurrent updates, an explicit create recreates a tombstone. Devices push their whole records
 * (WatermelonDB style) restricted to their schema version, then pull everything newer.
 */
import { resolveConflict } from '../../../protocol/conflicts';
import type { HistoryOp } from '../../../protocol/history';
import { mulberry32 } from '../../../protocol/random';
import type { ConflictRecord, SyncRecord, TableRecords, Value } from '../../../protocol/records';
import { columnNames, columnsFor, type SchemaVersion, TABLE_NAMES, type TableName } from '../../../protocol/tables';
import { History } from '../../history/recorder';
import type { CheckInput, DeviceFinalState, ServerLogRow } from '../types';

type Status = 'synced' | 'created' | 'updated' | 'deleted';
interface LocalRow {
  table: TableName;
  rec: SyncRecord;
  status: Status;
}
interface ServerRow {
  table: TableName;
  id: string;
  row: SyncRecord | null;
  stamp: number;
  lastDevice: string;
  /** Stamp of the latest change made by a device other than lastDevice (conflict detection). */
  otherStamp: number;
}
interface UserServer {
  rows: Map<string, ServerRow>;
  stamp: number;
  log: Array<{ stamp: number; key: string }>;
}
/** Ids with O(1) add, delete, membership and random pick (the workload picks targets a million times). */
class IdSet {
  readonly ids: string[] = [];
  private readonly at = new Map<string, number>();
  has(id: string): boolean {
    return this.at.has(id);
  }
  add(id: string): void {
    if (this.at.has(id)) return;
    this.at.set(id, this.ids.length);
    this.ids.push(id);
  }
  delete(id: string): void {
    const i = this.at.get(id);
    if (i === undefined) return;
    const last = this.ids.pop()!;
    if (last !== id) {
      this.ids[i] = last;
      this.at.set(last, i);
    }
    this.at.delete(id);
  }
}

interface ModelDevice {
  /** Live (not locally deleted) ids per table. */
  live: Map<TableName, IdSet>;
  id: string;
  user: string;
  version: SchemaVersion;
  local: Map<string, LocalRow>;
  pending: Set<string>;
  lastPulledAt: number;
  skew: number;
}

export type SyncOutcomeKind = 'ok' | 'fail' | 'info-applied' | 'info-lost';

const key = (table: string, id: string) => `${table}\u0001${id}`;

const colCache = new Map<string, string[]>();
/** columnNames, memoised: the model calls it for every pushed and pulled row. */
function cols(table: TableName, version: SchemaVersion = 2): string[] {
  const k = `${table}:${version}`;
  let c = colCache.get(k);
  if (!c) {
    c = columnNames(table, version);
    colCache.set(k, c);
  }
  return c;
}

function project(row: SyncRecord, version: SchemaVersion, table: TableName): SyncRecord {
  const out: SyncRecord = { id: row.id };
  for (const c of cols(table, version)) out[c] = row[c] ?? null;
  return out;
}

export class SyncModel {
  readonly history: History;
  readonly serverLog: ServerLogRow[] = [];
  private t = 0;
  private readonly users = new Map<string, UserServer>();
  readonly devices = new Map<string, ModelDevice>();
  conflicts = 0;

  /** A nemesis event for every device (the model's faults are its network's, not one device's). */
  fault(event: 'fault-start' | 'fault-stop', name: string): void {
    this.t += 1;
    this.history.event({
      process: 'nemesis',
      f: event,
      fault: { name, targets: [...this.devices.keys()], params: { label: name } },
    });
  }

  constructor(
    devices: Array<{ id: string; user: string; schemaVersion?: SchemaVersion; clockSkewMs?: number }>,
    opts: { keepHistory?: boolean; sink?: { write(op: HistoryOp): void } } = {},
  ) {
    this.history = new History({ now: () => this.t, keepInMemory: opts.keepHistory ?? true, sink: opts.sink });
    for (const d of devices) {
      this.devices.set(d.id, {
        id: d.id,
        user: d.user,
        version: d.schemaVersion ?? 2,
        local: new Map(),
        live: new Map(TABLE_NAMES.map((t) => [t, new IdSet()])),
        pending: new Set(),
        lastPulledAt: 0,
        skew: d.clockSkewMs ?? 0,
      });
      if (!this.users.has(d.user)) this.users.set(d.user, { rows: new Map(), stamp: 0, log: [] });
    }
  }

  private dev(id: string): ModelDevice {
    const d = this.devices.get(id);
    if (!d) throw new Error(`unknown model device ${id}`);
    return d;
  }

  /** Advance model time (ms). */
  advance(ms: number): void {
    this.t += ms;
  }

  /** Live ids a device currently has in a table (for choosing update/delete targets). */
  liveIds(device: string, table: TableName): readonly string[] {
    return this.dev(device).live.get(table)!.ids;
  }

  hasLive(device: string, table: TableName, id: string): boolean {
    return this.dev(device).live.get(table)!.has(id);
  }

  /**
   * A local write. `outcome: 'fail'` records a failed local write that changes nothing.
   * Returns false (recording nothing) for an update/delete of a record the device does not have.
   */
  write(
    device: string,
    kind: 'create' | 'update' | 'delete',
    table: TableName,
    id: string,
    values: Omit<SyncRecord, 'id'> = {},
    outcome: 'ok' | 'fail' = 'ok',
    latencyMs = 1,
  ): boolean {
    const d = this.dev(device);
    const k = key(table, id);
    const cur = d.local.get(k);
    if (kind !== 'create' && (!cur || cur.status === 'deleted')) return false;
    this.t += 1;
    const deviceTime = this.t + d.skew;
    const vals = kind === 'delete' ? undefined : { ...values, updated_at: deviceTime };
    const h = this.history.invoke({
      f: kind,
      device,
      user: d.user,
      table,
      id,
      ...(vals ? { values: vals } : {}),
      deviceTime,
    });
    this.t += latencyMs;
    if (outcome === 'fail') {
      h.fail({ error: 'local write failed' });
      return true;
    }
    if (kind === 'create') {
      const rec: SyncRecord = { id };
      for (const c of cols(table, d.version)) rec[c] = null;
      Object.assign(rec, vals);
      // A create over a record never pushed stays a create; over a synced one WatermelonDB would refuse,
      // so the model only creates fresh or locally absent ids.
      d.local.set(k, { table, rec, status: 'created' });
      d.live.get(table)!.add(id);
    } else if (kind === 'update' && cur) {
      Object.assign(cur.rec, vals);
      if (cur.status === 'synced') cur.status = 'updated';
    } else if (cur) {
      cur.status = 'deleted';
      d.live.get(table)!.delete(id);
    }
    d.pending.add(k);
    h.ok();
    return true;
  }

  /** Apply a push on the server (one transaction). */
  private push(d: ModelDevice): { conflicts: ConflictRecord[]; pushed: number } {
    const us = this.users.get(d.user)!;
    const stamp = Math.max(us.stamp + 1, this.t);
    us.stamp = stamp;
    const conflicts: ConflictRecord[] = [];
    let pushed = 0;
    for (const k of d.pending) {
      const l = d.local.get(k);
      if (!l) continue;
      pushed++;
      const entry = us.rows.get(k);
      const changed = (row: SyncRecord | null) => {
        if (entry) {
          if (entry.lastDevice !== d.id) entry.otherStamp = entry.stamp;
          entry.row = row;
          entry.stamp = stamp;
          entry.lastDevice = d.id;
        } else {
          us.rows.set(k, { table: l.table, id: l.rec.id, row, stamp, lastDevice: d.id, otherStamp: 0 });
        }
        us.log.push({ stamp, key: k });
      };
      // Changed by another device since this device's last pull. The device's own earlier pushes (one
      // whose response was lost, say) are not a conflict with itself; someone else's change before
      // them still is, however many of its own pushes came after.
      const otherChanged =
        entry !== undefined && (entry.lastDevice !== d.id ? entry.stamp : entry.otherStamp) > d.lastPulledAt;
      if (l.status === 'deleted') {
        if (entry?.row) changed(null);
        continue;
      }
      const client = project(l.rec, d.version, l.table);
      if (!entry || (!entry.row && l.status === 'created')) {
        const full: SyncRecord = { id: client.id };
        for (const c of cols(l.table)) full[c] = client[c] ?? null;
        changed(full);
      } else if (!entry.row) {
        // Deletes win: a stale update of a deleted row is discarded (a conflict when concurrent).
        if (otherChanged) {
          conflicts.push({
            tableName: l.table,
            id: client.id,
            clientRecord: client,
            serverRecord: { id: client.id },
            resolution: 'server_wins',
            resolvedRecord: { id: client.id },
          });
        }
      } else if (otherChanged) {
        const r = resolveConflict(l.table, client, entry.row, d.version);
        conflicts.push({
          tableName: l.table,
          id: client.id,
          clientRecord: client,
          serverRecord: { ...entry.row },
          resolution: r.resolution,
          resolvedRecord: r.record,
        });
        changed(r.record);
      } else {
        changed({ ...entry.row, ...client });
      }
    }
    this.serverLog.push({ deviceId: d.id, operation: 'PUSH', tableName: null, recordCount: pushed, success: true });
    const perTable = new Map<string, number>();
    for (const c of conflicts) perTable.set(c.tableName, (perTable.get(c.tableName) ?? 0) + 1);
    for (const [t, n] of perTable) {
      this.serverLog.push({
        deviceId: d.id,
        operation: 'CONFLICT_RESOLVED',
        tableName: t,
        recordCount: n,
        success: true,
      });
    }
    this.conflicts += conflicts.length;
    return { conflicts, pushed };
  }

  private pull(d: ModelDevice): number {
    const us = this.users.get(d.user)!;
    // First log entry with stamp > lastPulledAt.
    let lo = 0;
    let hi = us.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (us.log[mid].stamp <= d.lastPulledAt) lo = mid + 1;
      else hi = mid;
    }
    const seen = new Set<string>();
    for (let i = lo; i < us.log.length; i++) {
      const k = us.log[i].key;
      if (seen.has(k)) continue;
      seen.add(k);
      const e = us.rows.get(k)!;
      if (e.row) {
        d.local.set(k, { table: e.table, rec: project(e.row, d.version, e.table), status: 'synced' });
        d.live.get(e.table)!.add(e.id);
      } else {
        d.local.delete(k);
        d.live.get(e.table)!.delete(e.id);
      }
    }
    d.lastPulledAt = us.stamp;
    this.serverLog.push({ deviceId: d.id, operation: 'PULL', tableName: null, recordCount: seen.size, success: true });
    return seen.size;
  }

  sync(device: string, outcome: SyncOutcomeKind = 'ok', latencyMs = 2): void {
    const d = this.dev(device);
    this.t += 1;
    const h = this.history.invoke({ f: 'sync', device, user: d.user, trigger: 'manual' });
    this.t += latencyMs;
    if (outcome === 'fail') {
      h.fail({ error: 'connection refused' });
      return;
    }
    if (outcome === 'info-lost') {
      h.info({ error: 'timeout (request never reached the server)' });
      return;
    }
    const { conflicts, pushed } = d.pending.size > 0 ? this.push(d) : { conflicts: [], pushed: 0 };
    if (outcome === 'info-applied') {
      h.info({ error: 'timeout (response lost after the push committed)' });
      return;
    }
    for (const k of d.pending) {
      const l = d.local.get(k);
      if (!l) continue;
      if (l.status === 'deleted') d.local.delete(k);
      else l.status = 'synced';
    }
    d.pending.clear();
    const pulled = this.pull(d);
    h.ok({ conflicts, pushed, pulled, bytesUp: 200 + pushed * 180, bytesDown: 150 + pulled * 180 });
  }

  /** Heal: every device syncs until no device has pending changes and all have pulled everything. */
  quiesce(): void {
    for (let round = 0; round < 2; round++) for (const d of this.devices.keys()) this.sync(d, 'ok');
  }

  serverState(): Record<string, TableRecords> {
    const out: Record<string, TableRecords> = {};
    for (const [user, us] of this.users) {
      const t = Object.fromEntries(TABLE_NAMES.map((n) => [n, [] as SyncRecord[]])) as unknown as TableRecords;
      for (const e of us.rows.values()) if (e.row) t[e.table].push(e.row);
      out[user] = t;
    }
    return out;
  }

  deviceStates(): DeviceFinalState[] {
    return [...this.devices.values()].map((d) => {
      const snap = Object.fromEntries(TABLE_NAMES.map((n) => [n, [] as SyncRecord[]])) as unknown as TableRecords;
      for (const l of d.local.values()) if (l.status !== 'deleted') snap[l.table].push(l.rec);
      return { id: d.id, user: d.user, schemaVersion: d.version, snapshot: snap, pendingChanges: d.pending.size };
    });
  }

  checkInput(): CheckInput {
    return {
      history: this.history.ops,
      serverState: this.serverState(),
      devices: this.deviceStates(),
      serverLog: this.serverLog,
    };
  }
}

/** Small deterministic PRNG (mulberry32) so a seed reproduces a whole generated history. */
export function prng(seed: number): () => number {
  return mulberry32(seed);
}

export interface WorkloadOptions {
  users: number;
  devicesPerUser: number;
  /** Logical operations (each is two history entries). */
  operations: number;
  seed: number;
  /** Probability an operation is a sync. */
  syncProbability?: number;
  /** Allow indeterminate syncs (info) and failed syncs. */
  faults?: boolean;
  /** Some devices on schema version 1. */
  mixedVersions?: boolean;
  /** Distinct live records per user and table to aim for (small = more conflicts). */
  recordsPerTable?: number;
  keepHistory?: boolean;
  sink?: { write(op: HistoryOp): void };
}

function randomValue(rand: () => number, type: 'number' | 'string', col: string): Value {
  if (rand() < 0.1) return null;
  if (type === 'number') return Math.floor(rand() * 1000);
  if (col === 'date') return `2026-11-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}`;
  return `${col}-${Math.floor(rand() * 1e6).toString(36)}`;
}

/** Drive the model with a seeded random workload, then quiesce. */
export function runWorkload(o: WorkloadOptions): SyncModel {
  const rand = prng(o.seed);
  const devices: Array<{ id: string; user: string; schemaVersion: SchemaVersion; clockSkewMs: number }> = [];
  for (let u = 0; u < o.users; u++) {
    for (let k = 0; k < o.devicesPerUser; k++) {
      devices.push({
        id: `u${u}-d${k}`,
        user: `user-${u}`,
        schemaVersion: o.mixedVersions && k === o.devicesPerUser - 1 ? 1 : 2,
        clockSkewMs: Math.floor((rand() - 0.5) * 20),
      });
    }
  }
  const m = new SyncModel(devices, { keepHistory: o.keepHistory, sink: o.sink });
  // Failed and indeterminate syncs come from a faulty network: the history says a fault was in effect
  // (as a nemesis would), so sync-loops excuses their streaks and judges only what follows the heal.
  if (o.faults) m.fault('fault-start', 'flaky');
  const syncP = o.syncProbability ?? 0.3;
  const perTable = o.recordsPerTable ?? 20;
  let seq = 0;
  const deletedIds = new Map<string, string[]>();
  const writable = new Map<string, ReturnType<typeof columnsFor>>();
  for (let i = 0; i < o.operations; i++) {
    const d = devices[Math.floor(rand() * devices.length)];
    if (rand() < syncP) {
      const r = rand();
      const outcome: SyncOutcomeKind = !o.faults
        ? 'ok'
        : r < 0.8
          ? 'ok'
          : r < 0.88
            ? 'fail'
            : r < 0.94
              ? 'info-applied'
              : 'info-lost';
      m.sync(d.id, outcome, 1 + Math.floor(rand() * 5));
      continue;
    }
    const table = TABLE_NAMES[Math.floor(rand() * TABLE_NAMES.length)];
    const live = m.liveIds(d.id, table);
    const r = rand();
    const ck = `${table}:${d.schemaVersion}`;
    let cols = writable.get(ck);
    if (!cols) {
      cols = columnsFor(table, d.schemaVersion).filter((c) => c.name !== 'updated_at');
      writable.set(ck, cols);
    }
    const pickValues = (n: number) => {
      const v: Record<string, Value> = {};
      for (let j = 0; j < n; j++) {
        const c = cols[Math.floor(rand() * cols.length)];
        v[c.name] = randomValue(rand, c.type, c.name);
      }
      return v;
    };
    const outcome = o.faults && rand() < 0.02 ? 'fail' : 'ok';
    if (live.length < perTable * 0.5 || r < 0.15) {
      const dk = `${d.user}/${table}`;
      const gone = deletedIds.get(dk) ?? [];
      // Now and then re-create a deleted id explicitly.
      const id = gone.length && rand() < 0.2 ? gone.pop()! : `${table.slice(0, 3)}-${d.user}-${seq++}`;
      if (!m.hasLive(d.id, table, id)) {
        const v: Record<string, Value> = {};
        for (const c of cols) v[c.name] = randomValue(rand, c.type, c.name);
        m.write(d.id, 'create', table, id, v, outcome);
        continue;
      }
    }
    const id = live[Math.floor(rand() * live.length)];
    if (id === undefined) continue;
    if (r > 0.93 || live.length > perTable * 1.5) {
      m.write(d.id, 'delete', table, id, {}, outcome);
      const dk = `${d.user}/${table}`;
      deletedIds.set(dk, [...(deletedIds.get(dk) ?? []).slice(-20), id]);
    } else {
      m.write(d.id, 'update', table, id, pickValues(1 + Math.floor(rand() * 3)), outcome);
    }
  }
  if (o.faults) m.fault('fault-stop', 'flaky');
  m.quiesce();
  return m;
}
