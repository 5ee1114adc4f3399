import type { PhoneDevice } from '../devices/phone/phone';
import { defineScenario } from '../harness/index';
import { checkArrivedOnce, planActivities, recordOnPhone } from './_fit-uploads';

/**
 * A 6-hour ride (21,600 records at 1 Hz, ~0.5 MB of FIT) recorded on a phone on LTE: it uploads,
 * the server decodes it in its worker thread and fills the activity, and another phone's syncs
 * during the upload and decode are still answered (the decode does not block the server).
 */
export default defineScenario({
  name: 'large-activity-6h',
  title: '6-hour FIT: upload on LTE, decode off the event loop',
  requires: { capabilities: ['files'] },
  tags: ['files', 'fit', 'large'],
  devices: {
    rider: { kind: 'phone', network: 'lte' },
    other: { kind: 'phone' },
    reader: { kind: 'vu' },
  },
  timeoutMs: 300_000,
  async workload(ctx) {
    const { devices, expect, metric, note } = ctx;
    const { rider, other, reader } = devices;
    const p = rider.driver('phone') as PhoneDevice;
    const acts = planActivities(ctx, [6 * 3600]);
    const t0 = performance.now();
    await recordOnPhone(rider, acts);
    // Meanwhile the other phone keeps syncing: each must succeed while the big file is handled.
    let done = false;
    const settled = p.uploadsSettled().finally(() => {
      done = true;
    });
    let during = 0;
    let i = 0;
    while (!done) {
      await other.create(
        'daily_metrics',
        { date: `2024-07-${String((i % 28) + 1).padStart(2, '0')}`, steps: i },
        `dm-${i}`,
      );
      const s = await other.sync('manual');
      expect(s.ok, `a sync of another phone during the upload succeeds (${s.error ?? ''})`);
      during++;
      i++;
    }
    await settled;
    const ms = performance.now() - t0;
    metric('fit_upload_ms', ms, { size: '6h' });
    const st = p.uploadStatus()!;
    expect(st.done === 1 && st.failed.length === 0, `the 6-hour file is uploaded (${JSON.stringify(st.failed)})`);
    note(
      `6-hour FIT: ${(acts[0]!.bytes.length / 1024).toFixed(0)} KB uploaded and ingested in ${Math.round(ms)} ms wall on LTE; ${during} syncs of another phone served meanwhile`,
    );
    expect(during > 0, 'other devices were served while the file was uploaded and decoded');
    await rider.sync('manual');
    const { rows } = await checkArrivedOnce(ctx, reader, acts);
    const row = rows.get(acts[0]!.id);
    // The sport is drawn from the seed (a 6-hour walk is ~30 km, a ride well over 100): compare with the FIT itself.
    const want = acts[0]!.distanceM;
    expect(
      typeof row?.distance_m === 'number' && Math.abs((row.distance_m as number) - want) < 1,
      `distance from the session (${String(row?.distance_m)} m, the FIT says ${want.toFixed(2)} m, ${acts[0]!.sport})`,
    );
  },
});
