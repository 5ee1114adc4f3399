/**
 * The one interface every device driver implements (architecture.md "Devices"). The runner only
 * talks to devices through this, so a new kind (detox, real BLE watch) plugs in without touching it.
 */
import type { Clock } from './clock';
import type { ConflictRecord, Platform, SyncRecord, TableRecords } from './records';
import type { SchemaVersion, TableName } from './tables';

export type DeviceKind = 'phone' | 'web' | 'detox' | 'watch' | 'ble-watch' | 'vu';

/** RFC 0006 §2.6 sync triggers, plus the harness's own (poke from the events stream, reconnect, manual). */
export type SyncTrigger =
  | 'app_launch'
  | 'workout_complete'
  | 'checkin_submit'
  | 'pull_to_refresh'
  | 'background_fetch'
  | 'watch_connect'
  | 'reconnect'
  | 'poke'
  | 'manual';

export type LocalWrite =
  | { op: 'create'; table: TableName; id: string; values: Omit<SyncRecord, 'id'> }
  | { op: 'update'; table: TableName; id: string; values: Omit<SyncRecord, 'id'> }
  | { op: 'delete'; table: TableName; id: string };

export interface SyncOutcome {
  ok: boolean;
  trigger: SyncTrigger;
  /** Wall-clock duration of the whole sync (pull + push), in ms. */
  durationMs: number;
  pulled: number;
  pushed: number;
  conflicts: ConflictRecord[];
  bytesUp: number;
  bytesDown: number;
  /** Attempts made including retries with the RFC backoff. */
  attempts: number;
  /** True when the outcome of the push is unknown (timeout, connection cut after sending). */
  indeterminate?: boolean;
  error?: string;
  /** The server timestamp the device will send as lastPulledAt next time. */
  lastPulledAt?: number;
}

export interface EnergyReading {
  /** 'modelled' from a radio/CPU model, 'measured' from a real battery reader. */
  source: 'modelled' | 'measured';
  joules: number;
  batteryPct: number;
  /** Free-form breakdown (radio, cpu, awake time…) for the report. */
  details?: Record<string, number>;
}

export interface DeviceContext {
  userId: string;
  deviceId: string;
  platform: Platform;
  /** Base URL of the sync server as this device must reach it (its own fault proxy). */
  serverUrl: string;
  /** Obtains a fresh JWT (tokens expire; RFC 5.1 "token refresh during long syncs"). */
  getToken(): Promise<string>;
  schemaVersion: SchemaVersion;
  clock: Clock;
  /** A folder the device may persist into (survives appKill / reboot). */
  dataDir: string;
  log(line: string): void;
}

export interface Device {
  readonly id: string;
  readonly kind: DeviceKind;
  start(ctx: DeviceContext): Promise<void>;
  stop(): Promise<void>;
  /** Local-first write: must succeed while offline. */
  write(op: LocalWrite): Promise<void>;
  sync(trigger: SyncTrigger): Promise<SyncOutcome>;
  /** What the device believes now (non-deleted rows per table). */
  snapshot(): Promise<TableRecords>;
  /** Local changes not yet acknowledged by the server. */
  pendingChanges(): Promise<number>;
  energy(): EnergyReading;
  /** Optional hooks some kinds support. */
  kill?(): Promise<void>;
  restart?(): Promise<void>;
  setClockOffset?(ms: number): void;
  /** Device-level offline (e.g. the browser's own offline mode), on top of the proxy the harness cuts. */
  setOffline?(offline: boolean): Promise<void>;
  memoryBytes?(): Promise<number>;
}

/** A SyncOutcome with nothing done yet; drivers fill it in as the sync proceeds. */
export function blankSyncOutcome(trigger: SyncTrigger, fields: Partial<SyncOutcome> = {}): SyncOutcome {
  return {
    ok: false,
    trigger,
    durationMs: 0,
    pulled: 0,
    pushed: 0,
    conflicts: [],
    bytesUp: 0,
    bytesDown: 0,
    attempts: 0,
    ...fields,
  };
}
