import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineScenario } from '../harness/index';
import { checkArrivedOnce } from './_fit-uploads';

/** Wall-clock ceiling for the phone's upload queue to drain after the pack arrived (a 46 KB file on a healthy link). */
const DRAIN_CEILING_MS = 60_000;

/**
 * An activity recorded on the watch while the phone is away reaches the phone with its FIT file
 * byte-identical (sha256); the phone syncs the activity and queues the FIT (RFC 2.2.6), so the
 * object store holds the file once, and the server decoded it into the activity's objective
 * columns, exactly once.
 */
export default defineScenario({
  name: 'watch-activity-upload',
  title: 'Watch activity → phone (FIT intact) → server once, FIT in the object store and decoded',
  tags: ['watch', 'ble', 'files', 'fit'],
  devices: {
    phone: { kind: 'phone' },
    watch: { kind: 'watch', pairedWith: 'phone', linkProfile: 'ios-typical' },
    web: { kind: 'vu' },
  },
  async workload(ctx) {
    const {
      devices: { phone, watch, web },
      nemesis,
      expect,
      metric,
      note,
    } = ctx;
    const w = watch.driver('watch');
    const p = phone.driver('phone');
    let receivedSha = '';
    w.bridge.once('activity', (_rec: unknown, pack: { fitFile: Buffer }) => {
      receivedSha = createHash('sha256').update(pack.fitFile).digest('hex');
    });
    const away = await nemesis.start({ kind: 'bleOutOfRange', device: 'watch' });
    await watch.create('activities', { sport: 'run', rpe: 7, notes: 'tempo on the track' }, 'watch-act-1');
    expect((await watch.pending()) === 1, 'the watch queues the activity pack while the phone is away');
    await away.stop();
    await w.bridge.waitUntilReachable(120_000);
    const s = await watch.sync('watch_connect');
    expect(s.ok, `the queued pack is delivered on reconnect (${s.error ?? ''})`);
    const fit = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'fit', 'run-30min.fit'));
    const expected = createHash('sha256').update(fit).digest('hex');
    expect(
      expected === 'c5b75c8cf552ad8ff19a6384cad73d9772d35e400b23849c910e355636a762d0',
      'the fixture matches its MANIFEST checksum',
    );
    expect(
      receivedSha === expected,
      `the FIT file arrives byte-identical (sha256 ${receivedSha.slice(0, 12)}… vs ${expected.slice(0, 12)}…)`,
    );

    // The pack handler resolved, so the FIT is in the phone's persisted upload queue.
    const t0 = performance.now();
    let ceiling: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      p.uploadsSettled().then(() => true),
      new Promise<boolean>((r) => {
        ceiling = setTimeout(() => r(false), DRAIN_CEILING_MS);
      }),
    ]);
    clearTimeout(ceiling);
    const drainMs = performance.now() - t0;
    const st = p.uploadStatus();
    expect(
      drained && st?.pending === 0 && st.failed.length === 0 && st.done === 1,
      `the phone's upload queue drains within ${DRAIN_CEILING_MS / 1000} s: ${st?.done ?? 0} done, ${st?.pending ?? '?'} pending, ${st?.failed.length ?? '?'} failed (${Math.round(drainMs)} ms)`,
    );
    metric('watch_fit_upload_drain_ms', drainMs, { path: 'watch-phone-cloud' });
    note(`FIT upload queue drained ${Math.round(drainMs)} ms after the pack arrived (${st?.putAttempts ?? 0} PUT)`);

    // The object store has the fixture's bytes once, and the server row points at it.
    const { rows } = await checkArrivedOnce(ctx, web, [{ id: 'watch-act-1', durationS: 1800, sha256: expected }]);
    const acts = [...rows.values()].filter((a) => a.id === 'watch-act-1');
    expect(acts.length === 1, `the server has the activity exactly once (${acts.length})`);
    const a = acts[0];
    // elevation_gain_m is not in the watch's summary: only the server's decode of the FIT session sets it.
    expect(
      a?.elevation_gain_m === 21 && a.distance_m !== null && Math.abs(Number(a.distance_m) - 5583.11) < 0.5,
      `the server decoded the FIT session (elevation_gain_m ${String(a?.elevation_gain_m)}, distance_m ${String(a?.distance_m)}; MANIFEST: 21 m, 5583.11 m)`,
    );
    expect(
      a?.rpe === 7 && a.notes === 'tempo on the track' && a.source_device === 'watch',
      'the subjective fields from the watch arrived',
    );
    await phone.sync();
  },
});
