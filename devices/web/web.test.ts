/**
 * Web devices against the real stack: embedded PostgreSQL, the sync server, real Chromium.
 * Skipped (with the reason) when Chromium is missing; `make setup` installs it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFitActivity } from '../../fixtures/fit/generator';
import { resolveConflict } from '../../protocol/conflicts';
import { FIT_CONTENT_TYPE } from '../../protocol/files';
import type { SyncRecord } from '../../protocol/records';
import { TABLE_NAMES, type TableName } from '../../protocol/tables';
import { CHROMIUM_PATH, closeSharedBrowser } from './chromium';
import { createWebDevice, type WebDevice, type WebDeviceOptions } from './driver';
import { type Backend, startBackend } from './test-env';

const hasChromium = existsSync(CHROMIUM_PATH);
if (!hasChromium) console.warn(`web tests skipped: ${CHROMIUM_PATH} missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('web devices on the real server', () => {
  let be: Backend;
  const started: WebDevice[] = [];
  let users = 0;

  beforeAll(async () => {
    be = await startBackend({ objectStore: true });
  });
  afterAll(async () => {
    for (const d of started) await d.stop().catch(() => {});
    await closeSharedBrowser();
    await be?.close();
  });

  const newUser = () => `web-user-${++users}-${Date.now()}`;
  async function device(userId: string, deviceId: string, opts: Partial<WebDeviceOptions> = {}) {
    const d = createWebDevice({ id: deviceId, autoSync: false, ...opts });
    started.push(d);
    await d.start(be.context(userId, deviceId));
    return d;
  }
  const serverRows = async (userId: string, table: TableName) =>
    ((await be.serverView(userId)).changes[table]?.updated ?? []).sort((a, b) => (a.id < b.id ? -1 : 1));
  async function until(what: string, fn: () => Promise<boolean>, ms = 10_000) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await fn()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('two web devices converge, and a poke makes the other device pull by itself', async () => {
    const u = newUser();
    const a = await device(u, `${u}-a`);
    const b = await device(u, `${u}-b`, { autoSync: true });
    await a.write({
      op: 'create',
      table: 'goals',
      id: 'g1',
      values: { title: 'Run 10k', target_value: 10, status: 'active' },
    });
    await a.write({
      op: 'create',
      table: 'daily_metrics',
      id: 'd1',
      values: { date: '2026-11-25', resting_hr: 48, mood: 'ok' },
    });
    await b.write({
      op: 'create',
      table: 'activities',
      id: 'a1',
      values: { sport: 'run', distance_m: 10_000, rpe: 6 },
    });
    expect((await a.sync('manual')).ok).toBe(true);
    // b leads its own triggers: the poke after a's push makes it pull (and push its own write).
    await until('b to receive a poke and pull', async () => (await b.snapshot()).goals.length === 1);
    await until('b to push its activity', async () => (await b.pendingChanges()) === 0);
    // b's syncs were all started by the app itself (launch, poke): the energy meter charged them.
    await until('the meter to charge b', async () => (b.energy().details?.appStartedSyncs ?? 0) >= 2);
    expect(b.energy().details?.syncs).toBe(b.energy().details?.appStartedSyncs);
    expect(b.energy().joules).toBeGreaterThan(0);
    expect((await a.sync('manual')).ok).toBe(true);
    await a.write({ op: 'delete', table: 'daily_metrics', id: 'd1' });
    expect((await a.sync('manual')).ok).toBe(true);
    expect((await b.sync('manual')).ok).toBe(true);
    const [sa, sb] = [await a.snapshot(), await b.snapshot()];
    expect(sa).toEqual(sb);
    expect(sa.goals.map((r) => r.id)).toEqual(['g1']);
    expect(sa.activities.map((r) => r.id)).toEqual(['a1']);
    expect(sa.daily_metrics).toEqual([]);
    expect(await serverRows(u, 'activities')).toEqual(sa.activities);
  });

  it('a push over the batch size goes as several contract pushes, all rows once, nothing left pending', async () => {
    const u = newUser();
    const a = await device(u, `${u}-a`, { pushBatchBytes: 20_000 });
    for (let i = 0; i < 30; i++)
      await a.write({
        op: 'create',
        table: 'activities',
        id: `big-${i}`,
        values: { sport: 'run', notes: `${i} ${'x'.repeat(1500)}` },
      });
    const out = await a.sync('manual');
    expect(out.ok, out.error).toBe(true);
    expect(out.pushBatches ?? 0).toBeGreaterThan(1);
    expect(out.pushed).toBe(30);
    expect(await a.pendingChanges()).toBe(0);
    expect((await serverRows(u, 'activities')).map((r) => r.id).sort()).toEqual(
      Array.from({ length: 30 }, (_, i) => `big-${i}`).sort(),
    );
  });

  it('a multi-batch push cut after two batches resumes at the next sync from the first unacknowledged batch', async () => {
    const u = newUser();
    // One attempt per step: the cut ends the sync, so the rest is up to the next one.
    const a = await device(u, `${u}-a`, { pushBatchBytes: 10_000, maxAttempts: 1 });
    for (let i = 0; i < 30; i++)
      await a.write({
        op: 'create',
        table: 'activities',
        id: `cut-${i}`,
        values: { sport: 'run', notes: `${i} ${'x'.repeat(1500)}` },
      });
    // The server applies batch 3, and its answer never reaches the page (the device goes offline).
    a.appServer.beforePushResponse = async (e) => {
      if (/#3\/\d+$/.test(e.pushId ?? '')) a.appServer.setApiBlocked(true);
    };
    const cut = await a.sync('manual');
    a.appServer.beforePushResponse = undefined;
    a.appServer.setApiBlocked(false);
    expect(cut.ok).toBe(false);
    const sent = a.appServer.pushes.map((p) => p.pushId ?? '');
    const [, pushId, n] = /^(.+)#1\/(\d+)$/.exec(sent[0] ?? '') ?? [];
    expect(Number(n)).toBeGreaterThan(3);
    expect(sent).toEqual([1, 2, 3].map((i) => `${pushId}#${i}/${n}`));
    expect((await a.status(0)).pendingPushId).toBe(pushId);

    const resumed = await a.sync('manual');
    expect(resumed.ok, resumed.error).toBe(true);
    // Batches 1 and 2 were acknowledged: not sent again. Batch 3's answer was lost: resent, replayed by its pushId.
    const rest = Array.from({ length: Number(n) - 2 }, (_, k) => `${pushId}#${k + 3}/${n}`);
    expect(a.appServer.pushes.slice(sent.length).map((p) => p.pushId)).toEqual(rest);
    expect(resumed.pushBatches).toBe(Number(n) - 2);
    expect(await a.pendingChanges()).toBe(0);
    expect((await a.status(0)).pendingPushId).toBeNull();
    const onServer = (await serverRows(u, 'activities')).map((r) => r.id);
    expect(onServer.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `cut-${i}`).sort());
  });

  it('offline edits with every page closed reach the server through the service worker', async () => {
    const u = newUser();
    const a = await device(u, `${u}-a`, { backgroundSyncOnWrite: true });
    await a.serviceWorkerReady();
    await a.setOffline(true);
    for (let i = 0; i < 3; i++) {
      await a.write({
        op: 'create',
        table: 'goals',
        id: `g${i}`,
        values: { title: `offline ${i}`, target_value: i, status: 'active' },
      });
    }
    expect(await a.pendingChanges()).toBe(3);
    await a.closeAllTabs();
    expect(a.tabs.length).toBe(0);
    await a.setOffline(false);
    const done = await a.dispatchBackgroundSync();
    expect(done).toMatchObject({ ok: true });
    expect((await serverRows(u, 'goals')).map((r) => r.title)).toEqual(['offline 0', 'offline 1', 'offline 2']);
    expect(await a.pendingChanges()).toBe(0);
  });

  it('three tabs: the leader tab dies mid-push; the next tab resends the same pushId, no duplicate, no loss', async () => {
    const u = newUser();
    const a = await device(u, `${u}-a`, { tabs: 3 });
    await until('tab 0 to lead', async () => (await a.status(0)).leader);
    // Two followers edit the same record; all of it goes through one outbox.
    await a.write(
      { op: 'create', table: 'goals', id: 'g1', values: { title: 'from tab 1', target_value: 1, status: 'active' } },
      1,
    );
    await a.write({ op: 'update', table: 'goals', id: 'g1', values: { title: 'from tab 2', target_value: 2 } }, 2);
    await a.write({ op: 'create', table: 'users', id: 'me', values: { name: 'Ada', units: 'metric' } }, 2);
    // The other tabs see those writes live (liveQuery over the shared IndexedDB).
    await a.tabs[0]!.locator('tr[data-row="goals/g1"]', { hasText: 'from tab 2' }).waitFor({ timeout: 5_000 });
    await a.tabs[1]!.locator('tr[data-row="users/me"]').waitFor({ timeout: 5_000 });
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let reached!: () => void;
    const atHold = new Promise<void>((r) => {
      reached = r;
    });
    a.appServer.beforePushResponse = async () => {
      reached();
      await held;
    };
    const dying = a.sync('manual', 0);
    await atHold; // the server applied the push; its answer is held back
    await a.closeTab(0); // the leader tab goes away abruptly (no unload handlers)
    a.appServer.beforePushResponse = undefined;
    release();
    expect((await dying).ok).toBe(false);
    await until('a follower to take the leader lock', async () => (await a.status(0)).leader);
    const pending = await a.status(0);
    expect(pending.pendingPushId).toBe(a.appServer.pushes[0]!.pushId);
    // Both remaining tabs ask for a sync at once: the lock serialises them.
    const [o1, o2] = await Promise.all([a.sync('manual', 0), a.sync('manual', 1)]);
    expect(o1.ok && o2.ok).toBe(true);
    const pushes = a.appServer.pushes.filter((p) => p.status === 200 || p.error);
    // One pushId carried the changes (sent twice: original + resend); no second push of the same state.
    expect(new Set(pushes.map((p) => p.pushId)).size).toBe(1);
    expect(pushes.every((p) => (p.conflicts ?? 0) === 0)).toBe(true);
    const goals = await serverRows(u, 'goals');
    expect(goals).toHaveLength(1);
    expect(goals[0]).toMatchObject({ id: 'g1', title: 'from tab 2', target_value: 2, status: 'active' });
    expect((await serverRows(u, 'users')).map((r) => r.name)).toEqual(['Ada']);
    expect(await a.pendingChanges()).toBe(0);
  });

  it('a browser killed with unpushed changes delivers them after restart (persistent profile)', async () => {
    const u = newUser();
    const a = await device(u, `${u}-a`, { persistent: true });
    await a.write({
      op: 'create',
      table: 'activities',
      id: 'r1',
      values: { sport: 'ride', distance_m: 40_000, notes: 'windy' },
    });
    await a.write({ op: 'create', table: 'goals', id: 'g1', values: { title: 'Sub-3 marathon', status: 'active' } });
    const origin = a.url;
    await a.kill();
    await a.restart();
    expect(a.url).toBe(origin);
    expect(a.tabs.length).toBe(1);
    expect(await a.pendingChanges()).toBe(2);
    expect((await a.sync('app_launch')).ok).toBe(true);
    expect((await serverRows(u, 'activities')).map((r) => r.notes)).toEqual(['windy']);
    expect((await serverRows(u, 'goals')).map((r) => r.title)).toEqual(['Sub-3 marathon']);
  });

  it('concurrent edits on two web devices resolve per table strategy, the same on both and on the server', async () => {
    const u = newUser();
    const a = await device(u, `${u}-a`);
    const b = await device(u, `${u}-b`);
    const t0 = Date.now();
    const base: Record<TableName, Omit<SyncRecord, 'id'>> = {
      users: { name: 'Ada', email: 'ada@x', max_hr: 190, units: 'metric', updated_at: t0 },
      activities: { sport: 'run', distance_m: 10_000, avg_hr: 150, rpe: 5, notes: 'base', updated_at: t0 },
      training_plans: { name: 'Base', weeks: 12, status: 'active', updated_at: t0 },
      scheduled_workouts: { plan_id: 'p', date: '2026-12-01', title: 'Easy', intensity: 'z2', updated_at: t0 },
      daily_metrics: { date: '2026-11-25', resting_hr: 50, hrv_ms: 60, mood: 'ok', updated_at: t0 },
      goals: { title: 'Base goal', target_value: 1, status: 'active', updated_at: t0 },
    };
    const editA: Record<TableName, Omit<SyncRecord, 'id'>> = {
      users: { name: 'Ada A', max_hr: 191, updated_at: t0 + 20 },
      activities: { distance_m: 10_500, avg_hr: 151, notes: 'a notes', updated_at: t0 + 20 },
      training_plans: { name: 'Plan A', weeks: 10, updated_at: t0 + 20 },
      scheduled_workouts: { title: 'Tempo A', updated_at: t0 + 20 },
      daily_metrics: { resting_hr: 47, hrv_ms: 70, updated_at: t0 + 20 },
      goals: { title: 'Goal A (newer)', updated_at: t0 + 20 },
    };
    const editB: Record<TableName, Omit<SyncRecord, 'id'>> = {
      users: { email: 'b@x', max_hr: 185, updated_at: t0 + 10 },
      activities: { distance_m: 9_000, rpe: 8, notes: 'b notes', feeling: 'tired', updated_at: t0 + 10 },
      training_plans: { name: 'Plan B', updated_at: t0 + 10 },
      scheduled_workouts: { title: 'Intervals B', intensity: 'z4', updated_at: t0 + 10 },
      daily_metrics: { resting_hr: 49, mood: 'great', updated_at: t0 + 10 },
      goals: { title: 'Goal B (older)', target_value: 3, updated_at: t0 + 10 },
    };
    for (const t of TABLE_NAMES) await a.write({ op: 'create', table: t, id: `${t}-x`, values: base[t] });
    expect((await a.sync('manual')).ok).toBe(true);
    expect((await b.sync('manual')).ok).toBe(true);
    for (const t of TABLE_NAMES) {
      await a.write({ op: 'update', table: t, id: `${t}-x`, values: editA[t] });
      await b.write({ op: 'update', table: t, id: `${t}-x`, values: editB[t] });
    }
    const snapA = await a.snapshot();
    const snapB = await b.snapshot();
    expect((await a.sync('manual')).ok).toBe(true); // a first: its version is the server's
    expect((await b.sync('manual')).ok).toBe(true); // b meets a's change with unpushed edits
    expect((await a.sync('manual')).ok).toBe(true);
    const [fa, fb] = [await a.snapshot(), await b.snapshot()];
    expect(fa).toEqual(fb);
    const server = await be.serverView(u);
    for (const t of TABLE_NAMES) {
      const client = snapB[t][0]!;
      const serverRow = snapA[t][0]!;
      const expected = resolveConflict(t, client, serverRow).record;
      expect(fa[t][0], t).toEqual(expected);
      expect(server.changes[t]?.updated[0], t).toEqual(expected);
    }
    // Spot checks that the strategies did what the contract says.
    expect(fa.users[0]).toMatchObject({ email: 'b@x', max_hr: 185 }); // client wins (last pusher's full record)
    expect(fa.training_plans[0]).toMatchObject({ name: 'Plan A', weeks: 10 }); // server wins
    expect(fa.activities[0]).toMatchObject({ distance_m: 10_500, rpe: 8, notes: 'b notes', feeling: 'tired' }); // merge
    expect(fa.goals[0]).toMatchObject({ title: 'Goal A (newer)' }); // last write wins by updated_at
  });

  it('UI click path: fill the form, save, and the badge shows synced; back online it syncs by itself', async () => {
    const u = newUser();
    const a = await device(u, `${u}-a`, { syncOnUserAction: true, autoSync: true, backgroundSyncOnWrite: false });
    const page = a.tabs[0]!;
    await page.selectOption('#table-select', 'goals');
    await page.fill('#field-title', 'Ride 100 km');
    await page.fill('#field-target_value', '100');
    await page.fill('#field-status', 'active');
    await page.click('#save');
    await page.locator('#lists tr', { hasText: 'Ride 100 km' }).waitFor();
    // The save triggered a sync (user action): the server gets the row, the badge settles on synced.
    await until('the UI save to reach the server', async () => (await serverRows(u, 'goals')).length === 1);
    const badgeIs = (state: string, pending: string) =>
      page.waitForFunction(
        ([st, p]) =>
          document.querySelector('#badge')?.getAttribute('data-state') === st &&
          document.querySelector('#badge-pending')?.textContent === p,
        [state, pending] as const,
        { timeout: 15_000, polling: 50 },
      );
    await badgeIs('synced', '0');
    const goals = await serverRows(u, 'goals');
    expect(goals.map((g) => [g.title, g.target_value, g.status])).toEqual([['Ride 100 km', 100, 'active']]);
    // Offline: the save stays local and the badge says so; the `online` event makes the leader sync.
    await a.setOffline(true);
    await badgeIs('offline', '0');
    await page.fill('#field-title', 'Swim 2 km');
    await page.click('#save');
    await page.locator('#lists tr', { hasText: 'Swim 2 km' }).waitFor();
    await badgeIs('offline', '1');
    await a.setOffline(false);
    await badgeIs('synced', '0');
    expect((await serverRows(u, 'goals')).map((g) => g.title).sort()).toEqual(['Ride 100 km', 'Swim 2 km']);
  });
  // ------------------------------------------------------------------ FIT uploads (RFC 2.2.6)

  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const fit = (seed: number, durationS: number) =>
    generateFitActivity({ seed, sport: 'running', durationS, startTime: new Date(Date.UTC(2024, 5, seed, 6)) }).bytes;
  const attach = (d: WebDevice, recordId: string, bytes: Uint8Array) =>
    d.attachFile({ table: 'activities', recordId, bytes, fileName: `${recordId}.fit`, contentType: FIT_CONTENT_TYPE });
  async function activities(d: WebDevice, ids: string[]) {
    for (const id of ids)
      await d.write({ op: 'create', table: 'activities', id, values: { rpe: 6, notes: `web ${id}` } });
    expect((await d.sync('manual')).ok).toBe(true);
  }

  it('uploads FITs through the shared queue: once each, the record updated after complete, a corrupt FIT failed at once', async () => {
    const u = newUser();
    const a = await device(u, `${u}-a`);
    await activities(a, ['fa-1', 'fa-2', 'fa-bad']);
    const files = { 'fa-1': fit(1, 600), 'fa-2': fit(2, 1800) };
    const corrupt = readFileSync(join(__dirname, '..', '..', 'fixtures', 'fit', 'bad-crc.fit'));
    await attach(a, 'fa-1', files['fa-1']);
    await attach(a, 'fa-2', files['fa-2']);
    await attach(a, 'fa-bad', corrupt);
    // Enqueueing the same file for the same record again is a no-op.
    await attach(a, 'fa-1', files['fa-1']);
    await a.uploadsSettled();
    const st = a.uploadStatus()!;
    expect(st.done).toBe(2);
    expect(st.pending).toBe(0);
    expect(st.failed.map((f) => [f.recordId, f.lastStatus, f.retryCount])).toEqual([['fa-bad', 422, 1]]);
    expect(st.failed[0]!.lastError).toContain('File CRC mismatch');
    expect(a.uploadSummary()?.failed[0]).toMatchObject({ recordId: 'fa-bad', status: 422, attempts: 1 });
    const objects = await be.objects();
    for (const [id, bytes] of Object.entries(files)) {
      const stored = objects.filter((o) => o.sha256 === sha(bytes));
      expect(stored.length, `${id} stored once`).toBe(1);
      expect(stored[0]!.writes).toBe(1);
    }
    // Every PUT went through the app server's relay to the device's presigned URL, once per file: the
    // corrupt one too (the server decodes it on complete, and its 422 is final).
    expect(a.appServer.uploads.map((e) => e.status)).toEqual([200, 200, 200]);
    // The local record learned its key from the server's confirmation; the server has the FIT's columns.
    const local = new Map((await a.snapshot()).activities.map((r) => [r.id, r]));
    expect(objects.map((o) => o.key)).toContain(local.get('fa-1')?.fit_file_key);
    expect(local.get('fa-bad')?.fit_file_key ?? null).toBeNull();
    expect((await a.sync('manual')).ok).toBe(true);
    const server = new Map((await serverRows(u, 'activities')).map((r) => [r.id, r]));
    expect(server.get('fa-2')?.duration_s).toBe(1800);
    expect(server.get('fa-2')?.fit_file_key).toBe(local.get('fa-2')?.fit_file_key);
    expect(server.get('fa-bad')?.fit_file_key ?? null).toBeNull();
  });

  it('an unreachable network fails an upload after 3 attempts with backoff; the retry button delivers it', async () => {
    const u = newUser();
    const a = await device(u, `${u}-a`);
    await activities(a, ['fb-1']);
    const bytes = fit(3, 900);
    await a.setOffline(true);
    await attach(a, 'fb-1', bytes);
    await a.uploadsSettled();
    const st = a.uploadStatus()!;
    expect(st.failed.map((f) => [f.recordId, f.retryCount])).toEqual([['fb-1', 3]]);
    expect(st.done).toBe(0);
    await a.setOffline(false);
    expect(await a.retryFailedUploads()).toBe(1);
    await a.uploadsSettled();
    expect(a.uploadStatus()).toMatchObject({ done: 1, pending: 0, failed: [] });
    expect((await be.objects()).filter((o) => o.sha256 === sha(bytes))).toHaveLength(1);
  });

  it('a reload after the store took the PUT but before the page heard back resumes the queue: no duplicate', async () => {
    const u = newUser();
    const a = await device(u, `${u}-a`);
    await activities(a, ['fc-1', 'fc-2']);
    const files = { 'fc-1': fit(4, 2700), 'fc-2': fit(5, 600) };
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let stored!: () => void;
    const storeAnswered = new Promise<void>((r) => {
      stored = r;
    });
    a.appServer.beforeUploadResponse = async () => {
      a.appServer.beforeUploadResponse = undefined;
      stored();
      await held;
    };
    await attach(a, 'fc-1', files['fc-1']);
    await attach(a, 'fc-2', files['fc-2']);
    // Waiting for the queue spans the reload: the reloaded tab resumes it, and the wait with it.
    const settled = a.uploadsSettled();
    await storeAnswered;
    await a.reload();
    release();
    await settled;
    const st = a.uploadStatus()!;
    expect(st).toMatchObject({ done: 2, pending: 0, failed: [] });
    const objects = await be.objects();
    for (const [id, bytes] of Object.entries(files))
      expect(objects.filter((o) => o.sha256 === sha(bytes)).length, `${id} stored once`).toBe(1);
    // The first file's PUT landed twice on the same content-addressed key: rewritten, not duplicated.
    expect(objects.find((o) => o.sha256 === sha(files['fc-1']))?.writes).toBe(2);
    const local = new Map((await a.snapshot()).activities.map((r) => [r.id, r]));
    for (const id of Object.keys(files)) expect(objects.map((o) => o.key)).toContain(local.get(id)?.fit_file_key);
  });
  it('a file attached before its record was pushed waits, and completes after the next sync', async () => {
    const u = newUser();
    const a = await device(u, `${u}-a`);
    await a.write({ op: 'create', table: 'activities', id: 'fd-1', values: { rpe: 5, notes: 'not pushed yet' } });
    const bytes = fit(6, 1200);
    await attach(a, 'fd-1', bytes);
    await a.uploadsSettled();
    // Uploaded, but the server has no record to attach it to: not a failed attempt, it waits.
    expect(a.uploadStatus()).toMatchObject({ pending: 1, done: 0, failed: [] });
    expect((await a.sync('manual')).ok).toBe(true);
    // The sync's broadcast makes the leader tab complete it by itself.
    await until('the upload to complete after the sync', async () => a.uploadStatus()?.done === 1);
    expect((await be.objects()).filter((o) => o.sha256 === sha(bytes))).toHaveLength(1);
    const local = (await a.snapshot()).activities.find((r) => r.id === 'fd-1');
    expect(typeof local?.fit_file_key).toBe('string');
    expect((await a.sync('manual')).ok).toBe(true);
    const server = (await serverRows(u, 'activities')).find((r) => r.id === 'fd-1');
    expect(server).toMatchObject({ fit_file_key: local?.fit_file_key, duration_s: 1200 });
  });
});
