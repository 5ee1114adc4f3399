import { defineScenario } from '../harness/index';

/** Two phones of one user write to every table, sync, and must converge. */
export default defineScenario({
  name: 'smoke',
  title: 'Two phones, every table, converge',
  tags: ['core', 'smoke'],
  devices: { phoneA: { kind: 'phone' }, phoneB: { kind: 'phone' } },
  async workload({ devices: { phoneA, phoneB }, expect }) {
    await phoneA.create(
      'users',
      { name: 'Ada', email: 'ada@example.com', max_hr: 190, resting_hr: 48, units: 'metric' },
      'user-ada',
    );
    await phoneA.create(
      'activities',
      {
        sport: 'run',
        started_at: 1_763_000_000_000,
        duration_s: 1800,
        distance_m: 5583,
        avg_hr: 144,
        rpe: 6,
        notes: 'felt good',
      },
      'act-1',
    );
    await phoneA.create('training_plans', { name: 'Marathon', weeks: 16, status: 'active' }, 'plan-1');
    await phoneB.create(
      'scheduled_workouts',
      { plan_id: 'plan-1', date: '2026-12-01', sport: 'run', title: 'Tempo 8k', target_duration_s: 2700 },
      'sw-1',
    );
    await phoneB.create(
      'daily_metrics',
      { date: '2026-11-25', resting_hr: 47, hrv_ms: 72, sleep_s: 27_000, steps: 9000 },
      'dm-1',
    );
    await phoneB.create('goals', { kind: 'race', title: 'Sub-3:30', target_value: 12_600, status: 'active' }, 'goal-1');
    await phoneA.sync('app_launch');
    await phoneB.sync('app_launch');
    await phoneA.sync('pull_to_refresh');
    await phoneB.update('activities', 'act-1', { notes: 'felt great' });
    await phoneA.delete('goals', 'goal-1');
    await phoneB.sync('manual');
    await phoneA.sync('manual');
    const a = await phoneA.snapshot();
    expect(a.activities.length === 1 && a.scheduled_workouts.length === 1, 'phone A sees the activity and the workout');
  },
});
