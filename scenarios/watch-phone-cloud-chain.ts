import { defineScenario } from '../harness/index';

/**
 * Watch → phone → cloud → web: an activity recorded on the watch shows up in a web client's
 * IndexedDB. Reports the end-to-end latency (BLE part simulated, the rest wall time).
 */
export default defineScenario({
  name: 'watch-phone-cloud-chain',
  title: 'Watch → phone → cloud → web',
  tags: ['watch', 'ble', 'web'],
  devices: {
    phone: { kind: 'phone' },
    watch: { kind: 'watch', pairedWith: 'phone', linkProfile: 'ios-typical' },
    web: { kind: 'web', autoSync: true },
  },
  async workload({ devices: { watch, web }, expect, metric, note, sleep }) {
    const w = watch.driver('watch');
    await web.sync('app_launch');
    const t0 = performance.now();
    await watch.create('activities', { sport: 'run', rpe: 6, notes: 'chain' }, 'chain-1');
    // The web device has auto sync on: the phone's push pokes it through the events stream.
    let seen = false;
    for (let i = 0; i < 200 && !seen; i++) {
      seen = (await web.snapshot()).activities.some((a) => a.id === 'chain-1');
      if (!seen) await sleep(100);
    }
    const ms = performance.now() - t0;
    expect(seen, 'the web client sees the watch activity without a manual sync');
    metric('watch_to_web_ms', ms, { path: 'watch-phone-cloud-web' });
    note(
      `watch → phone → cloud → web: ${Math.round(ms)} ms wall (${w.bridge.transfers.at(-1)?.direction ?? ''} BLE leg simulated on the radio clock)`,
    );
  },
});
