import { defineScenario } from '../harness/index';

/**
 * Goals resolve by last-write-wins on updated_at, which each device stamps with its own clock.
 * What the RFC's rule means under skew: "last" is the largest device-reported updated_at, not the
 * latest in real time. A phone whose clock runs an hour fast wins every goal conflict for that hour,
 * even against edits made later in real time. The checkers verify the rule as written (by
 * updated_at); the scenario counts how many real-time-later edits lost, so the report shows the cost.
 */
export default defineScenario({
  name: 'clock-skew-lww',
  title: 'Last-write-wins with skewed device clocks',
  tags: ['faults', 'clock', 'conflicts'],
  devices: { fast: { kind: 'phone' }, slow: { kind: 'phone' } },
  thresholds: { conflict_rate: ['rate<1'] },
  async workload({ devices: { fast, slow }, nemesis, expect, note }) {
    await nemesis.start({ kind: 'clockSkew', device: 'fast', ms: 3_600_000 });
    await nemesis.start({ kind: 'clockSkew', device: 'slow', ms: -120_000 });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await fast.create('goals', { title: `goal ${i}`, status: 'active' }));
    await fast.sync();
    await slow.sync();
    let realTimeLaterLost = 0;
    for (const id of ids) {
      await fast.update('goals', id, { status: 'fast-edit' }); // earlier in real time, +1 h on its clock
      await slow.update('goals', id, { status: 'slow-edit' }); // later in real time, -2 min on its clock
    }
    await slow.sync();
    await fast.sync();
    await slow.sync();
    const snap = await slow.snapshot();
    for (const id of ids) if (snap.goals.find((g) => g.id === id)?.status === 'fast-edit') realTimeLaterLost++;
    expect(
      realTimeLaterLost === ids.length,
      `under LWW by updated_at the skewed-fast clock wins every conflict (${realTimeLaterLost}/${ids.length})`,
    );
    note(
      `${realTimeLaterLost} of ${ids.length} goal edits made later in real time lost to a phone whose clock ran 1 h fast: LWW trusts device clocks`,
    );
  },
});
