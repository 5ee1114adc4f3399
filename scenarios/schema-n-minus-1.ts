import { defineScenario } from '../harness/index';

/** RFC 3.3: a v1 phone (no activities.feeling, no daily_metrics.mood) syncs with a v2 phone. */
export default defineScenario({
  name: 'schema-n-minus-1',
  title: 'Schema v1 and v2 phones together',
  tags: ['core', 'schema'],
  devices: { v2: { kind: 'phone', schemaVersion: 2 }, v1: { kind: 'phone', schemaVersion: 1 } },
  async workload({ devices: { v1, v2 }, expect }) {
    await v2.create('activities', { sport: 'run', notes: 'v2 note', feeling: 'strong' }, 'a1');
    await v2.create('daily_metrics', { date: '2026-11-25', mood: 'happy', steps: 5000 }, 'd1');
    await v2.sync();
    await v1.sync();
    const s1 = await v1.snapshot();
    expect(
      s1.activities.length === 1 && !('feeling' in s1.activities[0]),
      'the v1 phone never receives the v2 column "feeling"',
    );
    await v1.update('activities', 'a1', { notes: 'edited on v1' });
    await v1.update('daily_metrics', 'd1', { steps: 6000 });
    await v1.sync();
    await v2.sync();
    const s2 = await v2.snapshot();
    const a = s2.activities.find((r) => r.id === 'a1');
    const d = s2.daily_metrics.find((r) => r.id === 'd1');
    expect(
      a?.notes === 'edited on v1' && a?.feeling === 'strong',
      "a v1 push leaves the v2 column untouched (feeling still 'strong')",
    );
    expect(d?.steps === 6000 && d?.mood === 'happy', 'a v1 push leaves daily_metrics.mood untouched');
  },
});
