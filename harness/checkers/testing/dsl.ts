/**
 * A tiny DSL for synthetic histories in checker tests:
 *   const h = dsl({ A: 'u1', B: 'u1' });
 *   h.write('A', 'goals', 'g1', { title: 'x' }).sync('A').sync('B');
 * Every step is sequential (invoke at t, completion at t+1) unless opened with `begin` and closed
 * with `end`, which lets tests build overlapping intervals.
 */
import type { HistoryOp } from '../../../protocol/history';
import type { ConflictRecord, SyncRecord, TableRecords } from '../../../protocol/records';
import type { SchemaVersion, TableName } from '../../../protocol/tables';
import { History, type OpHandle } from '../../history/recorder';
import type { CheckInput, DeviceFinalState } from '../types';

type Outcome = 'ok' | 'fail' | 'info';
type Values = Omit<SyncRecord, 'id'>;

export interface WriteOpts {
  outcome?: Outcome;
}
export interface SyncOpts {
  outcome?: Outcome;
  conflicts?: ConflictRecord[];
  /** Attempts the sync made (recorded as extra.attempts, as devices do). */
  attempts?: number;
  /** Pulled rows the device resolved against its unpushed changes (extra.localConflicts). */
  localConflicts?: Array<{ table: string; id: string }>;
}

export class HistoryDsl {
  t = 0;
  readonly history: History;
  readonly devices: Map<string, { user: string; schemaVersion: SchemaVersion }>;
  private readonly open = new Map<string, OpHandle>();

  constructor(devices: Record<string, string | { user: string; schemaVersion?: SchemaVersion }>) {
    this.history = new History({ now: () => this.t });
    this.devices = new Map(
      Object.entries(devices).map(([id, d]) => [
        id,
        typeof d === 'string' ? { user: d, schemaVersion: 2 } : { user: d.user, schemaVersion: d.schemaVersion ?? 2 },
      ]),
    );
  }

  get ops(): HistoryOp[] {
    return this.history.ops;
  }

  private user(dev: string): string {
    const d = this.devices.get(dev);
    if (!d) throw new Error(`unknown device ${dev} in test history`);
    return d.user;
  }

  tick(ms = 1): this {
    this.t += ms;
    return this;
  }

  private writeOp(
    f: 'create' | 'update' | 'delete',
    dev: string,
    table: TableName,
    id: string,
    values: Values | undefined,
    o: WriteOpts,
  ) {
    this.t++;
    const h = this.history.invoke({
      f,
      device: dev,
      user: this.user(dev),
      table,
      id,
      ...(values ? { values } : {}),
      deviceTime: this.t,
    });
    this.t++;
    h.complete(o.outcome ?? 'ok');
    return this;
  }

  create(dev: string, table: TableName, id: string, values: Values, o: WriteOpts = {}): this {
    return this.writeOp('create', dev, table, id, values, o);
  }
  update(dev: string, table: TableName, id: string, values: Values, o: WriteOpts = {}): this {
    return this.writeOp('update', dev, table, id, values, o);
  }
  /** Alias of update. */
  write(dev: string, table: TableName, id: string, values: Values, o: WriteOpts = {}): this {
    return this.update(dev, table, id, values, o);
  }
  delete(dev: string, table: TableName, id: string, o: WriteOpts = {}): this {
    return this.writeOp('delete', dev, table, id, undefined, o);
  }

  /** A FIT upload completed by `dev`: the server sets the record's columns (fit_file_key) itself. */
  upload(dev: string, table: TableName, id: string, values: Values, o: WriteOpts = {}): this {
    this.t++;
    const h = this.history.invoke({ f: 'file-upload', device: dev, user: this.user(dev), table, id, values });
    this.t++;
    h.complete(o.outcome ?? 'ok');
    return this;
  }

  /**
   * A lostLocalWrites fault on `dev` recorded as the nemesis does: the loss took `applyMs` and rolled
   * back the commits of the last `lostWallMs` before it.
   */
  powerLoss(dev: string, lostWallMs: number, applyMs = 1): this {
    this.t += applyMs;
    this.history.event({
      process: 'nemesis',
      f: 'fault-start',
      fault: {
        name: 'lostLocalWrites',
        targets: [dev],
        params: { kind: 'lostLocalWrites', device: dev, lostWallMs, applyMs },
      },
    });
    return this;
  }

  sync(dev: string, o: SyncOpts = {}): this {
    return this.begin(dev).end(dev, o);
  }

  /** Start a sync of `dev` and leave it open (overlapping intervals). */
  begin(dev: string): this {
    this.t++;
    this.open.set(dev, this.history.invoke({ f: 'sync', device: dev, user: this.user(dev), trigger: 'manual' }));
    return this;
  }
  end(dev: string, o: SyncOpts = {}): this {
    const h = this.open.get(dev);
    if (!h) throw new Error(`no open sync of ${dev}`);
    this.open.delete(dev);
    this.t++;
    h.complete(o.outcome ?? 'ok', {
      ...(o.conflicts ? { conflicts: o.conflicts } : {}),
      ...(o.attempts !== undefined ? { extra: { attempts: o.attempts, localConflicts: o.localConflicts ?? [] } } : {}),
    });
    return this;
  }

  /**
   * A CheckInput with the given server state; every device's snapshot defaults to its user's server
   * rows (converged) with no pending changes, overridable per device.
   */
  input(
    server: Record<string, Partial<TableRecords>>,
    overrides: Record<string, Partial<Omit<DeviceFinalState, 'id' | 'user'>>> = {},
    serverLog?: CheckInput['serverLog'],
  ): CheckInput {
    const devices: DeviceFinalState[] = [...this.devices].map(([id, d]) => ({
      id,
      user: d.user,
      schemaVersion: d.schemaVersion,
      snapshot: server[d.user] ?? {},
      pendingChanges: 0,
      ...overrides[id],
    }));
    return { history: this.ops, serverState: server, devices, ...(serverLog ? { serverLog } : {}) };
  }
}

export const dsl = (devices: ConstructorParameters<typeof HistoryDsl>[0]) => new HistoryDsl(devices);
