import { defineScenario } from '../harness/index';

/**
 * The BLE link drops at random points of an activity-pack upload; each transfer resumes from the
 * last acknowledged block. Every activity arrives once, uncorrupted, and reaches the server once.
 */
export default defineScenario({
  name: 'watch-disconnect-resume',
  title: 'BLE drops mid-transfer, resume, no duplicate, no corruption',
  tags: ['watch', 'ble', 'faults'],
  devices: {
    phone: { kind: 'phone' },
    watch: { kind: 'watch', pairedWith: 'phone', linkProfile: 'older-phone' },
    observer: { kind: 'vu' },
  },
  async workload({ devices: { watch, observer }, nemesis, rng, expect, sleep }) {
    const w = watch.driver('watch');
    const delivered: string[] = [];
    w.bridge.on('activity', (_r: unknown, p: { activityId: string }) => delivered.push(p.activityId));
    const ids = ['drop-a', 'drop-b', 'drop-c'];
    const away = await nemesis.start({ kind: 'bleOutOfRange', device: 'watch' });
    for (const id of ids) await watch.create('activities', { sport: 'ride', rpe: 5, notes: id }, id);
    await away.stop();
    // While the queue drains, cut the link a few times after a random number of bytes on the air.
    for (let i = 0; i < 4; i++) {
      await w.bridge.waitUntilReachable(300_000);
      // Through the nemesis, so each drop is in the history, on the timeline and in shrink's steps.
      await nemesis.inject({ kind: 'bleDisconnect', device: 'watch', afterBytes: rng.int(2_000, 60_000) }, 0);
      await sleep(200);
    }
    await w.bridge.waitUntilReachable(300_000);
    const s = await watch.sync('watch_connect');
    expect(s.ok, `all queued packs delivered after the drops (${s.error ?? ''})`);
    expect(new Set(delivered).size === delivered.length, `no activity delivered twice (${delivered.join(', ')})`);
    expect(
      ids.every((id) => delivered.includes(id)),
      'every activity delivered',
    );
    await observer.sync('app_launch');
    const server = (await observer.snapshot()).activities.filter((a) => ids.includes(a.id));
    expect(server.length === ids.length, `the server has each activity once (${server.length})`);
    expect(
      server.every((a) => a.duration_s === 7200),
      'summaries intact (2 h ride)',
    );
  },
});
