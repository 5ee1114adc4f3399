/**
 * The six synced tables of sync-contract.md, with their column types and the schema version that
 * introduced each column. This file is the single source of truth: the server's migrations, the
 * WatermelonDB schema of the simulated phone, the Dexie schema of the web client and the validators
 * are all derived from it.
 */

export type ColumnType = 'number' | 'string';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  /** First schema version that has this column. */
  readonly since: SchemaVersion;
}

export type SchemaVersion = 1 | 2;
export const CURRENT_SCHEMA_VERSION: SchemaVersion = 2;
/** RFC 3.3: the server supports N and N-1. */
export const SUPPORTED_SCHEMA_VERSIONS: readonly SchemaVersion[] = [1, 2];

export type ConflictStrategy =
  | 'client_wins'
  | 'server_wins'
  | 'merge_subjective'
  | 'merge_non_null'
  | 'last_write_wins';

export const TABLE_NAMES = [
  'users',
  'activities',
  'training_plans',
  'scheduled_workouts',
  'daily_metrics',
  'goals',
] as const;
export type TableName = (typeof TABLE_NAMES)[number];

export interface TableSpec {
  readonly name: TableName;
  readonly columns: readonly ColumnSpec[];
  readonly strategy: ConflictStrategy;
}

const n = (name: string, since: SchemaVersion = 1): ColumnSpec => ({ name, type: 'number', since });
const s = (name: string, since: SchemaVersion = 1): ColumnSpec => ({ name, type: 'string', since });

export const TABLES: Readonly<Record<TableName, TableSpec>> = {
  users: {
    name: 'users',
    strategy: 'client_wins',
    columns: [
      s('name'),
      s('email'),
      n('max_hr'),
      n('resting_hr'),
      s('hr_zones'),
      s('pace_zones'),
      s('units'),
      n('updated_at'),
    ],
  },
  activities: {
    name: 'activities',
    strategy: 'merge_subjective',
    columns: [
      s('sport'),
      n('started_at'),
      n('duration_s'),
      n('distance_m'),
      n('avg_hr'),
      n('max_hr'),
      n('calories'),
      n('elevation_gain_m'),
      s('fit_file_key'),
      s('source_device'),
      n('rpe'),
      s('notes'),
      s('feeling', 2),
      n('updated_at'),
    ],
  },
  training_plans: {
    name: 'training_plans',
    strategy: 'server_wins',
    columns: [s('name'), n('goal_date'), n('weeks'), s('status'), s('engine_version'), n('updated_at')],
  },
  scheduled_workouts: {
    name: 'scheduled_workouts',
    strategy: 'server_wins',
    columns: [
      s('plan_id'),
      s('date'),
      s('sport'),
      s('title'),
      s('description'),
      n('target_duration_s'),
      n('target_distance_m'),
      s('intensity'),
      s('completed_activity_id'),
      n('updated_at'),
    ],
  },
  daily_metrics: {
    name: 'daily_metrics',
    strategy: 'merge_non_null',
    columns: [
      s('date'),
      n('resting_hr'),
      n('hrv_ms'),
      n('sleep_s'),
      n('weight_kg'),
      n('readiness'),
      n('soreness'),
      s('mood', 2),
      n('steps'),
      n('updated_at'),
    ],
  },
  goals: {
    name: 'goals',
    strategy: 'last_write_wins',
    columns: [s('kind'), s('title'), n('target_value'), n('target_date'), s('status'), n('updated_at')],
  },
};

/** Subjective, user-entered columns of `activities` that the client owns under the merge strategy. */
export const ACTIVITY_SUBJECTIVE_COLUMNS = ['rpe', 'notes', 'feeling'] as const;

export function isTableName(name: string): name is TableName {
  return (TABLE_NAMES as readonly string[]).includes(name);
}

export function isSupportedSchemaVersion(v: number): v is SchemaVersion {
  return (SUPPORTED_SCHEMA_VERSIONS as readonly number[]).includes(v);
}

/** Columns (besides `id`) a client of `version` knows about. */
export function columnsFor(table: TableName, version: SchemaVersion = CURRENT_SCHEMA_VERSION): readonly ColumnSpec[] {
  return TABLES[table].columns.filter((c) => c.since <= version);
}

export function columnNames(table: TableName, version: SchemaVersion = CURRENT_SCHEMA_VERSION): string[] {
  return columnsFor(table, version).map((c) => c.name);
}

export function columnSpec(table: TableName, column: string): ColumnSpec | undefined {
  return TABLES[table].columns.find((c) => c.name === column);
}
