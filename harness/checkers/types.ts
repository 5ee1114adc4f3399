import type { HistoryOp } from '../../protocol/history';
import type { TableRecords } from '../../protocol/records';
import type { SchemaVersion } from '../../protocol/tables';
import type { CheckResult } from '../results/types';

export interface DeviceFinalState {
  id: string;
  user: string;
  /** What the device believes after heal + quiescence (non-deleted rows per table). */
  snapshot: Partial<TableRecords>;
  /** Local changes not yet acknowledged by the server ("upload queue"). */
  pendingChanges: number;
  schemaVersion: SchemaVersion;
}

/** One row of the server's sync_log (sync-contract.md "SyncState and SyncLog"). */
export interface ServerLogRow {
  deviceId: string;
  operation: 'PULL' | 'PUSH' | 'CONFLICT_RESOLVED' | 'FULL_SYNC' | string;
  tableName?: string | null;
  recordCount: number;
  success: boolean;
}

export interface CheckInput {
  history: readonly HistoryOp[];
  /** Final server state per user, read through the contract (a full pull per user). */
  serverState: Record<string, Partial<TableRecords>>;
  devices: readonly DeviceFinalState[];
  serverLog?: readonly ServerLogRow[];
  /**
   * The server answers every push with the conflicts it resolved (the reference server, or a target
   * whose adapter reads them). Then a push answered without a conflict for a record was applied as
   * sent, which lost-writes uses; unknown (undefined) means nothing is concluded from silence.
   */
  conflictsReported?: boolean;
}

export interface CheckOptions {
  /** Stop listing violations after this many per checker (the count in the summary stays exact). Default 1000. */
  maxViolations?: number;
  /** Columns the conflict-rules checker does not compare (the server may restamp them). Default ['updated_at']. */
  conflictIgnoreColumns?: readonly string[];
}

export interface Checker {
  name: string;
  /** One line for `harness list --checkers` and reports. */
  description: string;
  check(input: CheckInput, opts?: CheckOptions): CheckResult;
}

export type Violation = CheckResult['violations'][number];
