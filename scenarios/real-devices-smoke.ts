import { defineScenario } from '../harness/index';

/**
 * The real-device path: the phone app under Detox (through the test bridge) paired with a real
 * watch over BLE. On a machine without an emulator, Detox or a Bluetooth adapter it is reported
 * `skipped` with the reason (exit 1, or 0 with --allow-skipped), never passed. `--project simulated`
 * runs the very same scenario with the bridge pointed at the simulated phone app and the same noble
 * central on the virtual radio against a simulated watch.
 */
export default defineScenario({
  name: 'real-devices-smoke',
  title: 'Phone app under Detox + BLE watch: write, sync, watch connect, battery',
  tags: ['device-farm', 'emulator', 'real-devices'],
  devices: {
    phone: { kind: 'detox' },
    watch: { kind: 'ble-watch', pairedWith: 'phone' },
    web: { kind: 'vu' },
  },
  async workload({ devices: { phone, watch, web }, expect, note }) {
    const checkin = await phone.create('daily_metrics', { date: '2026-12-06', resting_hr: 48, readiness: 78 });
    const s1 = await phone.sync('checkin_submit');
    expect(s1.ok && s1.pushed === 1, `the app pushes its check-in through the bridge (${s1.error ?? 'ok'})`);

    const w = watch.driver('ble-watch');
    // Only the simulated peripheral can be made to record; a worn watch delivers what it holds.
    if (w.sim) await watch.create('activities', { sport: 'run', rpe: 6, notes: 'easy run' }, 'real-smoke-act');
    const s2 = await watch.sync('watch_connect');
    expect(s2.ok, `watch connect: activity packs in, context pack out (${s2.error ?? 'ok'})`);
    expect(w.bridge?.battery != null, 'the Battery Service level was read from the watch');
    note(`watch battery ${w.bridge?.battery ?? '?'} %, ${s2.pushed} activity pack(s) delivered`);

    await web.sync('app_launch');
    const snap = await web.snapshot();
    expect(
      snap.daily_metrics.some((r) => r.id === checkin),
      "another client sees the app's check-in on the server",
    );
    if (w.sim)
      expect(
        snap.activities.some((r) => r.id === 'real-smoke-act'),
        'the watch activity reached the server through the phone app',
      );
  },
});
