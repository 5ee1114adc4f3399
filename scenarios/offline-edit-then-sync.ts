import { defineScenario } from '../harness/index';

/** A phone edits while offline (its proxy refuses connections), syncs fail, then it reconnects and delivers. */
export default defineScenario({
  name: 'offline-edit-then-sync',
  title: 'Offline edits are queued and delivered on reconnect',
  tags: ['core', 'offline'],
  timeScale: 20, // RFC backoff (1–30 s) and fault durations run 20× faster; latencies stay real
  devices: { phone: { kind: 'phone' }, other: { kind: 'phone' } },
  // The sync while offline fails by design (the workload asserts it) and is fault:active; the RFC's 99 %
  // success holds on the others (fault:none, the RFC default: 8/8 on seed 1). No floor on fault:active:
  // its one sync must fail.
  async workload({ devices: { phone, other }, nemesis, expect }) {
    await phone.sync('app_launch');
    await other.sync('app_launch');
    const off = await nemesis.start({ kind: 'offline', device: 'phone' });
    for (let i = 0; i < 10; i++)
      await phone.create('activities', { sport: 'run', distance_m: 1000 * i, notes: `offline ${i}` }, `off-${i}`);
    await phone.update('activities', 'off-3', { rpe: 8 });
    await phone.delete('activities', 'off-9');
    const failed = await phone.sync('background_fetch');
    expect(!failed.ok, 'a sync while offline fails (and is recorded as such)');
    expect((await phone.pending()) > 0, 'offline writes stay pending');
    await off.stop();
    const ok = await phone.sync('reconnect');
    expect(ok.ok, `the reconnect sync succeeds (${ok.error ?? ''})`);
    await other.sync('manual');
    const snap = await other.snapshot();
    expect(
      snap.activities.filter((r) => r.id.startsWith('off-')).length === 9,
      'the other phone sees the 9 surviving offline activities',
    );
  },
});
