import { defineScenario } from '../harness/index';

/** RFC 3.2: a large data set (1000+ activities) reaches a new device on its first sync. */
export default defineScenario({
  name: 'large-first-sync',
  title: '1000+ activities on a fresh device',
  tags: ['core', 'performance'],
  devices: { seeder: { kind: 'phone' }, fresh: { kind: 'phone' } },
  // The first sync's own duration (the derived sync_latency_ms is per path, and both devices are phones).
  thresholds: { first_sync_ms: ['max<10000'] },
  async workload({ devices: { seeder, fresh }, expect, metric }) {
    const N = 1200;
    for (let i = 0; i < N; i++) {
      await seeder.create(
        'activities',
        {
          sport: i % 3 ? 'run' : 'ride',
          started_at: 1_700_000_000_000 + i * 86_400_000,
          duration_s: 1800 + i,
          distance_m: 5000 + i * 3,
          avg_hr: 130 + (i % 30),
          notes: `session ${i}`,
        },
        `act-${i}`,
      );
    }
    const push = await seeder.sync('workout_complete');
    expect(push.ok && push.pushed >= N, `the seeder pushes ${N} activities (pushed ${push.pushed})`);
    const first = await fresh.sync('app_launch');
    metric('first_sync_ms', first.durationMs, { records: String(N) });
    expect(first.ok && first.pulled >= N, `the fresh device pulls ${N} activities (pulled ${first.pulled})`);
    expect((await fresh.snapshot()).activities.length === N, 'the fresh device holds every activity');
  },
});
