/**
 * Realistic row shapes for load: every column of the table for the schema version, values of the
 * contract's types and plausible sizes (zones as JSON text, notes of a sentence or two).
 */
import { mulberry32 } from '../../protocol/random';
import type { SyncRecord, Value } from '../../protocol/records';
import { columnNames, type SchemaVersion, type TableName } from '../../protocol/tables';

/** Small deterministic PRNG (mulberry32) so a load run is reproducible from its seed. */
export function rng(seed: number) {
  const next = mulberry32(seed);
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
}
export type Rng = ReturnType<typeof rng>;

const SPORTS = ['run', 'ride', 'swim', 'strength', 'walk'] as const;
const WORDS = 'easy tempo legs heavy felt great windy hills recovery long steady negative split rain'.split(' ');
const sentence = (r: Rng, n: number) => Array.from({ length: n }, () => r.pick(WORDS)).join(' ');
const day = (t: number) => new Date(t).toISOString().slice(0, 10);

function value(table: TableName, col: string, r: Rng, now: number): Value {
  switch (col) {
    case 'updated_at':
      return now;
    case 'sport':
      return r.pick(SPORTS);
    case 'started_at':
      return now - r.int(0, 30) * 86_400_000;
    case 'duration_s':
      return r.int(600, 10_800);
    case 'distance_m':
      return r.int(1_000, 42_195);
    case 'avg_hr':
      return r.int(110, 165);
    case 'max_hr':
      return r.int(165, 200);
    case 'resting_hr':
      return r.int(40, 70);
    case 'calories':
      return r.int(100, 2_500);
    case 'elevation_gain_m':
      return r.int(0, 1_500);
    case 'fit_file_key':
      return `fit/${r.int(1, 1e9).toString(36)}.fit`;
    case 'source_device':
      return r.pick(['garmin-fr265', 'apple-watch-9', 'phone']);
    case 'rpe':
    case 'soreness':
      return r.int(1, 10);
    case 'readiness':
      return r.int(1, 100);
    case 'notes':
    case 'description':
      return sentence(r, r.int(4, 20));
    case 'feeling':
    case 'mood':
      return r.pick(['great', 'good', 'ok', 'tired', 'sore']);
    case 'hr_zones':
      return JSON.stringify([120, 140, 155, 170, 185].map((z) => z + r.int(-5, 5)));
    case 'pace_zones':
      return JSON.stringify([330, 300, 275, 255, 240].map((z) => z + r.int(-10, 10)));
    case 'units':
      return r.pick(['metric', 'imperial']);
    case 'name':
      return table === 'users' ? `Runner ${r.int(1, 9999)}` : `Plan ${sentence(r, 2)}`;
    case 'email':
      return `runner${r.int(1, 1e6)}@example.test`;
    case 'goal_date':
    case 'target_date':
      return now + r.int(7, 180) * 86_400_000;
    case 'weeks':
      return r.int(4, 24);
    case 'status':
      return r.pick(['active', 'done', 'paused']);
    case 'engine_version':
      return `brain-${r.int(1, 9)}.${r.int(0, 20)}`;
    case 'plan_id':
    case 'completed_activity_id':
      return r.next() < 0.5 ? null : `a-${r.int(1, 1e9).toString(36)}`;
    case 'date':
      return day(now - r.int(0, 60) * 86_400_000);
    case 'title':
      return sentence(r, r.int(2, 5));
    case 'target_duration_s':
      return r.int(1_200, 7_200);
    case 'target_distance_m':
      return r.int(3_000, 30_000);
    case 'intensity':
      return r.pick(['easy', 'moderate', 'hard']);
    case 'hrv_ms':
      return r.int(20, 120);
    case 'sleep_s':
      return r.int(14_400, 36_000);
    case 'weight_kg':
      return Math.round((55 + r.next() * 40) * 10) / 10;
    case 'steps':
      return r.int(1_000, 30_000);
    case 'kind':
      return r.pick(['race', 'distance', 'weight']);
    case 'target_value':
      return r.int(1, 1_000);
    default:
      return null;
  }
}

export function makeRow(table: TableName, id: string, r: Rng, version: SchemaVersion, now: number): SyncRecord {
  const out: SyncRecord = { id };
  for (const c of columnNames(table, version)) out[c] = value(table, c, r, now);
  return out;
}

/** The columns a user edits on a device, per table (the rest come from the server or the watch). */
export function editableColumns(table: TableName, version: SchemaVersion): string[] {
  const cols: Record<TableName, string[]> = {
    users: ['resting_hr', 'max_hr', 'units'],
    activities: version >= 2 ? ['rpe', 'notes', 'feeling'] : ['rpe', 'notes'],
    training_plans: ['status'],
    scheduled_workouts: ['title', 'intensity'],
    daily_metrics: version >= 2 ? ['soreness', 'readiness', 'mood'] : ['soreness', 'readiness'],
    goals: ['title', 'target_value', 'status'],
  };
  return cols[table];
}

/** A user-like edit of an existing row: a couple of columns the user would touch. */
export function makeEdit(table: TableName, r: Rng, version: SchemaVersion, now: number): Omit<SyncRecord, 'id'> {
  const out: Omit<SyncRecord, 'id'> = { updated_at: now };
  for (const c of editableColumns(table, version)) if (r.next() < 0.7) out[c] = value(table, c, r, now);
  return out;
}
