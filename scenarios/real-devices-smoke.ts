import { defineScenario } from '../harness/index';
import type { Device } from '../protocol/device';
import type { UploadingDevice } from '../protocol/files';

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
  async workload({ devices: { phone, watch, web }, expect, note, objectStore }) {
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

    // watch → phone → cloud (RFC 2.2.6): the pack handler queued the FIT in the app's upload queue,
    // through the bridge's upload commands for a Detox phone.
    const app = phone.raw as Partial<UploadingDevice> & Pick<Device, 'attachesFiles'>;
    const queues = typeof app.uploadsSettled === 'function' && app.attachesFiles?.() !== false;
    if (w.sim) {
      expect(queues, "the phone app has an upload queue (a bridged app announces 'uploads' in its hello)");
      if (queues) {
        await app.uploadsSettled!();
        const st = app.uploadStatus?.();
        expect(
          st?.done === 1 && st.pending === 0 && st.failed.length === 0,
          `the watch's FIT is uploaded through the phone app: ${st?.done ?? 0} done, ${st?.pending ?? '?'} pending, ${st?.failed.length ?? '?'} failed`,
        );
        note(`FIT uploaded through the phone app in ${st?.putAttempts ?? 0} PUT(s), ${st?.bytesSent ?? 0} bytes`);
      }
    }

    await web.sync('app_launch');
    const snap = await web.snapshot();
    expect(
      snap.daily_metrics.some((r) => r.id === checkin),
      "another client sees the app's check-in on the server",
    );
    if (w.sim) {
      const act = snap.activities.find((r) => r.id === 'real-smoke-act');
      expect(!!act, 'the watch activity reached the server through the phone app');
      if (queues) {
        const stored = (await objectStore?.list()) ?? [];
        expect(
          stored.length === 1 && act?.fit_file_key === stored[0]!.key,
          `the server row points at the one stored FIT (${String(act?.fit_file_key)}; ${stored.length} object(s))`,
        );
      }
    }
  },
});
