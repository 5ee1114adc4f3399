import { defineScenario } from '../harness/index';
import type { UploadQueueStatus } from '../protocol/files';
import { checkArrivedOnce, planActivities, recordOn, uploaderOf } from './_fit-uploads';

/**
 * FIT uploads through a bad link (RFC 0006 phase 5: "FIT files upload reliably, failed uploads retry
 * automatically"), from a phone and from a web client at once: the same upload queue code, each
 * device behind its own proxy (server and object store alike) that resets connections as responses
 * start, is held to 48 KB/s, and cuts every connection after 120 KB, so the largest PUT dies
 * mid-body on every attempt. Every file must reach the store exactly once with its checksum, and
 * each activity must point at it. Items that used up their 3 attempts under the faults are retried
 * once the link is healthy (the app's "retry failed uploads"), and the run reports how many that was.
 */
export default defineScenario({
  name: 'fit-upload-flaky',
  title: 'FIT uploads from a phone and a web client under reset_peer and bandwidth limits: every file exactly once',
  requires: { capabilities: ['files'] },
  tags: ['files', 'fit', 'faults'],
  devices: {
    phone: { kind: 'phone' },
    web: { kind: 'web' },
    reader: { kind: 'vu' },
  },
  timeScale: 20,
  async workload(ctx) {
    const { devices, nemesis, expect, note } = ctx;
    const { phone, web, reader } = devices;
    const uploaders = [phone, web];
    // 1 min to 2 h at 1 Hz: 2 KB to 180 KB per file; the web client gets its own four.
    const acts = new Map([
      [phone, planActivities(ctx, [60, 600, 1800, 2700, 3600, 7200])],
      [web, planActivities(ctx, [300, 1200, 3600, 7200])],
    ]);
    for (const d of uploaders) await d.sync('app_launch');
    // One bad link per device for the whole first pass (a network fault heals with all its siblings).
    for (const d of uploaders) {
      await nemesis.start({ kind: 'flaky', device: d.id, resetProbability: 0.25 });
      await nemesis.start({ kind: 'bandwidth', device: d.id, KBps: 48 });
      await nemesis.start({ kind: 'limitData', device: d.id, bytes: 120 * 1024 });
    }
    await Promise.all(uploaders.map((d) => recordOn(d, acts.get(d)!)));
    await Promise.all(uploaders.map((d) => uploaderOf(d).uploadsSettled()));
    const mid = new Map<typeof phone, UploadQueueStatus>(uploaders.map((d) => [d, uploaderOf(d).uploadStatus()!]));
    for (const d of uploaders) {
      const m = mid.get(d)!;
      note(
        `${d.id} under faults: ${m.done} of ${acts.get(d)!.length} uploaded, ${m.failed.length} in the failed queue after 3 attempts each, ${m.putAttempts} PUT attempts`,
      );
      expect(
        m.failed.every((f) => f.retryCount === 3 || f.lastStatus !== undefined),
        `${d.id}: a file only reaches the failed queue after its 3 attempts (or a final answer from the server)`,
      );
    }
    await nemesis.heal();
    for (const d of uploaders) {
      const p = uploaderOf(d);
      if (mid.get(d)!.failed.length) {
        // The link is healthy again: the app retries its failed queue (RFC "failed uploads retry").
        await p.retryFailedUploads();
        await p.uploadsSettled();
      }
      const end = p.uploadStatus()!;
      expect(
        end.failed.length === 0,
        `${d.id}: no upload is left in the failed queue (${end.failed.map((f) => f.lastError).join('; ')})`,
      );
      expect(end.pending === 0, `${d.id}: the upload queue is drained`);
      await d.sync('manual');
    }
    await checkArrivedOnce(ctx, reader, [...acts.values()].flat());
  },
});
