/**
 * The operation history (Jepsen): each operation is recorded once as `invoke` and once more with
 * its outcome. `ok` happened, `fail` did not happen, `info` unknown (timeout, connection cut).
 * Data loss is counted only against `ok` writes.
 */

import type { SyncTrigger } from './device';
import type { ConflictRecord, SyncRecord } from './records';
import type { TableName } from './tables';

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

export type OpFunction =
  | 'create'
  | 'update'
  | 'delete'
  | 'sync'
  | 'fault-start'
  | 'fault-stop'
  | 'watch-transfer'
  | 'file-upload'
  | 'check';

export interface HistoryOp {
  /** Position in the history (0-based, increasing). */
  index: number;
  /** Pairs an invoke with its completion. */
  process: string;
  opId: number;
  type: OpType;
  f: OpFunction;
  device?: string;
  user?: string;
  table?: TableName;
  id?: string;
  values?: Omit<SyncRecord, 'id'>;
  trigger?: SyncTrigger;
  /** Milliseconds since the run started (wall). */
  time: number;
  /** For completions: duration of the operation in ms. */
  latencyMs?: number;
  /** Device clock's now() when the write was made (what updated_at carries). */
  deviceTime?: number;
  conflicts?: ConflictRecord[];
  pulled?: number;
  pushed?: number;
  bytesUp?: number;
  bytesDown?: number;
  error?: string;
  /** Fault name and parameters, for fault-start / fault-stop. */
  fault?: { name: string; targets?: string[]; params?: Record<string, unknown> };
  /** Free-form extras (transfer profile, file sha256…). */
  extra?: Record<string, unknown>;
}
