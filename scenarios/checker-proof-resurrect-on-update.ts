import { defineScenario } from '../harness/index';

/**
 * Checker self-test: a stale edit of a row another device deleted (and had acknowledged) reaches a
 * server that lets the update bring the tombstoned row back. The contract says deletes win; the
 * no-resurrection checker must fail and name the row.
 */
export default defineScenario({
  name: 'checker-proof-resurrect-on-update',
  title: 'Checker proof: a stale update resurrects a deleted row',
  tags: ['checker-proof'],
  server: { broken: ['resurrect-on-update'] },
  expect: 'fail',
  checks: ['no-resurrection'],
  devices: { phoneA: { kind: 'phone' }, phoneB: { kind: 'phone' } },
  async workload({ devices: { phoneA, phoneB }, nemesis, sleep, expect }) {
    await phoneA.create('goals', { kind: 'race', title: 'Sub-3:30', status: 'active' }, 'goal-1');
    await phoneA.sync('manual');
    await phoneB.sync('manual');
    await phoneB.update('goals', 'goal-1', { status: 'paused' });
    // B's traffic slowed (1.5 s each way): its pull is in before A's delete, its push after it.
    const slow = await nemesis.start({ kind: 'latency', device: 'phoneB', ms: 1500 });
    const bSync = phoneB.sync('manual');
    await sleep(2000);
    await phoneA.delete('goals', 'goal-1');
    const del = await phoneA.sync('manual');
    expect(del.ok, 'the delete is acknowledged');
    await bSync;
    await slow.stop();
    await phoneA.sync('manual');
    await phoneB.sync('manual');
  },
});
