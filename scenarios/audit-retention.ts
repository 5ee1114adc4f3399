import type { SyncHistoryExport } from '../harness/faults/plugin';
import { defineScenario } from '../harness/index';
import type { SyncOutcome } from '../protocol/device';

/**
 * RFC 0006 §5.1 and §7 (audit and retention): two users' phones and virtual users sync a few times;
 * the GDPR export of each user's sync history (GET /admin/users/:id/sync-history) holds one PULL per
 * sync and one PUSH per push batch of that user's devices only, each with the request's trace id;
 * the retention job (POST /admin/retention) keeps every row younger than its 90 days and, run with
 * 0 days, deletes every row already written. Sync metadata per device < 1 MB (§5.2) is the
 * `sync_metadata_bytes` threshold below.
 */
export default defineScenario({
  name: 'audit-retention',
  title: 'Audit and retention: sync_log with trace ids, GDPR export per user, retention job',
  tags: ['operations'],
  timeScale: 10,
  requires: { admin: true },
  devices: {
    phone1: { kind: 'phone' },
    vu1: { kind: 'vu' },
    phone2: { kind: 'phone', user: 'user-2' },
    vu2: { kind: 'vu', user: 'user-2' },
  },
  async workload({ devices, expect, note, admin, clock }) {
    if (!admin) throw new Error("audit-retention needs the reference server's operator routes");
    const all = Object.values(devices);
    const outcomes = new Map<string, SyncOutcome[]>(all.map((d) => [d.id, []]));
    for (let round = 0; round < 3; round++)
      for (const d of all) {
        if (round < 2) await d.create('goals', { title: `${d.id} ${round}`, status: 'active' });
        const o = await d.sync('manual');
        expect(o.ok, `${d.id} sync ${round + 1} ok (${o.error ?? 'ok'})`);
        outcomes.get(d.id)!.push(o);
      }
    const users = ['user-1', 'user-2'] as const;
    const usersDevices = (u: string) => all.filter((d) => d.user === u);
    const pushesOf = (id: string) =>
      outcomes.get(id)!.reduce((n, o) => n + (o.pushed > 0 ? (o.pushBatches ?? 1) : 0), 0);
    const expected = (u: string) =>
      usersDevices(u).reduce((n, d) => n + outcomes.get(d.id)!.length + pushesOf(d.id), 0);
    // PULL rows are written in the background (store.logPull): wait for every one, generous ceiling.
    const exportOf = async (u: string, want: (h: SyncHistoryExport) => boolean): Promise<SyncHistoryExport> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const h = await admin.syncHistory(u);
        if (want(h) || Date.now() > deadline) return h;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const syncRows = (h: SyncHistoryExport) => h.log.filter((r) => r.operation === 'PULL' || r.operation === 'PUSH');
    const exports: Record<string, SyncHistoryExport> = {};
    for (const u of users) {
      const h = await exportOf(u, (x) => syncRows(x).length >= expected(u));
      exports[u] = h;
      const ids = new Set(usersDevices(u).map((d) => d.id));
      expect(
        h.devices.length === ids.size,
        `${u}'s export lists exactly its ${ids.size} devices (${h.devices.map((d) => d.deviceId).join(', ')})`,
      );
      const foreign = h.log.filter((r) => !h.devices.some((d) => d.deviceId === r.deviceId));
      expect(foreign.length === 0, `${u}'s export holds no row of another user's device (${foreign.length})`);
      const rows = syncRows(h);
      expect(
        rows.length === expected(u),
        `${u}: sync_log has ${rows.length} PULL/PUSH rows for the ${expected(u)} pulls and push batches its devices made`,
      );
      const noTrace = rows.filter((r) => !r.traceId);
      expect(noTrace.length === 0, `${u}: every PULL/PUSH row carries a trace id (${noTrace.length} without)`);
      const traces = new Set(rows.map((r) => r.traceId));
      expect(
        traces.size === rows.length,
        `${u}: each request has its own trace id (${traces.size} for ${rows.length})`,
      );
    }
    const u1 = new Set(exports['user-1']!.devices.map((d) => d.deviceId));
    const u2 = new Set(exports['user-2']!.devices.map((d) => d.deviceId));
    expect(
      [...u1].every((id) => !u2.has(id)),
      "user 1's export shares no device with user 2's",
    );
    const before = users.map((u) => exports[u]!.log.length);

    const [keep] = (await admin.request('POST', '/admin/retention', {})) as Array<{ days: number; deleted: number }>;
    expect(keep!.days === 90, `the retention job's default period is 90 days (${keep!.days})`);
    expect(keep!.deleted === 0, `a 90-day retention deletes none of this run's rows (${keep!.deleted})`);
    for (const [i, u] of users.entries())
      expect(
        (await admin.syncHistory(u)).log.length === before[i],
        `${u}: all ${before[i]} rows kept by the 90-day job`,
      );
    // Every row is already older than "now minus 0 days": the job with 0 days must delete them all.
    await clock.sleep(20);
    const [purge] = (await admin.request('POST', '/admin/retention', { days: 0 })) as Array<{ deleted: number }>;
    const total = before.reduce((a, b) => a + b, 0);
    expect(purge!.deleted >= total, `the 0-day job deleted every row written so far (${purge!.deleted} of ${total})`);
    for (const u of users)
      expect((await admin.syncHistory(u)).log.length === 0, `${u}: no sync_log row left after the 0-day job`);
    const after = await devices.phone1!.sync('manual');
    expect(after.ok, 'phone1 syncs after the retention job');
    const fresh = await exportOf('user-1', (h) => h.log.length > 0);
    expect(
      fresh.log.length === 1 && fresh.log[0]!.operation === 'PULL' && !!fresh.log[0]!.traceId,
      `a sync after the job is logged again (${fresh.log.map((r) => r.operation).join(', ')})`,
    );
    note(
      `sync_log rows (GDPR export): user-1 ${before[0]}, user-2 ${before[1]}; retention 90 d deleted ${keep!.deleted}, 0 d deleted ${purge!.deleted}`,
    );
    note(
      "proved: every pull and push batch of 2 users' phones and virtual users is one sync_log row with its own trace id; each user's GDPR export holds only its own devices and rows; the retention job (default 90 days) keeps younger rows and deletes older ones; sync_metadata_bytes max<1048576 per device is judged below",
    );
  },
});
