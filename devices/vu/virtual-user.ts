/**
 * A protocol-level virtual user, kind `vu`: no local database, an in-memory store with the same
 * bookkeeping WatermelonDB keeps (_status, _changed), the same pull/push through SyncHttpClient and
 * the same conflict resolution as the phone (protocol resolveConflict via the phone's resolver). It is
 * cheap enough to run a thousand of them in one process.
 */
import { createHash, randomUUID } from 'node:crypto';
import { SkewedClock } from '../../protocol/clock';
import {
  blankSyncOutcome,
  type Device,
  type DeviceContext,
  type EnergyReading,
  type LocalWrite,
  type SyncOutcome,
  type SyncTrigger,
} from '../../protocol/device';
import type { DatabaseChanges, SyncRecord, TableRecords, Value } from '../../protocol/records';
import { columnNames, type SchemaVersion, TABLE_NAMES, type TableName } from '../../protocol/tables';
import { batchPushId, splitChanges } from '../common/push-batches';
import { noteRetry, SyncHttpClient, SyncHttpError, withBackoff } from '../common/sync-http';
import { type DeviceEnergyProfile, EnergyMeter, PHONE_LTE } from '../energy/radio-model';
import { dataHash, makeConflictResolver } from '../phone/resolver';

type Status = 'synced' | 'created' | 'updated' | 'deleted';
interface Row {
  data: SyncRecord;
  status: Status;
  changed: string;
}

export interface VirtualUserOptions {
  id: string;
  schemaVersion?: SchemaVersion;
  maxAttempts?: number;
  requestTimeoutMs?: number;
  /** Send WatermelonDB's _status/_changed with pushed rows, as a real app does (default true). */
  sendBookkeeping?: boolean;
  /** Push bodies above this are split into several contract pushes (default just under the 10 MB limit). */
  pushBatchBytes?: number;
  /** Radio and battery the energy model charges (default a phone on LTE). */
  energy?: DeviceEnergyProfile;
  /** HTTP transport (default the global fetch); the load generator gives each VU its own source address. */
  fetch?: typeof fetch;
}

export class VirtualUser implements Device {
  readonly kind = 'vu' as const;
  readonly id: string;
  private ctx?: DeviceContext;
  private clock?: SkewedClock;
  private http?: SyncHttpClient;
  private tokenRefreshes = 0;
  private readonly tables = new Map<TableName, Map<string, Row>>(TABLE_NAMES.map((t) => [t, new Map()]));
  private lastPulledAt: number | null = null;
  private pending?: { pushId: string; hash: string };
  /** `table:id` → dataHash of rows of our last push: their copy in the next pull is an echo (phone/resolver.ts). */
  private echo = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly meter: EnergyMeter;

  constructor(private readonly opts: VirtualUserOptions) {
    this.id = opts.id;
    this.meter = new EnergyMeter(opts.energy ?? PHONE_LTE);
  }

  get schemaVersion(): SchemaVersion {
    return this.opts.schemaVersion ?? this.ctx?.schemaVersion ?? 2;
  }

  async start(ctx: DeviceContext): Promise<void> {
    this.ctx = ctx;
    // A SkewedClock from the runner is shared (it reads the device time too); else wrap the run clock.
    this.clock = ctx.clock instanceof SkewedClock ? ctx.clock : new SkewedClock(ctx.clock);
    this.meter.begin(this.clock.now());
    this.http = new SyncHttpClient({
      baseUrl: ctx.serverUrl,
      deviceId: ctx.deviceId,
      schemaVersion: this.schemaVersion,
      getToken: (o) => ctx.getToken(o),
      onTokenRefresh: () => {
        this.tokenRefreshes++;
      },
      timeoutMs: this.opts.requestTimeoutMs ?? 30_000,
      ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
    });
  }

  async stop(): Promise<void> {
    await this.queue;
  }

  setClockOffset(ms: number): void {
    if (this.clock) this.clock.offsetMs = ms;
  }

  async write(op: LocalWrite): Promise<void> {
    const rows = this.tables.get(op.table)!;
    const row = rows.get(op.id);
    const cols = columnNames(op.table, this.schemaVersion);
    if (op.op === 'create') {
      if (row && row.status !== 'deleted') throw new Error(`HRN_ERR_VU_EXISTS: ${op.table}#${op.id} already exists`);
      const data: SyncRecord = { id: op.id };
      for (const c of cols) data[c] = (op.values[c] ?? null) as Value;
      if (op.values.updated_at === undefined && cols.includes('updated_at')) data.updated_at = this.clock!.now();
      rows.set(op.id, { data, status: 'created', changed: '' });
      return;
    }
    if (!row || row.status === 'deleted') throw new Error(`HRN_ERR_VU_NOT_FOUND: ${op.table}#${op.id} does not exist`);
    // Rows are replaced, never mutated: a push in flight compares identities to know what changed since.
    if (op.op === 'delete') {
      rows.set(op.id, { ...row, status: 'deleted' });
      return;
    }
    const values = { ...op.values };
    if (values.updated_at === undefined && cols.includes('updated_at')) values.updated_at = this.clock!.now();
    const changed = new Set(row.changed ? row.changed.split(',') : []);
    const data: SyncRecord = { ...row.data };
    for (const [k, v] of Object.entries(values)) {
      if (!cols.includes(k))
        throw new Error(`HRN_ERR_VU_UNKNOWN_COLUMN: ${op.table} has no column "${k}" at v${this.schemaVersion}`);
      data[k] = v ?? null;
      changed.add(k);
    }
    const status: Status = row.status === 'synced' ? 'updated' : row.status;
    rows.set(op.id, { data, status, changed: status === 'updated' ? [...changed].join(',') : '' });
  }

  sync(trigger: SyncTrigger): Promise<SyncOutcome> {
    const run = this.queue.then(() => this.runSync(trigger));
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * A pull-only sync of some tables (RFC 2.6 background fetch of the core tables): pending local
   * changes stay pending. The device's lastPulledAt moves only when every table was pulled: the next
   * full pull starts from the older stamp, so the other tables miss nothing (rows of these tables come
   * again; applying a row twice changes nothing).
   */
  pullOnly(trigger: SyncTrigger, tables?: readonly TableName[]): Promise<SyncOutcome> {
    const run = this.queue.then(() => this.runSync(trigger, tables ? [...tables] : [...TABLE_NAMES]));
    this.queue = run.catch(() => {});
    return run;
  }

  private async runSync(trigger: SyncTrigger, pullOnlyTables?: TableName[]): Promise<SyncOutcome> {
    const t0 = performance.now();
    const startedAt = this.clock!.now();
    const out: SyncOutcome = blankSyncOutcome(trigger);
    const refreshesBefore = this.tokenRefreshes;
    if (pullOnlyTables && TABLE_NAMES.some((t) => !pullOnlyTables!.includes(t))) out.scope = [...pullOnlyTables];
    let phase: 'pull' | 'push' = 'pull';
    try {
      const { attempts } = await withBackoff(
        async () => {
          for (let stale = 0; ; stale++) {
            try {
              phase = 'pull';
              await this.pullOnce(out, pullOnlyTables);
              if (pullOnlyTables) return;
              phase = 'push';
              await this.pushOnce(out);
              return;
            } catch (e) {
              // 410: the operator reset this device (RFC §3.4). Forget the stamp, the echo and the
              // pending push id; keep the unpushed rows; pull everything from 0, then push them.
              if (e instanceof SyncHttpError && e.code === 'SYNC_ERR_RESYNC_REQUIRED' && !out.fullResync) {
                this.lastPulledAt = null;
                this.echo = new Map();
                this.pending = undefined;
                out.fullResync = true;
                if (pullOnlyTables) pullOnlyTables = [...TABLE_NAMES];
                continue;
              }
              if (e instanceof SyncHttpError && e.status === 409 && stale < 3) continue;
              throw e;
            }
          }
        },
        {
          sleep: (ms) => this.clock!.sleep(ms),
          maxAttempts: this.opts.maxAttempts ?? 6,
          onRetry: (attempt, err, wait) => noteRetry(out, attempt, err, wait),
        },
      );
      out.ok = true;
      out.attempts = attempts;
      out.lastPulledAt = this.lastPulledAt ?? undefined;
    } catch (e) {
      out.attempts = (e as { attempts?: number }).attempts ?? 1;
      out.error = (e as Error).message;
      if (e instanceof SyncHttpError && e.kind === 'indeterminate' && (phase as string) === 'push')
        out.indeterminate = true;
    }
    out.durationMs = performance.now() - t0;
    if (this.tokenRefreshes > refreshesBefore) out.tokenRefreshes = this.tokenRefreshes - refreshesBefore;
    this.meter.record({ startedAt, durationMs: out.durationMs, bytesUp: out.bytesUp, bytesDown: out.bytesDown });
    return out;
  }

  private async pullOnce(out: SyncOutcome, tables?: TableName[]): Promise<void> {
    const partial = tables !== undefined && TABLE_NAMES.some((t) => !tables.includes(t));
    const t = await this.http!.pull(this.lastPulledAt, partial ? tables : undefined);
    out.bytesUp += t.bytesUp;
    out.bytesDown += t.bytesDown;
    const resolver = makeConflictResolver(
      this.schemaVersion,
      () => {},
      (table, id, remote) => this.echo.get(`${table}:${id}`) === dataHash(table, remote, this.schemaVersion),
    );
    for (const [table, tc] of Object.entries(t.body.changes ?? {}) as Array<
      [TableName, NonNullable<DatabaseChanges[TableName]>]
    >) {
      const rows = this.tables.get(table);
      if (!rows) continue;
      const cols = columnNames(table, this.schemaVersion);
      for (const remote of [...tc.created, ...tc.updated]) {
        out.pulled++;
        const local = rows.get(remote.id);
        const data: SyncRecord = { id: remote.id };
        for (const c of cols) data[c] = remote[c] ?? null;
        if (!local) {
          rows.set(remote.id, { data, status: 'synced', changed: '' });
          continue;
        }
        if (local.status === 'deleted') continue; // the local delete is pushed next
        const localRaw = { ...local.data, _status: local.status, _changed: local.changed };
        const resolved = resolver(table, localRaw, data, {
          ...localRaw,
          ...data,
          _status: local.status,
          _changed: local.changed,
        });
        const next: SyncRecord = { id: remote.id };
        for (const c of cols) next[c] = resolved[c] ?? null;
        rows.set(remote.id, { data: next, status: resolved._status, changed: resolved._changed });
      }
      for (const id of tc.deleted) {
        out.pulled++;
        rows.delete(id); // as WatermelonDB: a remote delete removes the row, local edits included
      }
    }
    if (partial) return; // see pullOnly: the stamp and the echo set belong to full pulls
    this.lastPulledAt = t.body.timestamp;
    this.echo = new Map();
  }

  private async pushOnce(out: SyncOutcome): Promise<void> {
    const changes: DatabaseChanges = {};
    const sent: Array<[TableName, string, Row]> = [];
    let n = 0;
    const book = this.opts.sendBookkeeping ?? true;
    for (const [table, rows] of this.tables) {
      const tc = { created: [] as SyncRecord[], updated: [] as SyncRecord[], deleted: [] as string[] };
      for (const [id, row] of rows) {
        if (row.status === 'synced') continue;
        sent.push([table, id, row]);
        n++;
        if (row.status === 'deleted') tc.deleted.push(id);
        else {
          const rec = book ? { ...row.data, _status: row.status, _changed: row.changed } : row.data;
          (row.status === 'created' ? tc.created : tc.updated).push(rec as SyncRecord);
        }
      }
      if (tc.created.length + tc.updated.length + tc.deleted.length) changes[table] = tc;
    }
    if (n === 0) return;
    const hash = createHash('sha1').update(JSON.stringify(changes)).digest('hex');
    if (this.pending?.hash !== hash) this.pending = { pushId: `${this.ctx!.deviceId}:${randomUUID()}`, hash };
    this.echo = new Map();
    for (const [table, , row] of sent) {
      if (row.status !== 'deleted')
        this.echo.set(`${table}:${row.data.id}`, dataHash(table, row.data, this.schemaVersion));
    }
    // Over the body limit: several contract pushes against the same pull (see common/push-batches).
    const batches = splitChanges(changes, this.opts.pushBatchBytes);
    for (const [i, batch] of batches.entries()) {
      const t = await this.http!.push({
        changes: batch,
        lastPulledAt: this.lastPulledAt ?? 0,
        deviceId: this.ctx!.deviceId,
        pushId: batchPushId(this.pending.pushId, i, batches.length),
      });
      out.bytesUp += t.bytesUp;
      out.bytesDown += t.bytesDown;
      out.conflicts.push(...(t.body.conflictedRecords ?? []));
      for (const c of t.body.conflictedRecords ?? []) {
        this.echo.set(`${c.tableName}:${c.id}`, dataHash(c.tableName, c.resolvedRecord, this.schemaVersion));
      }
    }
    out.pushed += n;
    out.pushBatches = (out.pushBatches ?? 0) + batches.length;
    this.pending = undefined;
    // Mark as synced what was pushed and not edited since (the same object is still in place).
    for (const [table, id, row] of sent) {
      const rows = this.tables.get(table)!;
      const cur = rows.get(id);
      if (cur !== row) continue;
      if (row.status === 'deleted') rows.delete(id);
      else rows.set(id, { data: row.data, status: 'synced', changed: '' });
    }
  }

  async snapshot(): Promise<TableRecords> {
    const out = {} as TableRecords;
    for (const [t, rows] of this.tables) {
      out[t] = [...rows.values()]
        .filter((r) => r.status !== 'deleted')
        .map((r) => ({ ...r.data }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    }
    return out;
  }

  async pendingChanges(): Promise<number> {
    let n = 0;
    for (const rows of this.tables.values()) for (const r of rows.values()) if (r.status !== 'synced') n++;
    return n;
  }

  energy(): EnergyReading {
    return this.meter.reading();
  }
}

export function createVirtualUser(opts: VirtualUserOptions): VirtualUser {
  return new VirtualUser(opts);
}
