import type { PhoneDevice } from '../devices/phone/phone';
import { defineScenario } from '../harness/index';
import { checkArrivedOnce, planActivities, recordOnPhone } from './_fit-uploads';

/**
 * FIT uploads through a bad link (RFC 0006 phase 5: "FIT files upload reliably, failed uploads retry
 * automatically"): the phone's proxy (server and object store alike) resets connections as
 * responses start, is held to 48 KB/s, and cuts every connection after 120 KB, so the largest
 * PUT dies mid-body on every attempt. Every file must reach the store exactly once with its checksum, and each
 * activity must point at it. Items that used up their 3 attempts under the faults are retried once
 * the link is healthy (the app's "retry failed uploads"), and the run reports how many that was.
 */
export default defineScenario({
  name: 'fit-upload-flaky',
  title: 'FIT uploads under reset_peer and bandwidth limits: every file exactly once',
  tags: ['files', 'fit', 'faults'],
  devices: {
    phone: { kind: 'phone' },
    reader: { kind: 'vu' },
  },
  timeScale: 20,
  async workload(ctx) {
    const { devices, nemesis, expect, note } = ctx;
    const { phone, reader } = devices;
    const p = phone.driver('phone') as PhoneDevice;
    // 1 min to 2 h at 1 Hz: 2 KB to 180 KB per file.
    const acts = planActivities(ctx, [60, 600, 1800, 2700, 3600, 7200]);
    await phone.sync('app_launch');
    // One bad link for the whole first pass (a network fault heals with all its siblings).
    await nemesis.start({ kind: 'flaky', device: 'phone', resetProbability: 0.25 });
    await nemesis.start({ kind: 'bandwidth', device: 'phone', KBps: 48 });
    await nemesis.start({ kind: 'limitData', device: 'phone', bytes: 120 * 1024 });
    await recordOnPhone(phone, acts);
    await p.uploadsSettled();
    const mid = p.uploadStatus()!;
    note(
      `under faults: ${mid.done} of ${acts.length} uploaded, ${mid.failed.length} in the failed queue after 3 attempts each, ${mid.putAttempts} PUT attempts`,
    );
    expect(
      mid.failed.every((f) => f.retryCount === 3 || f.lastStatus !== undefined),
      'a file only reaches the failed queue after its 3 attempts (or a final answer from the server)',
    );
    await nemesis.heal();
    if (mid.failed.length) {
      // The link is healthy again: the app retries its failed queue (RFC "failed uploads retry").
      await p.retryFailedUploads();
      await p.uploadsSettled();
    }
    const end = p.uploadStatus()!;
    expect(
      end.failed.length === 0,
      `no upload is left in the failed queue (${end.failed.map((f) => f.lastError).join('; ')})`,
    );
    expect(end.pending === 0, 'the upload queue is drained');
    await phone.sync('manual');
    await checkArrivedOnce(ctx, reader, acts);
  },
});
