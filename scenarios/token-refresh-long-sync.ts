import { defineScenario } from '../harness/index';
import type { DeviceHandle } from '../harness/runner/scenario';

const activity = (i: number, who: string) => ({
  sport: i % 3 ? 'run' : 'ride',
  started_at: 1_700_000_000_000 + i * 86_400_000,
  duration_s: 1800 + i,
  distance_m: 5000 + i * 3,
  avg_hr: 130 + (i % 30),
  notes: `${who} session ${i} `.padEnd(120, '.'),
});

/**
 * RFC 0006 §5.1 "token refresh during long syncs": a phone, a virtual user and a web client whose
 * tokens live 5 seconds make their first sync of 1,000 activities on a 3G link, pushing their own 300
 * in small batches, so the token expires while the sync is under way. Each refused request (401) is
 * re-sent once with a fresh token and the sync goes on: no attempt repeated, every batch applied
 * exactly once (the server's sync_log has one PUSH row per batch and one PULL), nothing restarted
 * from zero. The web page asks the harness's app server for a fresh token (`/harness/token?refresh=1`).
 */
export default defineScenario({
  name: 'token-refresh-long-sync',
  title: '5-second tokens expiring mid first sync of 1,000 activities',
  tags: ['operations'],
  timeoutMs: 240_000,
  devices: {
    seeder: { kind: 'vu' },
    phone: { kind: 'phone', network: '3g', tokenTtlSeconds: 5, pushBatchBytes: 8_000 },
    vu: { kind: 'vu', network: '3g', tokenTtlSeconds: 5, pushBatchBytes: 8_000 },
    // The web client is another user's, seeded alike: its first sync pulls 1,000 activities as the
    // phone's does, and it never holds the others' 600 (at 1,600 the page's heap passed the RFC's
    // 50 MB: 49.8 and 53.8 MB in two runs, a gap reported apart from token refresh).
    seeder2: { kind: 'vu', user: 'user-2' },
    web: { kind: 'web', user: 'user-2', network: '3g', tokenTtlSeconds: 5, pushBatchBytes: 8_000 },
  },
  async workload({ devices: { seeder, seeder2, phone, vu, web }, expect, note, admin, metric }) {
    for (const s of [seeder!, seeder2!]) {
      for (let i = 0; i < 1000; i++) await s.create('activities', activity(i, 'seed'), `act-${s.id}-${i}`);
      expect((await s.sync('workout_complete')).ok, `${s.id} pushes 1,000 activities`);
    }
    const runFirstSync = async (d: DeviceHandle, expectRows: number, user = 'user-1') => {
      for (let i = 0; i < 300; i++) await d.create('activities', activity(i, d.id), `${d.id}-act-${i}`);
      const before = admin ? (await admin.syncHistory(user)).log.length : 0;
      const o = await d.sync('app_launch');
      const batches = o.pushBatches;
      metric('long_first_sync_ms', o.durationMs, { device: d.id });
      expect(o.ok, `${d.id}'s first sync completed (${o.error ?? 'ok'})`);
      expect(o.durationMs > 5_000, `${d.id}'s sync outlived its 5 s token (${Math.round(o.durationMs)} ms)`);
      expect((o.tokenRefreshes ?? 0) >= 1, `${d.id} refreshed its token mid-sync (${o.tokenRefreshes ?? 0} times)`);
      // The web engine counts the attempts of each request (pull, every batch), phone and vu those of
      // the sync: for the web, no request may have needed a second attempt.
      const retried = d.id === 'web' ? (o.retries?.length ?? 0) > 0 : o.attempts !== 1;
      expect(
        !retried,
        `${d.id}'s sync never restarted from zero (${o.attempts} attempt(s), ${o.retries?.length ?? 0} retried request(s))`,
      );
      const held = (await d.snapshot()).activities.length;
      expect(o.pulled >= 1000 && held === expectRows, `${d.id} holds all ${expectRows} activities (${held})`);
      if (admin) {
        const rows = (await admin.syncHistory(user)).log.slice(before);
        const pushes = rows.filter((r) => r.operation === 'PUSH' && r.success).length;
        const pulls = rows.filter((r) => r.operation === 'PULL' && r.success).length;
        if (batches !== undefined)
          expect(pushes === batches, `${d.id}: each of its ${batches} push batches applied once (${pushes} PUSH rows)`);
        expect(pulls === 1, `${d.id}: one pull, not repeated (${pulls} PULL rows)`);
      }
      note(
        `${d.id}: ${Math.round(o.durationMs / 100) / 10} s first sync, ${o.pulled} pulled, ${o.pushed} pushed in ${batches ?? '?'} batches, ${o.tokenRefreshes ?? 0} token refreshes, ${o.attempts} attempt(s) (${d.id === 'web' ? 'one per request' : 'of the sync'}), ${o.retries?.length ?? 0} retried`,
      );
    };
    await runFirstSync(phone!, 1300);
    await runFirstSync(vu!, 1600);
    await runFirstSync(web!, 1300, 'user-2');
    expect((await phone!.sync('manual')).ok, "the phone pulls the virtual user's activities");
    expect((await phone!.snapshot()).activities.length === 1600, 'phone and vu hold all 1,600 activities');
    note(
      'proved: 5 s tokens expired during 1,000-activity first syncs on 3G; phone, vu and web re-sent the refused request with a fresh token and went on (no attempt repeated, each batch applied once, one pull); nothing lost',
    );
  },
});
