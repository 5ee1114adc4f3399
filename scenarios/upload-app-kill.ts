import type { DeviceHandle } from '../harness/index';
import { defineScenario } from '../harness/index';
import { checkArrivedOnce, planActivities, recordOn, uploaderOf } from './_fit-uploads';

/**
 * RFC 2.2.6 made robust: while a FIT file is on its way to the object store (each PUT held to
 * 32 KB/s, so the interruption lands mid-body), the phone app is killed and the web client's tab is
 * reloaded. Both upload queues are persisted (the phone's in its data folder, the web client's in
 * IndexedDB), so the relaunched apps find their files still queued, retry them, and every file is
 * stored exactly once with its checksum, the activity pointing at it (the content-addressed key
 * makes a retried PUT rewrite the same object, never a second one).
 */
export default defineScenario({
  name: 'upload-app-kill',
  title: 'Phone killed and web tab reloaded mid FIT upload: the persisted queues resume, each file arrives once',
  requires: { capabilities: ['files'] },
  tags: ['files', 'fit', 'faults'],
  devices: { phone: { kind: 'phone' }, web: { kind: 'web' }, reader: { kind: 'vu' } },
  timeScale: 20,
  async workload(ctx) {
    const { devices, nemesis, expect, note } = ctx;
    const { phone, web, reader } = devices;
    // 4 h at 1 Hz (about 350 KB: 10 s at 32 KB/s) first, then a 30-minute run, on each device.
    const acts = new Map([
      [phone, planActivities(ctx, [4 * 3600, 1800])],
      [web, planActivities(ctx, [4 * 3600, 1800])],
    ]);
    const w = web.driver('web');
    for (const d of [phone, web]) {
      await d.sync('app_launch');
      await nemesis.start({ kind: 'bandwidth', device: d.id, KBps: 32 });
    }
    await Promise.all([phone, web].map((d) => recordOn(d, acts.get(d)!)));

    /** Waits until 64 KB of the device's first PUT are out and nothing has completed yet. */
    const midPut = async (d: DeviceHandle, inFlight: () => boolean) => {
      const end = performance.now() + 120_000;
      const st = () => uploaderOf(d).uploadStatus();
      while (((st()?.bytesSent ?? 0) < 64 * 1024 || !inFlight()) && performance.now() < end)
        await new Promise((r) => setTimeout(r, 20));
      const before = st()!;
      expect(
        before.bytesSent >= 64 * 1024 && before.done === 0 && inFlight(),
        `${d.id}: the interruption comes mid-PUT (${before.bytesSent} bytes sent, ${before.done} done)`,
      );
      return before;
    };
    const [phoneBefore, webBefore] = await Promise.all([
      // Kill, then relaunch from the persisted store (appKill heals by restarting).
      midPut(phone, () => true).then(async (b) => {
        await nemesis.inject({ kind: 'appKill', device: 'phone' }, 0);
        return b;
      }),
      // The page's progress counts bytes handed to its socket; the relay says whether the store answered.
      midPut(web, () => w.appServer.uploads.some((u) => u.status === undefined && !u.error)).then(async (b) => {
        await w.reload();
        return b;
      }),
    ]);
    for (const d of [phone, web]) {
      const relaunched = uploaderOf(d).uploadStatus()!;
      expect(
        relaunched.pending + relaunched.done === acts.get(d)!.length && relaunched.failed.length === 0,
        `${d.id}: the relaunched app still has every file queued (${relaunched.pending} pending, ${relaunched.done} done)`,
      );
    }
    await nemesis.heal();
    for (const d of [phone, web]) {
      const p = uploaderOf(d);
      await p.uploadsSettled();
      const after = p.uploadStatus()!;
      expect(
        after.failed.length === 0,
        `${d.id}: no upload failed (${after.failed.map((f) => f.lastError).join('; ')})`,
      );
      expect(after.pending === 0, `${d.id}: the upload queue is drained`);
      await d.sync('manual');
    }
    const cut = w.appServer.uploads.find((u) => u.error);
    note(
      `phone killed after ${phoneBefore.bytesSent} bytes of the first PUT; after relaunch ${uploaderOf(phone).uploadStatus()!.putAttempts} PUT attempts`,
    );
    note(
      `web reloaded after ${webBefore.bytesSent} bytes handed to the first PUT (the relay: ${cut ? `${cut.bytesIn} bytes in, ${cut.error}` : 'no PUT was cut'}); ${w.appServer.uploads.length} PUTs through the relay in all`,
    );
    await checkArrivedOnce(ctx, reader, [...acts.values()].flat());
  },
});
