import { defineScenario } from '../harness/index';

/** Each conflict strategy across platforms: a phone and a web client edit the same rows concurrently. */
export default defineScenario({
  name: 'web-and-phone-conflicts',
  title: 'Conflict strategies between a phone and a web client',
  tags: ['web', 'conflicts'],
  devices: { phone: { kind: 'phone' }, web: { kind: 'web' } },
  thresholds: { conflict_rate: ['rate<1'] },
  async workload({ devices: { phone, web }, expect }) {
    const T = 1_764_000_000_000;
    await phone.create('users', { name: 'P', updated_at: T }, 'x-u');
    await phone.create('activities', { distance_m: 1, notes: 'p', updated_at: T }, 'x-a');
    await phone.create('training_plans', { weeks: 1, updated_at: T }, 'x-t');
    await phone.create('scheduled_workouts', { title: 'p', updated_at: T }, 'x-s');
    await phone.create('daily_metrics', { steps: 1, sleep_s: 1, updated_at: T }, 'x-d');
    await phone.create('goals', { status: 'p', updated_at: T }, 'x-g');
    await phone.sync();
    await web.sync();
    await phone.update('users', 'x-u', { name: 'phone', updated_at: T + 1 });
    await web.update('users', 'x-u', { name: 'web', updated_at: T + 2 });
    await phone.update('activities', 'x-a', { distance_m: 2, notes: 'phone', updated_at: T + 1 });
    await web.update('activities', 'x-a', { distance_m: 3, notes: 'web', updated_at: T + 2 });
    await phone.update('training_plans', 'x-t', { weeks: 2, updated_at: T + 1 });
    await web.update('training_plans', 'x-t', { weeks: 3, updated_at: T + 2 });
    await phone.update('scheduled_workouts', 'x-s', { title: 'phone', updated_at: T + 1 });
    await web.update('scheduled_workouts', 'x-s', { title: 'web', updated_at: T + 2 });
    await phone.update('daily_metrics', 'x-d', { steps: 2, updated_at: T + 1 });
    await web.update('daily_metrics', 'x-d', { steps: null, sleep_s: 3, updated_at: T + 2 });
    await phone.update('goals', 'x-g', { status: 'phone', updated_at: T + 5 });
    await web.update('goals', 'x-g', { status: 'web', updated_at: T + 2 });
    await phone.sync();
    await web.sync();
    await phone.sync();
    const s = await phone.snapshot();
    const r = (t: keyof typeof s, id: string): Record<string, unknown> => s[t].find((x) => x.id === id) ?? {};
    expect(
      r('users', 'x-u').name === 'web',
      `users client-wins: the web's later push wins (got ${r('users', 'x-u').name})`,
    );
    expect(
      r('activities', 'x-a').distance_m === 2 && r('activities', 'x-a').notes === 'web',
      'activities merge: objective from the server (phone pushed first), subjective from the web',
    );
    expect(
      r('training_plans', 'x-t').weeks === 2 && r('scheduled_workouts', 'x-s').title === 'phone',
      'server-wins tables keep the phone value pushed first',
    );
    expect(
      r('daily_metrics', 'x-d').steps === 2 && r('daily_metrics', 'x-d').sleep_s === 3,
      'daily_metrics merge: non-null web columns win, null never overwrites',
    );
    expect(
      r('goals', 'x-g').status === 'phone',
      'goals LWW: the larger updated_at (phone) wins although the web pushed later',
    );
  },
});
