/**
 * The one interface every device driver implements (architecture.md "Devices"), and the plugin each
 * kind exports (`devices/<kind>/kind.ts`). The runner, loader, CLI and doctor only see these, so a
 * new kind (detox, real BLE watch) is one new folder.
 */
import type { Clock } from './clock';
import type { UploadSummary } from './files';
import type { OpFunction } from './history';
import type { ConflictRecord, Platform, SyncRecord, TableRecords } from './records';
import type { SchemaVersion, TableName } from './tables';

/**
 * Driver class per kind name. Each `devices/<kind>/kind.ts` adds its entry by declaration merging
 * (`declare module '../../protocol/device' { interface DeviceDrivers { watch: WatchDevice } }`), so
 * the kind names scenarios may use, and `handle.driver('watch')`'s type, grow with the folders.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in devices/<kind>/kind.ts
export interface DeviceDrivers {}

export type DeviceKindName = keyof DeviceDrivers & string;

/** How a scenario declares one device (`devices: { phoneA: { kind: 'phone' } }`). */
export interface DeviceSpec {
  kind: DeviceKindName;
  /** Devices of one user share data; default 'user-1'. */
  user?: string;
  schemaVersion?: SchemaVersion;
  /** Network preset name (wifi, lte, 3g, slow-3g, edge, very-bad, lossy, offline). */
  network?: string;
  /**
   * The radio the energy model charges (devices/energy): lte, 3g or wifi for devices that reach the
   * cloud, ble for watches. Default: from `network` (wifi → wifi, lte → lte, 3g/slow-3g/edge → 3g),
   * else the kind's own (phones lte, web wifi, watches ble).
   */
  radio?: RadioKind;
  /** Battery the energy model divides by: capacity in mAh (at `volts`) or Wh. Default: the kind's. */
  battery?: BatterySpec;
  /** Sync by itself on pokes, reconnect and background fetch (RFC 2.6). Default false: scripted control. */
  autoSync?: boolean;
  /** Web only: tabs per device, and a persistent browser profile (survives restart/kill). */
  tabs?: number;
  persistent?: boolean;
  /** Watch only: the phone it pairs with, and its BLE link profile. */
  pairedWith?: string;
  linkProfile?: string;
  /**
   * Lifetime of the device's test tokens in seconds (default 3600). Short ones (RFC §5.1 "token
   * refresh during long syncs") expire mid-sync: the request answered 401 is re-sent once with a
   * fresh token, the sync goes on where it was.
   */
  tokenTtlSeconds?: number;
  /** Phone, vu and web: split a push into contract pushes of at most this many bytes (default: the body limit's). */
  pushBatchBytes?: number;
  /** Kind-specific options a kind's own `validate` checks (e.g. a Detox app build). */
  options?: Record<string, unknown>;
}

export type RadioKind = 'lte' | '3g' | 'wifi' | 'ble';
export const RADIO_KINDS: readonly RadioKind[] = ['lte', '3g', 'wifi', 'ble'];

export interface BatterySpec {
  mAh?: number;
  /** Nominal cell voltage for mAh (default the kind's: 3.85 V phone, 3 V watch). */
  volts?: number;
  /** Capacity in Wh instead of mAh. */
  wh?: number;
}

/** Run-wide choices a kind may read when it creates a device. */
export interface DeviceCreateOptions {
  phoneAdapter?: 'lokijs' | 'sqlite';
  /** `use.devices[kind]` of the config (or project): kind-specific run options the kind validates. */
  devices?: Partial<Record<string, unknown>>;
}

/** What `harness doctor` / `harness devices` print about a kind on this machine. */
export interface DeviceKindFinding {
  area: string;
  ok: boolean;
  detail: string;
  fix?: string;
  required?: boolean;
}

/** A device of a kind found attached to this machine (`harness devices`). */
export interface AttachedDevice {
  kind: DeviceKindName;
  /** adb serial, simulator UDID, BLE address. */
  id: string;
  name?: string;
  /** adb's state, the simulator's, or "advertising" for a BLE watch seen in the scan. */
  state: string;
  /** What found it: "adb", "xcrun simctl", "BLE scan". */
  via: string;
  detail?: string;
}

/** A file for one record, handed to a device's upload queue (RFC 2.2.6): a FIT for an activity. */
export interface FileAttachment {
  table: TableName;
  recordId: string;
  bytes: Uint8Array;
  fileName: string;
  contentType: string;
}

/** The device a paired device (a watch) reaches the server through, as the runner records it. */
export interface PairPeer {
  readonly id: string;
  /** The peer's data folder (where its app keeps files). */
  readonly dataDir: string;
  create(table: TableName, values: Omit<SyncRecord, 'id'>, id?: string): Promise<string>;
  sync(trigger?: SyncTrigger): Promise<SyncOutcome>;
  /**
   * Queues a file in the peer's persisted upload queue (RFC 2.2.6); resolves once it is persisted,
   * not uploaded. Absent when the peer's driver has no upload queue the harness can reach (a Detox
   * app: its queue lives in the app, and the test bridge has no file command).
   */
  attachFile?(file: FileAttachment): Promise<void>;
  /** The peer's own database (what its app builds the watch's context pack from). */
  snapshot(): Promise<TableRecords>;
  /** The peer's clock (skew included). */
  now(): number;
}

export interface PairContext {
  /** Id of the device being paired. */
  readonly id: string;
  readonly peer: PairPeer;
  /** Add a non-operation event to the run's history (e.g. a BLE transfer). */
  event(e: { f: OpFunction; device: string; table?: TableName; id?: string; extra?: Record<string, unknown> }): void;
}

/**
 * A device kind plugin: everything the harness knows about one kind lives in its folder.
 * `create` imports the driver lazily, so a machine without Chromium still runs phone scenarios.
 */
export interface DeviceKind<K extends DeviceKindName = DeviceKindName> {
  readonly kind: K;
  readonly platform: Platform;
  /** One line for `harness devices`. */
  readonly summary: string;
  /**
   * 'contract': the device speaks the sync contract itself; its final state is checked against the
   * server's. 'paired': it reaches the server through the device named by `pairedWith` (a watch),
   * so its own operations stay in the history but are not contract operations.
   */
  readonly talks: 'contract' | 'paired';
  /**
   * Clock skew: 'clock' when every timestamp the device writes comes from the run's device clock
   * (the skew fault shifts that clock and tells the driver through `setClockOffset`); 'none' when
   * the kind has no wall clock of its own to skew.
   */
  readonly clockSkew: 'clock' | 'none';
  /** Radios the energy model can charge for this kind (a spec's `radio` must be one); the first is the default. */
  readonly radios?: readonly RadioKind[];
  /** The platform of one device when it depends on run options (a detox app on an iOS simulator); default `platform`. */
  platformOf?(spec: DeviceSpec, opts: DeviceCreateOptions): Platform;
  /** Kind-specific checks of a scenario's spec; return the problem (with the field name) or undefined. */
  validate?(id: string, spec: DeviceSpec, all: Record<string, DeviceSpec>): string | undefined;
  create(id: string, spec: DeviceSpec, opts: DeviceCreateOptions): Promise<DeviceDrivers[K] & Device>;
  /**
   * Why this machine cannot run the device (no Detox, no emulator, no Bluetooth adapter), or
   * undefined. A reason makes the scenario `skipped` with it, before anything starts: never passed.
   */
  unavailable?(id: string, spec: DeviceSpec, opts: DeviceCreateOptions): Promise<string | undefined>;
  /** Wire a 'paired' device to its peer once every device has started. */
  pair?(device: DeviceDrivers[K] & Device, ctx: PairContext): void;
  /**
   * Once per scenario, before its devices of this kind are created: seed what the kind's devices
   * share (the virtual radio's draws), so a replay with the same seed repeats them.
   */
  beginScenario?(ctx: { seed: number }): Promise<void>;
  /** Release what devices of this kind share across a run (a browser, the radio medium). */
  shutdown?(): Promise<void>;
  /**
   * Real devices of this kind attached now (adb, simulators, a BLE scan of `scanMs`), and notes on
   * what could not be looked at (a tool or adapter absent). Never throws for a missing tool.
   */
  attached?(o: { scanMs: number }): Promise<{ devices: AttachedDevice[]; notes: string[] }>;
  /** Whether this machine can run the kind, for `harness doctor` and `harness devices`. */
  doctor?(): Promise<DeviceKindFinding[]>;
}

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

/** One retry a sync made: why, and how long it waited (the RFC backoff, or the server's Retry-After when longer). */
export interface RetryRecord {
  attempt: number;
  status?: number;
  code?: string;
  /** Run-clock ms waited before the next attempt. */
  waitMs: number;
  /** What the server's Retry-After asked for, in ms. */
  retryAfterMs?: number;
}

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
  /** Each retry: the status it answered, the wait (kinds that record them: phone, vu, web). */
  retries?: RetryRecord[];
  /** The server demanded a full re-sync (410 SYNC_ERR_RESYNC_REQUIRED) and this sync did one. */
  fullResync?: boolean;
  /** Tables the sync covered: 'all', or a subset (RFC 2.6 triggers, pull-only) that leaves the all-tables stamp alone. */
  scope?: 'all' | TableName[];
  /** Contract pushes the sync's push took (more than 1 when split under the body limit or pushBatchBytes). */
  pushBatches?: number;
  /** Requests re-sent with a fresh token after a 401 (the token expired mid-sync, RFC §5.1). */
  tokenRefreshes?: number;
  /** True when the outcome of the push is unknown (timeout, connection cut after sending). */
  indeterminate?: boolean;
  error?: string;
  /** The server timestamp the device will send as lastPulledAt next time. */
  lastPulledAt?: number;
}

/**
 * A device's energy over the run: the radio/CPU model's estimate (every kind), and beside it what
 * real hardware measured when there is some (Android batterystats, a watch's Battery Service).
 */
export interface EnergyReading {
  /** 'modelled' from a radio/CPU model; 'measured' only inside `measured`. */
  source: 'modelled' | 'measured';
  joules: number;
  batteryPct: number;
  /** The radio the model charged. */
  radio?: RadioKind;
  /** Device-clock ms the reading covers (first sync or start to the end of the last tail), for per-day figures. */
  spanMs?: number;
  /** Free-form breakdown (radio, cpu, awake time…) for the report. */
  details?: Record<string, number>;
  /** A real battery reading over the same run, when the hardware gives one. */
  measured?: MeasuredEnergy;
}

export interface MeasuredEnergy {
  source: 'measured';
  joules: number;
  batteryPct: number;
  details?: Record<string, number>;
}

export interface DeviceContext {
  userId: string;
  deviceId: string;
  platform: Platform;
  /** Base URL of the sync server as this device must reach it (its own fault proxy). */
  serverUrl: string;
  /**
   * The device's JWT, cached until it expires; `{ refresh: true }` after a 401 gets a new one (RFC 5.1
   * "token refresh during long syncs").
   */
  getToken(o?: { refresh?: boolean }): Promise<string>;
  schemaVersion: SchemaVersion;
  clock: Clock;
  /** A folder the device may persist into (survives appKill / reboot). */
  dataDir: string;
  log(line: string): void;
}

export interface Device {
  readonly id: string;
  readonly kind: DeviceKindName;
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
  /**
   * The app process frozen (SIGSTOP-like: no timers, no I/O handled, sockets left open) and thawed
   * (pause fault). Operations called meanwhile wait for resume().
   */
  pause?(): Promise<void>;
  resume?(): Promise<void>;
  /**
   * Power loss without fsync (lostLocalWrites fault): the app dies and its local database loses the
   * writes committed in the last `lostMs` wall ms; restart() boots from what survived.
   */
  powerLoss?(lostMs: number): Promise<PowerLossReport>;
  /** App to the background (home button) and back (appBackground fault): Detox phones, and the simulated phone (events stream closed, background fetch only). */
  background?(): Promise<void>;
  foreground?(): Promise<void>;
  /** Device-level offline (e.g. the browser's own offline mode), on top of the proxy the harness cuts. */
  setOffline?(offline: boolean): Promise<void>;
  memoryBytes?(): Promise<number>;
  /** A BLE link the nemesis can disturb (bleOutOfRange, bleDisconnect): watches. */
  readonly radioLink?: RadioLinkControl;
  /** Devices with a file upload queue (RFC 2.2.6): queue a file (persisted when it resolves), wait until it is drained or failed, and its state. */
  attachFile?(file: FileAttachment): Promise<unknown>;
  /** false: attachFile exists but what runs behind it has no upload queue now (a bridged app without the `uploads` capability). */
  attachesFiles?(): boolean;
  uploadsSettled?(): Promise<void>;
  uploadSummary?(): UploadSummary | undefined;
}

/** What a power loss rolled back. */
export interface PowerLossReport {
  /** Commits younger than this many wall ms before the loss are gone (at least the `lostMs` asked for). */
  lostWallMs: number;
  /** Bytes of the write-ahead log that never reached the disk. */
  lostLogBytes: number;
}

export interface RadioLinkControl {
  setInRange(inRange: boolean): void;
  /** Drop the link now, or after `afterBytes` more bytes on the air. */
  disconnect(opts?: { afterBytes?: number }): void;
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
