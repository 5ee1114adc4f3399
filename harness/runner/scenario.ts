/**
 * `defineScenario` and the types scenario files use. A scenario declares its devices, a workload
 * (scripted steps, a seeded random generator, or both), faults, checks and thresholds.
 */
import type { Clock } from '../../protocol/clock';
import type {
  Device,
  DeviceDrivers,
  DeviceKindName,
  DeviceSpec,
  SyncOutcome,
  SyncTrigger,
} from '../../protocol/device';
import type { SyncRecord, TableRecords } from '../../protocol/records';
import type { SchemaVersion, TableName } from '../../protocol/tables';
import type { Violation } from '../checkers/types';
import type { ServerAdmin } from '../faults/plugin';
import type { FaultPlan, FaultSpec } from '../faults/types';
import type { ExportedSeries } from '../metrics/registry';
import type { ObjectStoreView } from '../services/object-store/index';
import type { ProbeClient } from '../target/probe-client';
import type { Capabilities, CapabilityName, ParamPlace } from '../target/types';
import type { Rng } from './rng';

export type { DeviceSpec } from '../../protocol/device';

export interface RandomWorkload {
  /** Operations per device. */
  opsPerDevice: number;
  tables?: Partial<Record<TableName, number>>;
  /** Weights of create/update/delete (updates and deletes pick existing ids, shared across devices of a user). */
  mix?: { create?: number; update?: number; delete?: number };
  /** Probability that an operation is followed by a sync. */
  syncProbability?: number;
  /** Simulated ms between a device's operations, [min, max]. */
  thinkMs?: [number, number];
  devices?: string[];
}

export interface DeviceHandle {
  readonly id: string;
  readonly kind: DeviceKindName;
  readonly user: string;
  create(table: TableName, values: Omit<SyncRecord, 'id'>, id?: string): Promise<string>;
  update(table: TableName, id: string, values: Omit<SyncRecord, 'id'>): Promise<void>;
  delete(table: TableName, id: string): Promise<void>;
  /** Records the sync in the history; never throws for a failed sync (see the outcome). */
  sync(trigger?: SyncTrigger): Promise<SyncOutcome>;
  snapshot(): Promise<TableRecords>;
  pending(): Promise<number>;
  /** Device clock now (with skew). */
  now(): number;
  /** Kill the app (worker / browser) abruptly, then start it again from its persisted store; recorded in the history. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** The driver itself, for kind-specific actions (web: closeTab, dispatchBackgroundSync…). Not recorded. */
  readonly raw: Device;
  /**
   * The driver as its kind's class, checked: `watch.driver('watch')` is a WatchDevice, and a
   * scenario error when the device is of another kind. Use this instead of casting `raw`.
   */
  driver<K extends DeviceKindName>(kind: K): DeviceDrivers[K];
}

export interface NemesisHandle {
  start(f: FaultSpec): Promise<{ stop(): Promise<void> }>;
  /** Start, hold for `durationMs` (simulated), heal. Without a duration the fault stays until heal(). */
  inject(f: FaultSpec, durationMs?: number): Promise<void>;
  heal(): Promise<void>;
  active(): string[];
}

export interface ScenarioContext {
  devices: Record<string, DeviceHandle>;
  device(id: string): DeviceHandle;
  nemesis: NemesisHandle;
  rng: Rng;
  clock: Clock;
  seed: number;
  /** The sync server as the harness reaches it directly (no proxy): for load generators. */
  serverUrl: string;
  /** The object store FIT uploads land in (absent with --target): every object with size and sha256. */
  objectStore?: ObjectStoreView;
  /** The reference server's operator routes (absent with --target): resets, the GDPR sync-history export. */
  admin?: ServerAdmin;
  sleep(ms: number): Promise<void>;
  /** Run the seeded random workload on the given devices concurrently. */
  random(w: RandomWorkload): Promise<void>;
  /** A scenario-level assertion, reported as the check "scenario-assertions". */
  expect(condition: boolean, message: string): void;
  note(message: string): void;
  /** Record a custom metric sample (trend), e.g. a transfer time. */
  metric(name: string, value: number, tags?: Record<string, string>): void;
  /**
   * Add whole metric series recorded elsewhere (the load generator's histograms, Metrics.exportSeries):
   * thresholds then judge every sample, not a percentile computed somewhere else.
   */
  mergeMetrics(series: readonly ExportedSeries[]): void;
  /** The reference server's process id when it runs as a child process (`server.process: 'child'`): its CPU and RSS can be sampled. */
  serverPid?(): number | undefined;
  /** The postmaster of the scenario's PostgreSQL when it runs on this machine: it and its backends (children) are the database's CPU. */
  postgresPid?(): number | undefined;
  /** Deterministic record id. */
  id(prefix?: string): string;
  /** The tables the server serves: all six for the reference server, the adapter's with --target. */
  tables: TableName[];
  /** With --target: which server, through which adapter, and what it can do. */
  target?: {
    url: string;
    adapter: string;
    capabilities: Capabilities;
    /** Where the target takes a push's lastPulledAt: only in a JSON body can it have a wrong type. */
    pushLastPulledAtIn: ParamPlace;
  };
  /**
   * A bare contract client of `user` (probes: one request at a time, no local state), each exchange
   * recorded in the history. `name` tells clients of one user apart (it becomes their device id).
   */
  client(user: string, name: string): ProbeClient;
  /**
   * A named check decided by the scenario itself (a probe's finding): it fails with these
   * violations, passes with none. Calls with the same name add up.
   */
  check(name: string, description: string, violations?: Violation[]): void;
}

/**
 * One step of a recorded scenario (from `harness shrink`, or written by hand): what a device did, or
 * a fault, at `at` ms (simulated) after the workload started. Steps of different devices run
 * concurrently, each device's in order, so races recorded in a history are kept.
 */
export type RecordedStep =
  | {
      at: number;
      device: string;
      op: 'create' | 'update';
      table: TableName;
      id: string;
      values: Omit<SyncRecord, 'id'>;
    }
  | { at: number; device: string; op: 'delete'; table: TableName; id: string }
  | { at: number; device: string; op: 'sync'; trigger?: SyncTrigger }
  | { at: number; op: 'fault'; fault: FaultSpec; duration?: number };

/**
 * A declarative load profile (ScenarioDefinition.load): what `harness export k6` turns into k6
 * executors; the scenario's workload may pass the same numbers to runLoad (harness/load).
 */
export interface LoadProfile {
  /** Users; each runs `devicesPerUser` devices, one k6 VU per device. */
  users: number;
  devicesPerUser?: number;
  /** Wall ms of the constant-VU phase when no `stages` are given. */
  durationMs?: number;
  /** k6 ramping stages (VU targets over wall ms); overrides durationMs. */
  stages?: Array<{ durationMs: number; target: number }>;
  /** Open model: start this many syncs per second whatever the latency (k6 constant-arrival-rate). */
  arrivalRatePerSec?: number;
  /** Local writes per sync (default 3). */
  writesPerSync?: number;
  /** Pause between one VU's syncs (wall ms, default 0). */
  thinkTimeMs?: number;
  schemaVersion?: SchemaVersion;
}

export interface ScenarioDefinition {
  name: string;
  title?: string;
  tags?: string[];
  devices: Record<string, DeviceSpec>;
  /** Scripted steps; may call ctx.random() for generated parts. */
  workload?: (ctx: ScenarioContext) => Promise<void>;
  /** Shorthand for a purely generated workload. */
  random?: RandomWorkload;
  /** A recorded workload (see RecordedStep). */
  steps?: RecordedStep[];
  faults?: FaultPlan;
  /** Protocol-level load this scenario drives, declared for exporters (`harness export k6`). */
  load?: LoadProfile;
  /** Checker names; default: every checker. */
  checks?: string[];
  thresholds?: Record<string, string[]>;
  /**
   * RFC §5.3 alerts (harness/metrics/alerts.ts) this scenario proves fire, or stay quiet; checked as
   * `alert-expectations`. Without it alerts are only reported.
   */
  expectAlerts?: { fired?: string[]; quiet?: string[] };
  timeoutMs?: number;
  /** Time scale for this scenario's waits (backoff, background fetch, faults) unless --time-scale is given. */
  timeScale?: number;
  /** Server options this scenario needs (`child` to allow serverCrash; broken modes for checker self-tests). */
  server?: {
    process?: 'in-process' | 'child';
    broken?: string[];
    /** Reference-server processes behind a round-robin front (default 1; `--server-instances` overrides). */
    instances?: number;
  };
  /**
   * What the scenario needs of a target (with --target; the reference server has everything):
   * tables it writes (default all six; `'any'` when it uses only `ctx.tables`) and capabilities. A
   * target lacking one makes the scenario `skipped`, with the reason.
   */
  requires?: {
    tables?: TableName[] | 'any';
    capabilities?: CapabilityName[];
    /** It calls the reference server's operator routes (ctx.admin), which a target has not. */
    admin?: boolean;
  };
  /** What a passing run looks like: 'pass' (default) or 'fail' for scenarios proving a checker catches a bug. */
  expect?: 'pass' | 'fail';
}

export function defineScenario(def: ScenarioDefinition): ScenarioDefinition {
  return def;
}
