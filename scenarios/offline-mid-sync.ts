import { defineScenario } from '../harness/index';

/**
 * The connection is cut in the middle of a push and in the middle of a pull, at byte offsets drawn
 * from the seed (limit_data). Nothing acknowledged may be lost; the retried push applies once.
 */
export default defineScenario({
  name: 'offline-mid-sync',
  title: 'Connection cut mid-push and mid-pull at random byte offsets',
  tags: ['faults', 'offline'],
  timeScale: 20, // RFC backoff (1–30 s) and fault durations run 20× faster; latencies stay real
  devices: { phone: { kind: 'phone' }, peer: { kind: 'phone' } },
  // Every cut sync fails by design. The RFC's 99 % success holds on the syncs no fault overlapped (fault:none, the
  // RFC default); the fault:active bound is a fault-tolerance floor for the syncs run under the faults,
  // not the RFC target.
  thresholds: { 'sync_success_rate{fault:active}': ['rate>0.3'] },
  async workload({ devices: { phone, peer }, nemesis, rng, expect }) {
    await phone.sync('app_launch');
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 40; i++)
        await phone.create('activities', { sport: 'run', notes: `r${round} #${i} ${'x'.repeat(200)}` });
      // Cut the upload somewhere inside the push body.
      const up = await nemesis.start({
        kind: 'limitData',
        device: 'phone',
        bytes: rng.int(2_000, 12_000),
        direction: 'upstream',
      });
      await phone.sync('manual');
      await up.stop();
      await phone.sync('reconnect');
      for (let i = 0; i < 40; i++)
        await peer.create('daily_metrics', {
          date: `2026-01-${String((i % 28) + 1).padStart(2, '0')}`,
          steps: i * round,
          mood: 'ok',
        });
      await peer.sync('manual');
      // Cut the download somewhere inside the pull response.
      const down = await nemesis.start({
        kind: 'limitData',
        device: 'phone',
        bytes: rng.int(500, 8_000),
        direction: 'downstream',
      });
      await phone.sync('manual');
      await down.stop();
    }
    const last = await phone.sync('reconnect');
    expect(last.ok, `after healing, the phone syncs (${last.error ?? ''})`);
  },
});
