/**
 * A fault kind as a plugin (Jepsen's nemesis packages): its fields, the devices it touches, how it
 * is applied and healed, how the random nemesis draws one, and what it needs from the run.
 */
import type { Clock, SkewedClock } from '../../protocol/clock';
import type { Device, DeviceKind } from '../../protocol/device';
import type { Rng } from '../../protocol/rng';
import type { DeviceNetwork } from './network';
import type { FaultKind, FaultOf } from './types';

export interface ProcessControl {
  /** Kills the server, or only instance `instance` of a multi-instance server. */
  crash(instance?: number): Promise<void>;
  restart(instance?: number): Promise<void>;
  /** SIGSTOP the server process (or one instance), SIGCONT it: sockets stay open, nothing is answered. */
  pause?(instance?: number): Promise<void>;
  resume?(instance?: number): Promise<void>;
}
/** The reference server's operator routes (`/admin/*`, server/README.md), on every instance. */
export interface ServerAdmin {
  /** Sends the request to each server instance directly (no device proxy); the JSON answers in instance order. */
  request(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<unknown[]>;
  /** Forced full re-sync of a scenario device: the server forgets its sync state (POST /admin/devices/reset). */
  resetDevice(deviceId: string): Promise<void>;
  /** The GDPR export of a scenario user's sync history (GET /admin/users/:id/sync-history). */
  syncHistory(user: string): Promise<SyncHistoryExport>;
}

export interface SyncHistoryExport {
  userId: string;
  exportedAt: string;
  devices: Array<{ deviceId: string; platform: string | null; lastPulledAt: number; lastPushedAt: number | null }>;
  log: Array<{
    id: number;
    deviceId: string;
    operation: string;
    tableName: string | null;
    recordCount: number | null;
    success: boolean;
    error: string | null;
    timestamp: string;
    /** The request's trace id (x-trace-id, in every server log line of that request). */
    traceId: string | null;
  }>;
}
export interface DatabaseControl {
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
}

/**
 * What a fault may need from the run. The runner reads `needs` of every fault a scenario declares
 * (schedule, random kinds, recorded steps) before it starts the server: `childServer` starts the
 * server as a child process; `database` needs a PostgreSQL the harness controls; `dbProxy` puts a
 * proxy between the server and PostgreSQL; `admin` needs the reference server's operator routes.
 */
export type FaultNeed = 'childServer' | 'database' | 'dbProxy' | 'admin';

/** What a fault acts on; the nemesis builds it from the run. */
export interface FaultContext {
  clock: Clock;
  network(deviceId: string): DeviceNetwork;
  device(deviceId: string): Device;
  /** The device's kind plugin (what it supports, e.g. clock skew). */
  kind(deviceId: string): DeviceKind | undefined;
  /** The device's clock as the run gives it (what the recording handle stamps writes with). */
  deviceClock(deviceId: string): SkewedClock | undefined;
  deviceIds(): string[];
  server?: ProcessControl;
  database?: DatabaseControl;
  /** The proxy between the server and PostgreSQL (when a fault needs `dbProxy`). */
  dbProxy?: DeviceNetwork;
  /** The reference server's operator routes (absent with --target). */
  admin?: ServerAdmin;
}

/** Facts about an applied fault, recorded in its fault-start event's params. */
export type FaultDetails = Record<string, string | number | boolean>;

/** A field's rule; a string result is the problem (the caller prefixes the field's path). */
export type FieldRule = (value: unknown, devices: readonly string[]) => string | undefined;

export interface FaultPlugin<K extends FaultKind = FaultKind> {
  readonly kind: K;
  /** One line for the README's fault table. */
  readonly summary: string;
  /** Every field besides `kind`; a field not listed here is an error. */
  readonly fields: Record<string, FieldRule>;
  /** Devices the fault acts on (history, timeline, shrink and checkers see these). */
  targets(spec: FaultOf<K>): string[];
  /** Every device the fault names, when more than its targets (shrink keeps them all). */
  involves?(spec: FaultOf<K>): string[];
  readonly needs?: readonly FaultNeed[];
  /**
   * Applies the fault; what it returns is recorded with the fault-start event (e.g. how much a
   * power loss rolled back), so checkers can read what exactly happened.
   */
  apply(spec: FaultOf<K>, ctx: FaultContext): Promise<void | FaultDetails>;
  heal(spec: FaultOf<K>, ctx: FaultContext): Promise<void>;
  /** One fault for the random nemesis; `device` is drawn already. Absent: not drawable at random. */
  random?(rng: Rng, device: string, devices: readonly string[]): FaultOf<K> | undefined;
}

export function defineFault<K extends FaultKind>(p: FaultPlugin<K>): FaultPlugin<K> {
  return p;
}

// --- field rules (a missing required field is `undefined`: the rule says what it wants)

const optional =
  (rule: FieldRule): FieldRule =>
  (v, d) =>
    v === undefined ? undefined : rule(v, d);

export const field = {
  optional,
  device: ((v, devices) =>
    typeof v !== 'string'
      ? `must name a device, got ${JSON.stringify(v)}`
      : devices.includes(v)
        ? undefined
        : `names unknown device "${v}"; devices: ${devices.join(', ')}`) as FieldRule,
  number:
    (min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): FieldRule =>
    (v) =>
      typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max
        ? undefined
        : `must be a number${min > Number.NEGATIVE_INFINITY ? ` >= ${min}` : ''}${max < Number.POSITIVE_INFINITY ? ` and <= ${max}` : ''}, got ${JSON.stringify(v)}`,
  integer:
    (min = Number.MIN_SAFE_INTEGER): FieldRule =>
    (v) =>
      Number.isInteger(v) && (v as number) >= min
        ? undefined
        : `must be an integer >= ${min}, got ${JSON.stringify(v)}`,
  oneOf:
    (values: readonly string[]): FieldRule =>
    (v) =>
      typeof v === 'string' && values.includes(v)
        ? undefined
        : `must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`,
};
