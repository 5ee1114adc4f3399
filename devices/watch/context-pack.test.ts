import { describe, expect, it } from 'vitest';
import { contextContent, NO_ENGINE, phoneContextProvider } from './context-pack';

const NOW = Date.UTC(2026, 11, 7, 9);
const day = (d: number) => new Date(NOW + d * 86_400_000).toISOString().slice(0, 10);
const workout = (id: string, d: number, extra = {}) => ({ id, date: day(d), sport: 'running', title: id, ...extra });

describe('context pack from the phone database', () => {
  it('takes zones and max HR from users, the next 3 days of workouts and the active plan engine', () => {
    const zones = { z1: [1, 2], z2: [3, 4], z3: [5, 6], z4: [7, 8], z5: [9, 10] };
    const c = contextContent(
      {
        users: [{ id: 'u', max_hr: 177, hr_zones: JSON.stringify(zones), pace_zones: 'not json' }],
        training_plans: [
          { id: 'old', status: 'archived', engine_version: 'engine-1' },
          { id: 'p', status: 'active', engine_version: 'engine-3' },
        ],
        scheduled_workouts: [
          workout('late', 3),
          workout('b', 2, { target_duration_s: 600, intensity: 'z2' }),
          workout('past', -1),
          workout('a', 0),
          workout('done', 1, { completed_activity_id: 'x' }),
        ],
      },
      NOW,
    );
    expect(c.user.maxHr).toBe(177);
    expect(c.user.zones).toEqual(zones);
    expect(c.user.paceZones.easy).toHaveLength(2); // unparsable pace zones: the app's defaults
    expect(c.engineVersion).toBe('engine-3');
    expect(c.upcomingWorkouts.map((w) => w.id)).toEqual(['a', 'b']);
    expect(c.upcomingWorkouts[1].steps).toEqual([{ kind: 'main', durationS: 600, target: 'z2' }]);
  });
  it('derives zones from max HR when the profile has none', () => {
    const c = contextContent({ users: [{ id: 'u', max_hr: 200 }] }, NOW);
    expect(c.user.zones.z5).toEqual([180, 200]);
    expect(c.engineVersion).toBe(NO_ENGINE);
  });
  it('makes a newer pack only when the content changed, and sends the engine bundle once per engine', async () => {
    const db = {
      training_plans: [{ id: 'p', status: 'active', engine_version: 'engine-3' }],
      scheduled_workouts: [workout('a', 0)],
    };
    let t = NOW;
    const provide = phoneContextProvider(
      async () => db,
      () => t,
      { engineBundleBytes: 5_000 },
    );
    const first = await provide();
    expect(first.engineBundle).toBeDefined();
    t += 1000;
    expect(await provide()).toBe(first);
    db.scheduled_workouts = [workout('a', 0, { title: 'moved' })];
    const next = await provide();
    expect(next.version).toBeGreaterThan(first.version);
    expect(next.upcomingWorkouts[0].title).toBe('moved');
    expect(next.engineBundle).toBeUndefined();
  });
});
