/**
 * One pass over the history that every checker shares: local writes with their push windows, syncs,
 * and indexes per record. Cached per history array, so running all checkers analyses once.
 *
 * Timing model (all times are the history's ms since run start):
 * - A write is *acknowledged* when it completed `ok` and a later `ok` sync of the same device started
 *   after it completed; `pushHi` is that sync's end (the server certainly has it by then).
 * - A write is *possibly applied* when any non-failed sync (`ok`, `info`, never completed) of its
 *   device ended after the write started; `pushLo` is the earliest start of such a sync. A write
 *   pushed only by `info` syncs has `pushHi = Infinity`: it may land at any time, or never.
 * - Device D *has definitely seen* an acknowledged write X before time t when an `ok` sync of D
 *   started after X's ack and ended before t (`seenUpTo`). D *may have seen* a write W before t when
 *   an `ok` sync of D that started before t ended after W's `pushLo` (`pullEndBefore`).
 * - A power loss on D (lostLocalWrites fault) rolls back D's commits of its last `lostWallMs`: a
 *   write of D that may have committed in that window and that no `ok` sync of D pushed before the
 *   loss is *lost locally*: not acknowledged, whatever syncs follow, and never the server's loss.
 *   Writes the rolled-back syncs had marked as pushed may be pushed again after the reboot, so their
 *   push window extends to D's first `ok` sync after it.
 */
import type { HistoryOp } from '../../protocol/history';
import type { ConflictRecord, SyncRecord, Value } from '../../protocol/records';
import type { SchemaVersion, TableName } from '../../protocol/tables';
import { pairOps } from '../history/pairs';
import type { CheckInput } from './types';

export type WriteKind = 'create' | 'update' | 'delete';
export type Outcome = 'ok' | 'fail' | 'info';

export interface WriteInfo {
  /** Position of the invoke in the history array, and its `index`. */
  pos: number;
  index: number;
  /** `index` of the completion, or -1. */
  endIndex: number;
  kind: WriteKind;
  outcome: Outcome;
  dev: number;
  device: string;
  user: string;
  table: TableName;
  id: string;
  /** Record id in `byRecord` (user, table, id). */
  rk: number;
  values: Omit<SyncRecord, 'id'> | undefined;
  start: number;
  end: number;
  /** updated_at the pushed record carries: values.updated_at, else the device time of the write. */
  ua: number | undefined;
  acked: boolean;
  possiblyApplied: boolean;
  pushLo: number;
  pushHi: number;
  /** `index` of the completion of the sync that acknowledged it, or -1. */
  ackIndex: number;
  /** Rolled back by a power loss on its device before any sync pushed it (see the timing model). */
  lostLocally: boolean;
  /**
   * Only its acknowledging sync can have pushed it, in a single attempt, after a pull the device
   * resolved no local conflict of this record in, answered with no conflict for the
   * record: the server applied it as sent. It cannot then have lost a conflict to a row written
   * earlier; only a later write can replace it. (Meaningful where the server reports conflicts.)
   */
  appliedWithoutConflict: boolean;
  seenUpTo: number;
  pullEndBefore: number;
  schemaVersion: SchemaVersion;
}

export interface SyncInfo {
  pos: number;
  index: number;
  endIndex: number;
  dev: number;
  device: string;
  user: string;
  outcome: Outcome;
  start: number;
  end: number;
  conflicts: readonly ConflictRecord[];
  completion?: HistoryOp;
}

export interface Analysis {
  writes: WriteInfo[];
  syncs: SyncInfo[];
  /** (user, table, id) → positions in `writes`, in history order. */
  byRecord: RecordIndex;
  deviceNames: string[];
  deviceUser: Map<string, string>;
  deviceVersion: Map<string, SchemaVersion>;
  /** Last completed sync `index` per device (for pointing at it in violations). */
  lastSyncIndex: Map<string, number>;
}

/**
 * Writes per record. Nested maps rather than one map keyed by `user|table|id`: hashing a freshly
 * concatenated key per lookup was the single largest cost of a million-op analysis.
 */
export class RecordIndex {
  private readonly ids = new Map<string, Map<string, Map<string, number>>>();
  readonly lists: number[][] = [];

  private tableMap(user: string, table: string, create: boolean): Map<string, number> | undefined {
    let byTable = this.ids.get(user);
    if (!byTable) {
      if (!create) return undefined;
      byTable = new Map();
      this.ids.set(user, byTable);
    }
    let byId = byTable.get(table);
    if (!byId) {
      if (!create) return undefined;
      byId = new Map();
      byTable.set(table, byId);
    }
    return byId;
  }

  /** The record's number, allocating one for a new record. */
  intern(user: string, table: string, id: string): number {
    const m = this.tableMap(user, table, true)!;
    let r = m.get(id);
    if (r === undefined) {
      r = this.lists.length;
      m.set(id, r);
      this.lists.push([]);
    }
    return r;
  }

  get(user: string, table: string, id: string): number[] | undefined {
    const r = this.tableMap(user, table, false)?.get(id);
    return r === undefined ? undefined : this.lists[r];
  }

  values(): number[][] {
    return this.lists;
  }
}

/** First i with a[i] >= x (a sorted ascending). */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Sync intervals of one device, with prefix/suffix extremes for O(log n) queries. */
class DeviceSyncIndex {
  // ok syncs by start
  private okStart: Float64Array;
  private okSufMinEnd: Float64Array;
  private okSufMinEndIdx: Int32Array;
  private okPrefMaxEnd: Float64Array;
  // ok syncs by end
  private okEnd: Float64Array;
  private okPrefMaxStart: Float64Array;
  // non-failed syncs by end
  private nfEnd: Float64Array;
  private nfSufMinStart: Float64Array;

  constructor(syncs: SyncInfo[]) {
    const ok = syncs.filter((s) => s.outcome === 'ok');
    const byStart = [...ok].sort((a, b) => a.start - b.start);
    const n = byStart.length;
    this.okStart = Float64Array.from(byStart, (s) => s.start);
    this.okSufMinEnd = new Float64Array(n);
    this.okSufMinEndIdx = new Int32Array(n);
    this.okPrefMaxEnd = new Float64Array(n);
    let m = Number.POSITIVE_INFINITY;
    let mi = -1;
    for (let i = n - 1; i >= 0; i--) {
      if (byStart[i].end < m) {
        m = byStart[i].end;
        mi = byStart[i].endIndex;
      }
      this.okSufMinEnd[i] = m;
      this.okSufMinEndIdx[i] = mi;
    }
    let M = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      M = Math.max(M, byStart[i].end);
      this.okPrefMaxEnd[i] = M;
    }
    const byEnd = [...ok].sort((a, b) => a.end - b.end);
    this.okEnd = Float64Array.from(byEnd, (s) => s.end);
    this.okPrefMaxStart = new Float64Array(n);
    M = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      M = Math.max(M, byEnd[i].start);
      this.okPrefMaxStart[i] = M;
    }
    const nf = syncs.filter((s) => s.outcome !== 'fail').sort((a, b) => a.end - b.end);
    this.nfEnd = Float64Array.from(nf, (s) => s.end);
    this.nfSufMinStart = new Float64Array(nf.length);
    m = Number.POSITIVE_INFINITY;
    for (let i = nf.length - 1; i >= 0; i--) {
      m = Math.min(m, nf[i].start);
      this.nfSufMinStart[i] = m;
    }
  }

  /** Earliest-ending ok sync that started at or after t: [end, completion index], or [Infinity, -1]. */
  ack(t: number): [number, number] {
    const i = lowerBound(this.okStart, t);
    return i < this.okStart.length ? [this.okSufMinEnd[i], this.okSufMinEndIdx[i]] : [Number.POSITIVE_INFINITY, -1];
  }
  /** Earliest start of a non-failed sync that ended after t (Infinity when none). */
  pushLo(t: number): number {
    // first end > t
    let lo = 0;
    let hi = this.nfEnd.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.nfEnd[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.nfEnd.length ? this.nfSufMinStart[lo] : Number.POSITIVE_INFINITY;
  }
  /** Latest start of an ok sync that ended strictly before t. */
  seenUpTo(t: number): number {
    const i = lowerBound(this.okEnd, t) - 1;
    return i >= 0 ? this.okPrefMaxStart[i] : Number.NEGATIVE_INFINITY;
  }
  /** Latest end of an ok sync that started strictly before t. */
  pullEndBefore(t: number): number {
    const i = lowerBound(this.okStart, t) - 1;
    return i >= 0 ? this.okPrefMaxEnd[i] : Number.NEGATIVE_INFINITY;
  }
}

const cache = new WeakMap<
  object,
  { devices: CheckInput['devices']; conflictsReported: boolean | undefined; analysis: Analysis }
>();

export function analyse(input: Pick<CheckInput, 'history' | 'devices' | 'conflictsReported'>): Analysis {
  const hit = cache.get(input.history);
  if (hit && hit.devices === input.devices && hit.conflictsReported === input.conflictsReported) return hit.analysis;
  const analysis = build(input);
  cache.set(input.history, { devices: input.devices, conflictsReported: input.conflictsReported, analysis });
  return analysis;
}

const writersCache = new WeakMap<Analysis, Map<string, Set<string>>>();

/**
 * The users who wrote (table, id) in the history; the map is built once per analysis, on first use,
 * for the checkers that judge a row by who wrote it (user-isolation, no-duplicates).
 */
export function usersWhoWrote(a: Analysis, table: string, id: string): ReadonlySet<string> {
  let writers = writersCache.get(a);
  if (!writers) {
    writers = new Map();
    for (const w of a.writes) {
      const key = `${w.table}\u0001${w.id}`;
      const s = writers.get(key);
      if (s) s.add(w.user);
      else writers.set(key, new Set([w.user]));
    }
    writersCache.set(a, writers);
  }
  return writers.get(`${table}\u0001${id}`) ?? NOBODY;
}
const NOBODY: ReadonlySet<string> = new Set();

/** The analysis already built for this history by a checker run, if any (metrics reuse it). */
export function cachedAnalysis(history: CheckInput['history']): Analysis | undefined {
  return cache.get(history)?.analysis;
}

function build({
  history,
  devices,
  conflictsReported,
}: Pick<CheckInput, 'history' | 'devices' | 'conflictsReported'>): Analysis {
  const { partner } = pairOps(history);
  const deviceUser = new Map<string, string>();
  const deviceVersion = new Map<string, SchemaVersion>();
  for (const d of devices) {
    deviceUser.set(d.id, d.user);
    deviceVersion.set(d.id, d.schemaVersion);
  }
  const devIndex = new Map<string, number>();
  const deviceNames: string[] = [];
  const devOf = (name: string): number => {
    let i = devIndex.get(name);
    if (i === undefined) {
      i = deviceNames.length;
      devIndex.set(name, i);
      deviceNames.push(name);
    }
    return i;
  };
  const writes: WriteInfo[] = [];
  const syncs: SyncInfo[] = [];
  const byRecord = new RecordIndex();
  const serverWrites: number[] = [];
  const lastSyncIndex = new Map<string, number>();
  for (let pos = 0; pos < history.length; pos++) {
    const op = history[pos];
    if (op.type !== 'invoke' || op.device === undefined) continue;
    const f = op.f;
    // A file upload (/files/complete) sets columns of a record on the server itself.
    const serverSide = f === 'file-upload' && op.table !== undefined && op.id !== undefined;
    if (f !== 'create' && f !== 'update' && f !== 'delete' && f !== 'sync' && !serverSide) continue;
    const cpos = partner[pos];
    const c = cpos >= 0 ? history[cpos] : undefined;
    const outcome: Outcome = c ? (c.type as Outcome) : 'info';
    const user = deviceUser.get(op.device) ?? op.user ?? c?.user ?? 'default';
    if (!deviceUser.has(op.device)) deviceUser.set(op.device, user);
    const device = serverSide ? `${op.device}#server` : op.device;
    if (serverSide) deviceUser.set(device, user);
    const dev = devOf(device);
    const end = c ? c.time : Number.POSITIVE_INFINITY;
    const endIndex = c ? c.index : -1;
    if (f === 'sync') {
      syncs.push({
        pos,
        index: op.index,
        endIndex,
        dev,
        device,
        user,
        outcome,
        start: op.time,
        end,
        conflicts: (outcome === 'ok' && c?.conflicts) || [],
        completion: c,
      });
      if (c) lastSyncIndex.set(device, c.index);
      continue;
    }
    if (op.table === undefined || op.id === undefined) continue;
    let values = c?.values ? { ...op.values, ...c.values } : op.values;
    if (serverSide && !values) values = { fit_file_key: null };
    const uaRaw = values?.updated_at;
    if (serverSide) serverWrites.push(writes.length);
    writes.push({
      pos,
      index: op.index,
      endIndex,
      kind: serverSide ? 'update' : (f as WriteKind),
      outcome,
      dev,
      device,
      user,
      table: op.table,
      id: op.id,
      rk: byRecord.intern(user, op.table, op.id),
      values,
      start: op.time,
      end,
      ua: typeof uaRaw === 'number' ? uaRaw : typeof op.deviceTime === 'number' ? op.deviceTime : undefined,
      acked: false,
      possiblyApplied: false,
      pushLo: Number.POSITIVE_INFINITY,
      pushHi: Number.POSITIVE_INFINITY,
      ackIndex: -1,
      lostLocally: false,
      appliedWithoutConflict: false,
      seenUpTo: Number.NEGATIVE_INFINITY,
      pullEndBefore: Number.NEGATIVE_INFINITY,
      schemaVersion: deviceVersion.get(device) ?? 2,
    });
  }
  const perDev: SyncInfo[][] = deviceNames.map(() => []);
  for (const s of syncs) perDev[s.dev].push(s);
  const idx = perDev.map((list) => new DeviceSyncIndex(list));
  const syncByEnd = new Map(syncs.map((s) => [s.endIndex, s]));
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i];
    const di = idx[w.dev];
    w.seenUpTo = di.seenUpTo(w.start);
    w.pullEndBefore = di.pullEndBefore(w.start);
    if (w.outcome !== 'fail') {
      w.pushLo = di.pushLo(w.start);
      w.possiblyApplied = w.pushLo !== Number.POSITIVE_INFINITY;
      if (w.outcome === 'ok') {
        const [hi, ackIndex] = di.ack(w.end);
        if (hi !== Number.POSITIVE_INFINITY) {
          w.acked = true;
          w.pushHi = hi;
          w.ackIndex = ackIndex;
          const ack = syncByEnd.get(ackIndex);
          // One attempt only: a sync that retried may have had its first push applied with a
          // conflict whose answer was lost, and the retry (after a pull) reports none.
          w.appliedWithoutConflict =
            conflictsReported === true &&
            !!ack &&
            ack.completion?.extra?.attempts === 1 &&
            !ack.completion.extra.fullResync &&
            resolvedUnaltered(ack.completion.extra.localConflicts, w) &&
            w.pushLo >= ack.start &&
            !ack.conflicts.some((c) => c.tableName === w.table && c.id === w.id);
        }
      }
    }
    byRecord.lists[w.rk].push(i);
  }
  applyPowerLosses(history, writes, devIndex, idx);
  // Server-side writes: applied during the operation (or at an unknown time when indeterminate), by a
  // party that sees every write applied before it. Never judged themselves, they only explain.
  for (const i of serverWrites) {
    const w = writes[i];
    w.possiblyApplied = w.outcome !== 'fail';
    w.acked = false;
    w.pushLo = w.possiblyApplied ? w.start : Number.POSITIVE_INFINITY;
    w.pushHi = w.outcome === 'ok' ? w.end : Number.POSITIVE_INFINITY;
    w.pullEndBefore = w.pushHi;
    w.seenUpTo = Number.NEGATIVE_INFINITY;
  }
  return { writes, syncs, byRecord, deviceNames, deviceUser, deviceVersion, lastSyncIndex };
}

/**
 * The device reported the pulled rows it resolved against unpushed local changes, and this record
 * is not among them: the pull of that sync cannot have changed the write before it was pushed.
 * Unknown (a device that does not report them) is never taken as unaltered.
 */
function resolvedUnaltered(local: unknown, w: WriteInfo): boolean {
  if (!Array.isArray(local)) return false;
  return !local.some((c: { table?: string; id?: string }) => c?.table === w.table && c?.id === w.id);
}

/** The lostLocalWrites faults of the history, applied to the writes of their devices. */
function applyPowerLosses(
  history: readonly HistoryOp[],
  writes: WriteInfo[],
  devIndex: ReadonlyMap<string, number>,
  idx: readonly DeviceSyncIndex[],
): void {
  for (const op of history) {
    if (op.f !== 'fault-start' || op.fault?.name !== 'lostLocalWrites' || op.error) continue;
    const p = op.fault.params ?? {};
    const dev = devIndex.get(String(p.device));
    if (dev === undefined) continue;
    // The loss happened between `lossFrom` and the event's time; commits after `cutFrom` are gone.
    const lossFrom = op.time - Number(p.applyMs ?? 0);
    const cutFrom = lossFrom - Number(p.lostWallMs ?? 0) - 1;
    const [rebootPush] = idx[dev].ack(op.time);
    for (const w of writes) {
      if (w.dev !== dev || w.start > op.time) continue;
      if (w.outcome === 'ok' && w.end > cutFrom && !(w.acked && w.pushHi < lossFrom)) {
        w.lostLocally = true;
        w.appliedWithoutConflict = false;
        w.acked = false;
        w.ackIndex = -1;
        w.pushHi = Number.POSITIVE_INFINITY;
      } else if (w.acked && w.pushHi > cutFrom) {
        // Pushed again after the reboot: that later push may have conflicted.
        w.pushHi = Math.max(w.pushHi, rebootPush);
        w.appliedWithoutConflict = false;
      }
    }
  }
}

/** Server rows per user and table, by id (first occurrence wins; duplicates are no-duplicates' job). */
export class ServerIndex {
  private readonly maps = new Map<string, Map<string, Map<string, SyncRecord>>>();
  constructor(readonly state: CheckInput['serverState']) {}
  table(user: string, table: string): Map<string, SyncRecord> {
    let byTable = this.maps.get(user);
    if (!byTable) {
      byTable = new Map();
      this.maps.set(user, byTable);
    }
    let m = byTable.get(table);
    if (!m) {
      m = new Map();
      const rows = (this.state[user] as Record<string, SyncRecord[] | undefined> | undefined)?.[table] ?? [];
      for (const r of rows) if (!m.has(r.id)) m.set(r.id, r);
      byTable.set(table, m);
    }
    return m;
  }
  row(user: string, table: string, id: string): SyncRecord | undefined {
    return this.table(user, table).get(id);
  }
}

export const same = (a: Value | undefined, b: Value | undefined): boolean => (a ?? null) === (b ?? null);

export function fmt(v: Value | undefined): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}
