/**
 * The contract's tables, column types and per-table conflict rules (sync-contract.md, "Tables"), written from the
 * contract text alone. Column names here are the contract's snake_case names; a wire that renames them maps at
 * its edge.
 */
export type ColumnType = 'number' | 'string';

export type Strategy = 'client_wins' | 'merge_subjective' | 'server_wins' | 'merge_non_null' | 'last_write_wins';

export type Resolution = 'server_wins' | 'client_wins' | 'merged';

export interface TableDef {
  columns: Record<string, ColumnType>;
  /** Columns that schema version 1 does not have. */
  v2: readonly string[];
  strategy: Strategy;
}

/** A row or pushed record: `id` plus columns. A pushed record may omit columns (they stay as they are). */
export type Row = Record<string, string | number | null>;

const n: ColumnType = 'number';
const s: ColumnType = 'string';

export const TABLES: Record<string, TableDef> = {
  users: {
    columns: {
      name: s,
      email: s,
      max_hr: n,
      resting_hr: n,
      hr_zones: s,
      pace_zones: s,
      units: s,
      updated_at: n,
    },
    v2: [],
    strategy: 'client_wins',
  },
  activities: {
    columns: {
      sport: s,
      started_at: n,
      duration_s: n,
      distance_m: n,
      avg_hr: n,
      max_hr: n,
      calories: n,
      elevation_gain_m: n,
      fit_file_key: s,
      source_device: s,
      rpe: n,
      notes: s,
      feeling: s,
      updated_at: n,
    },
    v2: ['feeling'],
    strategy: 'merge_subjective',
  },
  training_plans: {
    columns: { name: s, goal_date: n, weeks: n, status: s, engine_version: s, updated_at: n },
    v2: [],
    strategy: 'server_wins',
  },
  scheduled_workouts: {
    columns: {
      plan_id: s,
      date: s,
      sport: s,
      title: s,
      description: s,
      target_duration_s: n,
      target_distance_m: n,
      intensity: s,
      completed_activity_id: s,
      updated_at: n,
    },
    v2: [],
    strategy: 'server_wins',
  },
  daily_metrics: {
    columns: {
      date: s,
      resting_hr: n,
      hrv_ms: n,
      sleep_s: n,
      weight_kg: n,
      readiness: n,
      soreness: n,
      mood: s,
      steps: n,
      updated_at: n,
    },
    v2: ['mood'],
    strategy: 'merge_non_null',
  },
  goals: {
    columns: { kind: s, title: s, target_value: n, target_date: n, status: s, updated_at: n },
    v2: [],
    strategy: 'last_write_wins',
  },
};

export const ALL_TABLES = Object.keys(TABLES);

export const SCHEMA_VERSIONS = [1, 2] as const;
export type SchemaVersion = (typeof SCHEMA_VERSIONS)[number];

/** The columns (besides `id`) a client of `version` knows. */
export function columnsFor(table: string, version: SchemaVersion): string[] {
  const def = TABLES[table];
  return Object.keys(def.columns).filter((c) => version === 2 || !def.v2.includes(c));
}

/** What a client of `version` may see of a stored row: v1 never receives v2 columns. */
export function viewFor(table: string, row: Row, version: SchemaVersion): Row {
  if (version === 2) return { ...row };
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) if (!TABLES[table].v2.includes(k)) out[k] = v;
  return out;
}

/** Subjective activity columns: the athlete's own entries, which the client owns in a merge. */
const SUBJECTIVE = ['rpe', 'notes', 'feeling'];

/**
 * Resolves a pushed record against a server row changed since the pusher last pulled. `client` holds only the
 * columns the client sent, so columns it does not know (a v1 client's v2 columns) keep the server's value.
 */
export function resolveConflict(table: string, client: Row, server: Row): { resolved: Row; resolution: Resolution } {
  switch (TABLES[table].strategy) {
    case 'client_wins':
      return { resolved: { ...server, ...client }, resolution: 'client_wins' };
    case 'server_wins':
      return { resolved: { ...server }, resolution: 'server_wins' };
    case 'merge_subjective': {
      const resolved = { ...server };
      for (const c of SUBJECTIVE) if (client[c] !== undefined && client[c] !== null) resolved[c] = client[c];
      return { resolved, resolution: 'merged' };
    }
    case 'merge_non_null': {
      const resolved = { ...server };
      for (const [k, v] of Object.entries(client)) if (v !== null) resolved[k] = v;
      return { resolved, resolution: 'merged' };
    }
    case 'last_write_wins': {
      // A missing or null updated_at is older than any time; a tie goes to the server.
      const c = typeof client.updated_at === 'number' ? client.updated_at : Number.NEGATIVE_INFINITY;
      const sv = typeof server.updated_at === 'number' ? server.updated_at : Number.NEGATIVE_INFINITY;
      return c > sv
        ? { resolved: { ...server, ...client }, resolution: 'client_wins' }
        : { resolved: { ...server }, resolution: 'server_wins' };
    }
  }
}
