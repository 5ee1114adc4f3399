import type { PhoneDevice } from '../devices/phone/phone';
import { defineScenario } from '../harness/index';
import { checkArrivedOnce, planActivities, recordOnPhone } from './_fit-uploads';

/**
 * RFC 2.2.6 made robust: the phone app is killed while a FIT file is on its way to the object store
 * (the PUT is held to 32 KB/s, so the kill lands mid-body). The upload queue is persisted, so the
 * relaunched app finds both files still queued, retries them, and every file is stored exactly once
 * with its checksum, the activity pointing at it (the content-addressed key makes the retried PUT
 * rewrite the same object, never a second one).
 */
export default defineScenario({
  name: 'upload-app-kill',
  title: 'Phone killed mid FIT upload: the persisted queue resumes, each file arrives once',
  tags: ['files', 'fit', 'faults'],
  devices: { phone: { kind: 'phone' }, reader: { kind: 'vu' } },
  timeScale: 20,
  async workload(ctx) {
    const { devices, nemesis, expect, note } = ctx;
    const { phone, reader } = devices;
    const p = () => phone.driver('phone') as PhoneDevice;
    // 4 h at 1 Hz (about 350 KB: 10 s at 32 KB/s) first, then a 30-minute run.
    const acts = planActivities(ctx, [4 * 3600, 1800]);
    await phone.sync('app_launch');
    await nemesis.start({ kind: 'bandwidth', device: 'phone', KBps: 32 });
    await recordOnPhone(phone, acts);
    const end = performance.now() + 120_000;
    while ((p().uploadStatus()?.bytesSent ?? 0) < 64 * 1024 && performance.now() < end)
      await new Promise((r) => setTimeout(r, 20));
    const before = p().uploadStatus()!;
    expect(
      before.bytesSent >= 64 * 1024 && before.done === 0,
      `the kill comes mid-PUT (${before.bytesSent} bytes sent, ${before.done} done)`,
    );
    // Kill, then relaunch from the persisted store (appKill heals by restarting).
    await nemesis.inject({ kind: 'appKill', device: 'phone' }, 0);
    const relaunched = p().uploadStatus()!;
    expect(
      relaunched.pending + relaunched.done === acts.length && relaunched.failed.length === 0,
      `the relaunched app still has every file queued (${relaunched.pending} pending, ${relaunched.done} done)`,
    );
    await nemesis.heal();
    await p().uploadsSettled();
    const after = p().uploadStatus()!;
    expect(after.failed.length === 0, `no upload failed (${after.failed.map((f) => f.lastError).join('; ')})`);
    expect(after.pending === 0, 'the upload queue is drained');
    note(`killed after ${before.bytesSent} bytes of the first PUT; after relaunch ${after.putAttempts} PUT attempts`);
    await phone.sync('manual');
    await checkArrivedOnce(ctx, reader, acts);
  },
});
