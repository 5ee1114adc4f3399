/**
 * A target adapter: how one team's sync server differs, on the wire, from sync-contract.md. The
 * harness's devices always speak the contract; the adapter gateway (gateway.ts) translates each
 * request and answer through this declaration, so an adapter file is all it takes to test a server of
 * another shape. Everything is optional: an empty adapter is the contract itself.
 */
import type { Platform } from '../../protocol/records';
import type { TableName } from '../../protocol/tables';

/** Where a parameter travels; `omit` means the target does not take it. */
export type ParamPlace = 'query' | 'body' | 'header' | 'omit';
export interface ParamSpec {
  in: ParamPlace;
  /** The name on the target's wire (default: the contract's name). */
  name?: string;
}

export interface PullSpec {
  method?: 'GET' | 'POST';
  path?: string;
  lastPulledAt?: ParamSpec;
  schemaVersion?: ParamSpec;
  deviceId?: ParamSpec;
  /** The table subset (`tables=a,b`); `omit` when the target always answers every table. */
  tables?: ParamSpec;
  /** How the first pull (no lastPulledAt yet) is sent: `0` (contract), the string `null` (WatermelonDB docs), or no parameter. */
  firstPull?: 'zero' | 'null' | 'absent';
  /** Field of the answer holding the stamp to send next time (contract: `timestamp`). */
  timestampField?: string;
  /** Field of the answer holding the changes (contract: `changes`). */
  changesField?: string;
  okStatus?: number[];
}

export interface PushSpec {
  method?: 'POST' | 'PUT';
  path?: string;
  lastPulledAt?: ParamSpec;
  schemaVersion?: ParamSpec;
  deviceId?: ParamSpec;
  pushId?: ParamSpec;
  /** `envelope`: `{ changes, lastPulledAt, … }` (contract); `changes`: the body is the changes object itself (WatermelonDB docs). */
  body?: 'envelope' | 'changes';
  okStatus?: number[];
  /** Field of the answer with conflicts in the contract's ConflictRecord shape (default `conflictedRecords`); `null`: not reported. */
  conflictsField?: string | null;
  /** Field of the answer with a stamp (default `timestamp`); `null`: the answer has none. */
  timestampField?: string | null;
  /**
   * WatermelonDB sends `_status`/`_changed` with every pushed row. The contract's records do not have
   * them, so by default (`strip`) they never reach a target; `keep` for a server that wants raw records.
   */
  bookkeeping?: 'keep' | 'strip';
}

export interface AuthContext {
  userId: string;
  deviceId: string;
  platform: Platform;
}

export type AuthSpec =
  /** The contract's `POST /auth/test-token` (a test-mode server mints tokens per user and device). */
  | { kind: 'test-token'; path?: string }
  /** No authentication: every request is the same user, so cross-user checks are skipped. */
  | { kind: 'none' }
  /** One static bearer token (one user). `$NAME` reads an environment variable. */
  | { kind: 'bearer'; token: string }
  /** A login request per user and device; the token is read from `tokenField` (a dot path) of its JSON answer. */
  | {
      kind: 'login';
      method?: 'POST' | 'GET';
      path: string;
      body: (ctx: AuthContext) => unknown;
      tokenField: string;
    }
  /** A shell command printing the token; it sees HARNESS_USER_ID, HARNESS_DEVICE_ID, HARNESS_PLATFORM. */
  | { kind: 'command'; command: string };

/** Column names between the contract and the target: a built-in convention, an explicit map per table, or functions. */
export type ColumnMapping =
  | 'identity'
  | 'camelCase'
  | Partial<Record<TableName, Record<string, string>>>
  | { toTarget(table: TableName, column: string): string; fromTarget(table: TableName, column: string): string };

export interface Capabilities {
  /** The target applies pushed deletes. */
  deletes: boolean;
  /** The push answer lists the conflicts it resolved (push.conflictsField). */
  conflictsReported: boolean;
  /** Realtime pokes (`GET /sync/events`). */
  pokes: boolean;
  /** A re-sent push (same pushId) changes nothing. */
  idempotentPush: boolean;
  /** Schema versions it accepts. */
  schemaVersions: number[];
  /** Tokens per user, so one user's rows can be kept from another's (false with auth none/bearer). */
  multiUser: boolean;
  /** Presigned FIT uploads (`/files/upload-url`, `/files/complete`). */
  files: boolean;
}
export type CapabilityName = keyof Capabilities;

export interface TargetAdapter {
  /** Shown in reports and the reproduce line. */
  name: string;
  /** Health check path (contract: `/healthz`). */
  health?: { path?: string };
  /** Unit of the sync stamps (`lastPulledAt`, `timestamp`); record columns stay as the target stores them. */
  timeUnit?: 'ms' | 's';
  pull?: PullSpec;
  push?: PushSpec;
  auth?: AuthSpec;
  /** The contract tables the target serves (default: all six). Workloads use only these. */
  tables?: TableName[];
  /** Table names on the target's wire, where they differ. */
  tableNames?: Partial<Record<TableName, string>>;
  columns?: ColumnMapping;
  capabilities?: Partial<Capabilities>;
}

/** An adapter with every default filled in (resolveAdapter). */
export interface ResolvedAdapter {
  name: string;
  health: { path: string };
  timeUnit: 'ms' | 's';
  pull: Required<Omit<PullSpec, 'lastPulledAt' | 'schemaVersion' | 'deviceId' | 'tables'>> & {
    lastPulledAt: Required<ParamSpec>;
    schemaVersion: Required<ParamSpec>;
    deviceId: Required<ParamSpec>;
    tables: Required<ParamSpec>;
  };
  push: Required<
    Omit<PushSpec, 'lastPulledAt' | 'schemaVersion' | 'deviceId' | 'pushId' | 'conflictsField' | 'timestampField'>
  > & {
    lastPulledAt: Required<ParamSpec>;
    schemaVersion: Required<ParamSpec>;
    deviceId: Required<ParamSpec>;
    pushId: Required<ParamSpec>;
    conflictsField: string | null;
    timestampField: string | null;
  };
  auth: AuthSpec;
  tables: TableName[];
  tableNames: Partial<Record<TableName, string>>;
  columns: ColumnMapping;
  capabilities: Capabilities;
  /** True when every field is the contract's: the gateway only checks, never translates. */
  isContract: boolean;
}
