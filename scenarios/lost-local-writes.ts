import { defineScenario } from '../harness/index';

/**
 * Power loss without fsync on a phone: its SQLite database loses the commits of its last 2 s. Writes
 * pushed before the loss must be on the server; writes the phone lost before pushing them are the
 * device's loss, never counted against the server; after the reboot everything converges.
 */
export default defineScenario({
  name: 'lost-local-writes',
  title: 'Power loss on a phone: last commits rolled back',
  tags: ['faults'],
  timeScale: 20,
  devices: { p1: { kind: 'phone' }, p2: { kind: 'phone' } },
  // The RFC's 99 % success holds on the syncs no fault overlapped (fault:none, the RFC default); the
  // fault:active bound is a fault-tolerance floor for the syncs run under the faults, not the RFC target.
  thresholds: { 'sync_success_rate{fault:active}': ['rate>0.5'], conflict_rate: ['rate<1'] },
  async workload({ devices: { p1, p2 }, nemesis, expect, note }) {
    for (let i = 0; i < 20; i++) await p1.create('goals', { title: `pushed ${i}`, status: 'active' });
    const pushed = await p1.sync('manual');
    expect(pushed.ok, 'the first 20 goals were pushed and acknowledged before the power loss');
    for (let i = 0; i < 20; i++) await p1.create('goals', { title: `never pushed ${i}`, status: 'active' });
    await nemesis.inject({ kind: 'lostLocalWrites', device: 'p1', ms: 40_000 }, 1_000);
    const after = await p1.snapshot();
    const titles = (after.goals ?? []).map((g) => String(g.title));
    const survived = titles.filter((t) => t.startsWith('never pushed')).length;
    expect(survived < 20, `the power loss rolled back unpushed local writes (${survived} of 20 survived)`);
    await p1.create('goals', { title: 'after reboot', status: 'active' });
    expect((await p1.sync('app_launch')).ok, 'the rebooted phone syncs again');
    expect((await p2.sync('manual')).ok, 'the other phone pulls what the server kept');
    const onServer = ((await p2.snapshot()).goals ?? []).filter((g) => String(g.title).startsWith('pushed ')).length;
    expect(onServer === 20, `all 20 acknowledged goals are on the server after the loss (${onServer})`);
    note(
      `proved: a power loss rolled back ${20 - survived} of 20 unpushed goals on p1 (the device's loss); the 20 it had pushed and had acknowledged stayed on the server (p2 pulled ${onServer}); the rebooted phone synced again, and lost-writes below does not count the device's loss against the server`,
    );
  },
});
