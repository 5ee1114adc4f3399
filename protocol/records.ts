import type { TableName } from './tables';

/** A synced row as it travels over the wire: flat, `id` a string, numbers, strings or null. */
export type Value = string | number | null;
export interface SyncRecord {
  id: string;
  [column: string]: Value;
}

export interface TableChanges {
  created: SyncRecord[];
  updated: SyncRecord[];
  deleted: string[];
}

export type DatabaseChanges = Partial<Record<TableName, TableChanges>>;

export type TableRecords = Record<TableName, SyncRecord[]>;

export interface PullResponse {
  changes: DatabaseChanges;
  timestamp: number;
}

/** RFC 0006 §5.2: a request body over 10 MB (after inflating) is refused with 413; a client splits its push below it. */
export const SYNC_BODY_LIMIT_BYTES = 10 * 1024 * 1024;
/** Bodies over 10 KB travel gzip-compressed, both ways. */
export const SYNC_COMPRESS_THRESHOLD_BYTES = 10 * 1024;

export interface PushRequest {
  changes: DatabaseChanges;
  lastPulledAt: number;
  deviceId: string;
  /** Idempotency key: a retried push with the same id returns the first response. */
  pushId?: string;
}

export type Resolution = 'server_wins' | 'client_wins' | 'merged';

export interface ConflictRecord {
  tableName: TableName;
  id: string;
  clientRecord: SyncRecord;
  serverRecord: SyncRecord;
  resolution: Resolution;
  resolvedRecord: SyncRecord;
}

export interface PushResponse {
  success: true;
  conflictedRecords: ConflictRecord[];
  timestamp: number;
}

export type Platform = 'IOS' | 'ANDROID' | 'WEB' | 'WATCH_APPLE' | 'WATCH_GARMIN';
export const PLATFORMS: readonly Platform[] = ['IOS', 'ANDROID', 'WEB', 'WATCH_APPLE', 'WATCH_GARMIN'];

/** The poke sent on the events stream after a committed push. */
export interface Poke {
  tables: TableName[];
  timestamp: number;
  /** The device whose push caused the poke, so it can ignore its own. */
  sourceDeviceId: string;
}

export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function emptyTableChanges(): TableChanges {
  return { created: [], updated: [], deleted: [] };
}
