/**
 * The phone app's context pack (RFC 0006 §2.2.4 "Phone → Watch"), built from the phone's own
 * database: heart-rate and pace zones and max HR from its `users` row, the scheduled workouts of the
 * next 3 days, and the engine version of the active training plan. A plan change the phone pulled
 * from the cloud therefore reaches the watch in the next pack. The engine bundle travels only when the
 * engine version changed since the previous pack (RFC: "Only if updated").
 */
import type { SyncRecord, TableRecords } from '../../protocol/records';
import { withEngineBundle } from './context-fixture';
import type { ContextPack, HeartRateZones, PaceZones, ScheduledWorkout } from './protocol';

const DAY_MS = 86_400_000;
/** RFC: the pack carries the next 3 days of workouts. */
export const CONTEXT_DAYS = 3;
/** RFC: a context pack with the engine is about 50 KB. */
export const ENGINE_BUNDLE_BYTES = 50_000;
/** Without a max HR on the profile, the common 220 − age estimate for a 30-year-old (a placeholder the app shows as such). */
const DEFAULT_MAX_HR = 190;
/** engineVersion of a pack built before any training plan reached the phone. */
export const NO_ENGINE = 'engine-none';

type Db = Partial<Pick<TableRecords, 'users' | 'scheduled_workouts' | 'training_plans'>>;

function parseJson<T>(text: unknown, valid: (v: unknown) => v is T): T | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return valid(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const isRange = (v: unknown): v is [number, number] =>
  Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number');
const hasRanges =
  <K extends string>(keys: readonly K[]) =>
  (v: unknown): v is Record<K, [number, number]> =>
    typeof v === 'object' && v !== null && keys.every((k) => isRange((v as Record<string, unknown>)[k]));
const isHrZones = hasRanges(['z1', 'z2', 'z3', 'z4', 'z5'] as const);
const isPaceZones = hasRanges(['easy', 'tempo', 'threshold', 'interval'] as const);

/** Zones as % of max HR (the five-zone model apps use when the user set none). */
function zonesFromMaxHr(maxHr: number): HeartRateZones {
  const b = (lo: number, hi: number): [number, number] => [Math.round(maxHr * lo), Math.round(maxHr * hi)];
  return { z1: b(0.5, 0.6), z2: b(0.6, 0.7), z3: b(0.7, 0.8), z4: b(0.8, 0.9), z5: b(0.9, 1) };
}
/** Seconds per km; the app's defaults for a user with no pace zones. */
const DEFAULT_PACE: PaceZones = { easy: [330, 390], tempo: [280, 300], threshold: [260, 275], interval: [235, 255] };

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function workoutOf(r: SyncRecord): ScheduledWorkout {
  const step: ScheduledWorkout['steps'][number] = { kind: 'main' };
  if (typeof r.target_duration_s === 'number') step.durationS = r.target_duration_s;
  if (typeof r.target_distance_m === 'number') step.distanceM = r.target_distance_m;
  if (typeof r.intensity === 'string') step.target = r.intensity;
  return {
    id: r.id,
    date: String(r.date),
    sport: String(r.sport ?? 'running'),
    title: String(r.title ?? ''),
    steps: [step],
  };
}

/** The pack's content (everything but version, timestamp and bundle) from the phone's tables at `now`. */
export function contextContent(db: Db, now: number): Omit<ContextPack, 'version' | 'timestamp'> {
  const user = db.users?.[0];
  const maxHr = typeof user?.max_hr === 'number' ? user.max_hr : DEFAULT_MAX_HR;
  const from = day(now);
  const to = day(now + (CONTEXT_DAYS - 1) * DAY_MS);
  const upcomingWorkouts = (db.scheduled_workouts ?? [])
    .filter((w) => typeof w.date === 'string' && w.date >= from && w.date <= to && !w.completed_activity_id)
    .sort((a, b) => String(a.date).localeCompare(String(b.date)) || a.id.localeCompare(b.id))
    .map(workoutOf);
  const plans = db.training_plans ?? [];
  const plan =
    plans.find((p) => p.status === 'active' && typeof p.engine_version === 'string') ??
    plans.find((p) => typeof p.engine_version === 'string');
  return {
    user: {
      zones: parseJson(user?.hr_zones, isHrZones) ?? zonesFromMaxHr(maxHr),
      paceZones: parseJson(user?.pace_zones, isPaceZones) ?? DEFAULT_PACE,
      maxHr,
    },
    upcomingWorkouts,
    engineVersion: String(plan?.engine_version ?? NO_ENGINE),
  };
}

/**
 * A context provider for one phone: reads the phone's database on every request and returns a new
 * pack only when the content changed, so the watch's "newer version" rule sends it exactly when
 * something it shows changed. Versions are the phone's clock in ms (kept increasing), so a pack
 * built after an app restart is still newer than the one the watch holds.
 */
export function phoneContextProvider(
  read: () => Promise<Db>,
  now: () => number = Date.now,
  opts: { engineBundleBytes?: number } = {},
): () => Promise<ContextPack> {
  let version = 0;
  let last: { key: string; pack: ContextPack } | null = null;
  let engineSent: string | null = null;
  return async () => {
    const content = contextContent(await read(), now());
    const key = JSON.stringify(content);
    if (last && last.key === key) return last.pack;
    version = Math.max(version + 1, Math.floor(now()));
    const base: ContextPack = { version, timestamp: now(), ...content };
    // No plan, no engine to ship; otherwise the bundle goes once per engine version.
    const withBundle = content.engineVersion !== NO_ENGINE && content.engineVersion !== engineSent;
    engineSent = content.engineVersion;
    const seed = [...content.engineVersion].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
    const pack = withBundle ? withEngineBundle(base, opts.engineBundleBytes ?? ENGINE_BUNDLE_BYTES, seed) : base;
    last = { key, pack };
    return pack;
  };
}
