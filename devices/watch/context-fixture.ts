/**
 * Deterministic context packs for tests and benchmarks: realistic zones and three days of workouts,
 * plus an engine bundle padded so that the *compressed* pack is about `targetBytes` (RFC: ~50 KB).
 */
import { seededRng } from '../radio/medium';
import { type ContextPack, encodeContextPack, type ScheduledWorkout } from './protocol';

export interface ContextPackSpec {
  version: number;
  /** Compressed size to aim for (bytes); 0: no engine bundle. */
  targetBytes?: number;
  seed?: number;
  timestamp?: number;
}

function bundle(len: number, seed: number): string {
  const rng = seededRng(seed);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let s = '';
  for (let i = 0; i < len; i++) s += alphabet[Math.floor(rng() * 64)];
  return s;
}

export function makeContextPack(spec: ContextPackSpec): ContextPack {
  const ts = spec.timestamp ?? 1_716_000_000_000;
  const workouts: ScheduledWorkout[] = [0, 1, 2].map((d) => ({
    id: `w-${spec.version}-${d}`,
    date: new Date(ts + d * 86_400_000).toISOString().slice(0, 10),
    sport: d === 1 ? 'cycling' : 'running',
    title: ['Easy run', 'Sweet spot intervals', 'Long run'][d],
    steps: [
      { kind: 'warmup', durationS: 600, target: 'z2' },
      { kind: 'interval', durationS: d === 1 ? 1200 : 300, target: d === 1 ? 'z3-z4' : 'tempo' },
      { kind: 'recover', durationS: 180, target: 'z1' },
      { kind: 'cooldown', durationS: 600, target: 'z1' },
    ],
  }));
  const base: ContextPack = {
    version: spec.version,
    timestamp: ts,
    user: {
      zones: { z1: [95, 120], z2: [121, 140], z3: [141, 155], z4: [156, 168], z5: [169, 190] },
      paceZones: { easy: [330, 390], tempo: [280, 300], threshold: [260, 275], interval: [235, 255] },
      maxHr: 190,
    },
    upcomingWorkouts: workouts,
    engineVersion: `engine-${spec.version}`,
  };
  return withEngineBundle(base, spec.targetBytes ?? 0, spec.seed ?? spec.version);
}

/**
 * The pack with an engine bundle that brings its *compressed* size to about `targetBytes` (RFC:
 * ~50 KB); the pack unchanged when it is already that big. The bundle's text is seeded, so the same
 * engine gives the same bytes.
 */
export function withEngineBundle(base: ContextPack, targetBytes: number, seed: number): ContextPack {
  const target = targetBytes;
  if (target <= encodeContextPack(base).length) return base;
  // Base64-like text compresses to ~6/8; search the bundle length that lands on the target size.
  let lo = 0;
  let hi = Math.ceil(target * 1.5);
  let best = base;
  for (let i = 0; i < 24 && lo <= hi; i++) {
    const mid = (lo + hi) >> 1;
    const pack = { ...base, engineBundle: bundle(mid, seed) };
    const size = encodeContextPack(pack).length;
    best = pack;
    if (Math.abs(size - target) <= target * 0.002) break;
    if (size < target) lo = mid + 1;
    else hi = mid - 1;
  }
  return best;
}
