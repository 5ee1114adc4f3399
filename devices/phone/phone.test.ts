/**
 * The simulated phone against the REAL sync server on embedded PostgreSQL (HARNESS_PG_URL for `url`
 * mode). Every phone runs WatermelonDB's real synchronize() in its own worker thread.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Clock, ScaledClock } from '../../protocol/clock';
import type { SyncRecord, TableRecords } from '../../protocol/records';
import { TABLE_NAMES, type TableName } from '../../protocol/tables';
import { createPhone, type PhoneDevice, type PhoneOptions } from './index';
import { type Gate, startGate, startTestEnv, type TestEnv } from './test-support';

let env: TestEnv;
const live: PhoneDevice[] = [];
const gates: Gate[] = [];
let seq = 0;
const uid = (p: string) => `${p}-${process.pid}-${Date.now().toString(36)}-${seq++}`;

beforeAll(async () => {
  env = await startTestEnv();
});
afterEach(async () => {
  // Workers always end, whatever the test did.
  await Promise.all(live.splice(0).map((p) => p.kill().catch(() => {})));
  await Promise.all(gates.splice(0).map((g) => g.close()));
});
afterAll(async () => {
  await env?.close();
});

async function phone(
  userId: string,
  o: Partial<PhoneOptions> & { serverUrl?: string; clock?: Clock; schemaVersion?: 1 | 2 } = {},
): Promise<PhoneDevice> {
  const id = uid('phone');
  const p = createPhone({ id, autoTriggers: false, ...o });
  live.push(p);
  await p.start(
    env.ctx({ userId, deviceId: id, schemaVersion: o.schemaVersion, serverUrl: o.serverUrl, clock: o.clock }),
  );
  return p;
}

/** A pass-through HTTP proxy in front of the server that keeps every push request as it was on the wire. */
async function recordingProxy(target: string) {
  const pushes: Array<{ headers: IncomingHttpHeaders; wire: Buffer }> = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const wire = Buffer.concat(chunks);
    if (req.url?.startsWith('/sync/push')) pushes.push({ headers: req.headers, wire });
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)),
    ) as Record<string, string>;
    const up = await fetch(target + req.url, {
      method: req.method,
      headers,
      ...(wire.length ? { body: wire } : {}),
    });
    const body = Buffer.from(await up.arrayBuffer());
    res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, pushes, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * In front of the server: forwards everything until `cutNextPush()`; then the next push reaches the
 * server (and is applied) but its answer never comes back (the connection is destroyed), and every
 * request after it is dropped too, as when the network goes down right after a push went out.
 */
async function cuttingProxy(target: string) {
  let armed = false;
  let down = false;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (down) return void req.socket.destroy();
    const wire = Buffer.concat(chunks);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)),
    ) as Record<string, string>;
    const up = await fetch(target + req.url, { method: req.method, headers, ...(wire.length ? { body: wire } : {}) });
    const body = Buffer.from(await up.arrayBuffer());
    if (armed && req.url?.startsWith('/sync/push')) {
      down = true;
      return void req.socket.destroy();
    }
    res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    cutNextPush: () => {
      armed = true;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function synced(p: PhoneDevice) {
  const o = await p.sync('manual');
  expect(o.error ?? '').toBe('');
  expect(o.ok).toBe(true);
  expect(o.anomalies).toEqual([]);
  return o;
}

const row = (snap: TableRecords, table: TableName, id: string) => snap[table].find((r) => r.id === id);

/** One full row per table, every column set (v2). */
function fullRows(tag: string): Array<[TableName, SyncRecord]> {
  const now = Date.now();
  return [
    [
      'users',
      {
        id: `u-${tag}`,
        name: 'Ana',
        email: 'ana@example.test',
        max_hr: 190,
        resting_hr: 48,
        hr_zones: '[120,140,160]',
        pace_zones: '[300,270]',
        units: 'metric',
        updated_at: now,
      },
    ],
    [
      'activities',
      {
        id: `a-${tag}`,
        sport: 'run',
        started_at: now - 3_600_000,
        duration_s: 3600,
        distance_m: 10_000,
        avg_hr: 150,
        max_hr: 178,
        calories: 700,
        elevation_gain_m: 80,
        fit_file_key: 'fit/x.fit',
        source_device: 'garmin',
        rpe: 6,
        notes: 'ok',
        feeling: 'good',
        updated_at: now,
      },
    ],
    [
      'training_plans',
      {
        id: `tp-${tag}`,
        name: 'Marathon',
        goal_date: now + 9e9,
        weeks: 16,
        status: 'active',
        engine_version: 'b1',
        updated_at: now,
      },
    ],
    [
      'scheduled_workouts',
      {
        id: `sw-${tag}`,
        plan_id: `tp-${tag}`,
        date: '2026-12-01',
        sport: 'run',
        title: 'Tempo',
        description: '3x2k',
        target_duration_s: 3000,
        target_distance_m: 9000,
        intensity: 'hard',
        completed_activity_id: null,
        updated_at: now,
      },
    ],
    [
      'daily_metrics',
      {
        id: `dm-${tag}`,
        date: '2026-11-25',
        resting_hr: 47,
        hrv_ms: null,
        sleep_s: 27_000,
        weight_kg: 70.5,
        readiness: 80,
        soreness: null,
        mood: 'good',
        steps: 9000,
        updated_at: now,
      },
    ],
    [
      'goals',
      {
        id: `g-${tag}`,
        kind: 'race',
        title: 'Sub 3',
        target_value: 180,
        target_date: now + 9e9,
        status: 'active',
        updated_at: now,
      },
    ],
  ];
}

async function createAll(p: PhoneDevice, rows: Array<[TableName, SyncRecord]>) {
  for (const [table, { id, ...values }] of rows) await p.write({ op: 'create', table, id, values });
}

async function waitFor(cond: () => Promise<boolean>, ms: number, what: string) {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (await cond()) return performance.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

describe('phone (WatermelonDB synchronize in a worker) against the real server', () => {
  it('two phones of one user converge on every table, deletes included', async () => {
    const user = uid('user');
    const [a, b] = await Promise.all([phone(user), phone(user)]);
    const rowsA = fullRows('a');
    await createAll(a, rowsA);
    await createAll(b, fullRows('b'));
    const first = await synced(a);
    expect(first.pushed).toBe(6);
    await synced(b);
    await synced(a);
    const [sa, sb] = [await a.snapshot(), await b.snapshot()];
    expect(sa).toEqual(sb);
    for (const t of TABLE_NAMES) expect(sa[t]).toHaveLength(2);
    for (const [t, r] of rowsA) expect(row(sa, t, r.id)).toEqual(r);
    // A delete on one phone disappears on the other.
    await b.write({ op: 'delete', table: 'goals', id: 'g-a' });
    await b.write({ op: 'update', table: 'activities', id: 'a-a', values: { notes: 'edited on b' } });
    await synced(b);
    await synced(a);
    const [sa2, sb2] = [await a.snapshot(), await b.snapshot()];
    expect(sa2).toEqual(sb2);
    expect(row(sa2, 'goals', 'g-a')).toBeUndefined();
    expect(row(sa2, 'activities', 'a-a')?.notes).toBe('edited on b');
    expect(await a.pendingChanges()).toBe(0);
    expect(await b.pendingChanges()).toBe(0);
  });

  it('a push over the body limit goes as several gzip-compressed contract pushes; the other phone gets every row', async () => {
    const user = uid('user');
    const proxy = await recordingProxy(env.serverUrl);
    try {
      // 60 KB batches stand in for the 10 MB limit: same code path, a test-sized push.
      const a = await phone(user, { serverUrl: proxy.url, pushBatchBytes: 60_000 });
      const b = await phone(user);
      await synced(a);
      const now = Date.now();
      const ops = Array.from({ length: 200 }, (_, i) => ({
        op: 'create' as const,
        table: 'activities' as const,
        id: `big-${i}`,
        values: { sport: 'run', notes: `${i} ${'x'.repeat(1000)}`, updated_at: now },
      }));
      await a.writeMany(ops);
      const out = await synced(a);
      expect(out.pushed).toBe(200);
      expect(out.pushBatches).toBeGreaterThan(3);
      expect(proxy.pushes).toHaveLength(out.pushBatches!);
      const ids = new Set<string>();
      const pushIds = new Set<string>();
      const pulledAt = new Set<number>();
      for (const p of proxy.pushes) {
        expect(p.headers['content-encoding']).toBe('gzip');
        const json = gunzipSync(p.wire);
        expect(json.length).toBeLessThanOrEqual(60_000);
        expect(p.wire.length).toBeLessThan(json.length / 5);
        const body = JSON.parse(json.toString('utf8'));
        // The contract's body, nothing else; every batch judged against the same pull.
        expect(Object.keys(body).sort()).toEqual(['changes', 'deviceId', 'lastPulledAt', 'pushId']);
        pulledAt.add(body.lastPulledAt);
        pushIds.add(body.pushId);
        for (const r of body.changes.activities?.updated ?? []) ids.add(r.id);
        for (const r of body.changes.activities?.created ?? []) ids.add(r.id);
      }
      expect(ids.size).toBe(200);
      expect(pushIds.size).toBe(proxy.pushes.length);
      expect(pulledAt.size).toBe(1);
      expect(await a.pendingChanges()).toBe(0);
      await synced(b);
      expect((await b.snapshot()).activities.filter((r) => r.id.startsWith('big-'))).toHaveLength(200);
      // Nothing left to send: the next sync pushes nothing and pulls only echoes.
      const again = await synced(a);
      expect(again.pushed).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('writes offline, keeps them pending, and pushes them when back online', async () => {
    const user = uid('user');
    const gate = await startGate(env.serverUrl);
    gates.push(gate);
    const clock = new ScaledClock(1000);
    const a = await phone(user, { serverUrl: gate.url, clock, maxAttempts: 2 });
    const b = await phone(user);
    await synced(a);
    gate.setOnline(false);
    await createAll(a, fullRows('off'));
    await a.write({ op: 'update', table: 'goals', id: 'g-off', values: { title: 'Sub 2:59' } });
    const failed = await a.sync('manual');
    expect(failed.ok).toBe(false);
    expect(failed.attempts).toBe(2);
    expect(await a.pendingChanges()).toBe(6);
    gate.setOnline(true);
    const back = await synced(a);
    expect(back.pushed).toBe(6);
    expect(await a.pendingChanges()).toBe(0);
    await synced(b);
    expect(row(await b.snapshot(), 'goals', 'g-off')?.title).toBe('Sub 2:59');
  });

  it('a sync whose push may have been applied is indeterminate even when a later attempt fails before pushing', async () => {
    // The history reads a failed sync as "applied nothing" and an indeterminate one as "may have
    // applied": attempt 1's push reached the server and its answer was lost, attempt 2 failed in
    // its pull. Reported as a plain failure, the checkers would place the write's push later than
    // the server applied it (lost-writes then blames the server for the ordering it got).
    const user = uid('user');
    const proxy = await cuttingProxy(env.serverUrl);
    try {
      const a = await phone(user, { serverUrl: proxy.url, clock: new ScaledClock(1000), maxAttempts: 2 });
      await synced(a);
      await a.write({ op: 'create', table: 'goals', id: 'g-cut', values: { title: 'sent, answer lost' } });
      proxy.cutNextPush();
      const out = await a.sync('manual');
      expect(out.ok).toBe(false);
      expect(out.attempts).toBe(2);
      expect(out.error).toMatch(/pull/);
      expect(out.indeterminate).toBe(true);
      // It was applied: another phone of the user pulls it.
      const b = await phone(user);
      await synced(b);
      expect(row(await b.snapshot(), 'goals', 'g-cut')?.title).toBe('sent, answer lost');
    } finally {
      await proxy.close();
    }
  });

  it('resolves a conflict per table strategy end to end (contract table)', async () => {
    const user = uid('user');
    const a = await phone(user);
    const b = await phone(user);
    await createAll(a, fullRows('c'));
    await synced(a);
    await synced(b);
    const t0 = Date.now();
    // b edits and syncs first; a edits the same rows without having pulled b's edits.
    await b.write({ op: 'update', table: 'users', id: 'u-c', values: { units: 'imperial', updated_at: t0 + 10 } });
    await b.write({
      op: 'update',
      table: 'activities',
      id: 'a-c',
      values: { avg_hr: 155, notes: 'b notes', updated_at: t0 + 10 },
    });
    await b.write({
      op: 'update',
      table: 'training_plans',
      id: 'tp-c',
      values: { status: 'paused', updated_at: t0 + 10 },
    });
    await b.write({
      op: 'update',
      table: 'scheduled_workouts',
      id: 'sw-c',
      values: { title: 'b title', updated_at: t0 + 10 },
    });
    await b.write({
      op: 'update',
      table: 'daily_metrics',
      id: 'dm-c',
      values: { hrv_ms: 65, readiness: 70, updated_at: t0 + 10 },
    });
    await b.write({ op: 'update', table: 'goals', id: 'g-c', values: { title: 'b newer', updated_at: t0 + 20 } });
    await synced(b);
    await a.write({ op: 'update', table: 'users', id: 'u-c', values: { units: 'metric-a', updated_at: t0 + 5 } });
    await a.write({
      op: 'update',
      table: 'activities',
      id: 'a-c',
      values: { rpe: 9, notes: 'a notes', feeling: 'tired', updated_at: t0 + 5 },
    });
    await a.write({
      op: 'update',
      table: 'training_plans',
      id: 'tp-c',
      values: { status: 'done', updated_at: t0 + 5 },
    });
    await a.write({
      op: 'update',
      table: 'scheduled_workouts',
      id: 'sw-c',
      values: { title: 'a title', updated_at: t0 + 5 },
    });
    await a.write({
      op: 'update',
      table: 'daily_metrics',
      id: 'dm-c',
      values: { soreness: 4, readiness: 60, updated_at: t0 + 5 },
    });
    await a.write({ op: 'update', table: 'goals', id: 'g-c', values: { title: 'a older', updated_at: t0 + 15 } });
    const out = await synced(a);
    const byTable = Object.fromEntries(out.localConflicts.map((c) => [c.table, c.resolution]));
    expect(byTable).toEqual({
      users: 'client_wins',
      activities: 'merged',
      training_plans: 'server_wins',
      scheduled_workouts: 'server_wins',
      daily_metrics: 'merged',
      goals: 'server_wins',
    });
    await synced(b);
    const [sa, sb] = [await a.snapshot(), await b.snapshot()];
    expect(sa).toEqual(sb);
    expect(row(sa, 'users', 'u-c')?.units).toBe('metric-a'); // client wins
    const act = row(sa, 'activities', 'a-c')!;
    expect([act.avg_hr, act.rpe, act.notes, act.feeling]).toEqual([155, 9, 'a notes', 'tired']); // objective from server, subjective from client
    expect(row(sa, 'training_plans', 'tp-c')?.status).toBe('paused'); // server wins
    expect(row(sa, 'scheduled_workouts', 'sw-c')?.title).toBe('b title'); // server wins
    const dm = row(sa, 'daily_metrics', 'dm-c')!;
    expect([dm.hrv_ms, dm.soreness, dm.readiness]).toEqual([65, 4, 60]); // non-null client columns win
    expect(row(sa, 'goals', 'g-c')?.title).toBe('b newer'); // later updated_at wins although a synced last
    expect(await a.pendingChanges()).toBe(0);
  });

  it('edits made after a push survive that push echoing back in the next pull (no self-conflict)', async () => {
    const user = uid('user');
    const a = await phone(user);
    const b = await phone(user);
    await createAll(a, fullRows('e'));
    await synced(a); // pushes the rows; a's lastPulledAt predates them, so its next pull returns them
    await synced(b);
    await a.write({ op: 'update', table: 'training_plans', id: 'tp-e', values: { weeks: 10 } });
    await a.write({ op: 'update', table: 'activities', id: 'a-e', values: { distance_m: 5100 } });
    await a.write({ op: 'update', table: 'daily_metrics', id: 'dm-e', values: { steps: null } });
    const out = await synced(a);
    expect(out.localConflicts).toEqual([]);
    await synced(b);
    const sb = await b.snapshot();
    expect(row(sb, 'training_plans', 'tp-e')?.weeks).toBe(10);
    expect(row(sb, 'activities', 'a-e')?.distance_m).toBe(5100);
    expect(row(sb, 'daily_metrics', 'dm-e')?.steps).toBe(null);
  });

  it('survives an app kill in the middle of a sync: restarts from its stored database, nothing pending lost', async () => {
    const user = uid('user');
    const a = await phone(user);
    const n = 800;
    await a.writeMany(
      Array.from({ length: n }, (_, i) => ({
        op: 'create' as const,
        table: 'activities' as const,
        id: `k-${i}`,
        values: { sport: 'run', rpe: i % 10, notes: 'x'.repeat(200) },
      })),
    );
    // Kill right after the push leaves the phone.
    const syncing = a.sync('manual');
    await waitFor(async () => a.syncPhase === 'push', 10_000, 'the push phase');
    await a.kill();
    const killed = await syncing;
    expect(killed.ok).toBe(false);
    expect(killed.indeterminate).toBe(true);
    // A write acknowledged just before a kill is durable too.
    await a.restart();
    await a.write({ op: 'create', table: 'goals', id: 'k-goal', values: { title: 'after restart' } });
    await a.kill();
    await a.restart();
    expect((await a.snapshot()).activities).toHaveLength(n);
    expect(await a.pendingChanges()).toBeGreaterThanOrEqual(1);
    await synced(a);
    expect(await a.pendingChanges()).toBe(0);
    const b = await phone(user);
    await synced(b);
    const sb = await b.snapshot();
    expect(sb.activities).toHaveLength(n);
    expect(row(sb, 'goals', 'k-goal')?.title).toBe('after restart');
  });

  it('LokiJS adapter persists to a file across an app kill as well', async () => {
    const user = uid('user');
    const a = await phone(user, { adapter: 'lokijs' });
    await createAll(a, fullRows('loki'));
    await a.kill();
    await a.restart();
    expect(await a.pendingChanges()).toBe(6);
    await synced(a);
    await a.kill();
    await a.restart();
    expect(await a.pendingChanges()).toBe(0);
    const b = await phone(user);
    await synced(b);
    expect(await b.snapshot()).toEqual(await a.snapshot());
  });

  it('a schema v1 phone and a v2 phone share rows without losing v2 columns', async () => {
    const user = uid('user');
    const v2 = await phone(user, { schemaVersion: 2 });
    const v1 = await phone(user, { schemaVersion: 1 });
    await createAll(v2, fullRows('v'));
    await synced(v2);
    await synced(v1);
    const act1 = row(await v1.snapshot(), 'activities', 'a-v')!;
    expect('feeling' in act1).toBe(false);
    expect(act1.rpe).toBe(6);
    await v1.write({ op: 'update', table: 'activities', id: 'a-v', values: { rpe: 8 } });
    await v1.write({ op: 'create', table: 'daily_metrics', id: 'dm-v1', values: { date: '2026-11-26', steps: 1234 } });
    await expect(
      v1.write({ op: 'update', table: 'activities', id: 'a-v', values: { feeling: 'great' } }),
    ).rejects.toThrow(/HRN_ERR_PHONE_UNKNOWN_COLUMN/);
    await synced(v1);
    await synced(v2);
    const s2 = await v2.snapshot();
    expect(row(s2, 'activities', 'a-v')).toMatchObject({ rpe: 8, feeling: 'good' });
    expect(row(s2, 'daily_metrics', 'dm-v1')).toMatchObject({ steps: 1234, mood: null });
  });

  it('backs off 1 s, 2 s, 4 s … on the run clock, so a time scale shortens the waits', async () => {
    const sleeps: number[] = [];
    const base = new ScaledClock(200);
    const clock: Clock = {
      timeScale: base.timeScale,
      now: () => base.now(),
      sleep: (ms, signal) => {
        sleeps.push(ms);
        return base.sleep(ms, signal);
      },
    };
    const gate = await startGate(env.serverUrl);
    gates.push(gate);
    gate.setOnline(false);
    const a = await phone(uid('user'), { serverUrl: gate.url, clock, maxAttempts: 5 });
    const t0 = performance.now();
    const out = await a.sync('manual');
    const wall = performance.now() - t0;
    expect(out.ok).toBe(false);
    expect(out.attempts).toBe(5);
    expect(sleeps).toEqual([1000, 2000, 4000, 8000]);
    // 15 s of simulated backoff at ×200 is 75 ms of waiting; generous ceiling for a busy box.
    expect(wall).toBeLessThan(3000);
    expect(wall).toBeGreaterThanOrEqual(70);
  });

  it('auto triggers: app launch, background fetch on the scaled clock, reconnect with pending changes when the stream returns', async () => {
    const gate = await startGate(env.serverUrl);
    gates.push(gate);
    // ×10,000: the 15-minute background fetch comes every 90 ms of wall time.
    const a = await phone(uid('user'), { serverUrl: gate.url, clock: new ScaledClock(10_000), autoTriggers: true });
    await waitFor(async () => a.pokeStreamUp, 5000, 'the events stream');
    await waitFor(
      async () => a.outcomes.some((o) => o.trigger === 'background_fetch' && o.ok),
      5000,
      'a background fetch',
    );
    expect(a.outcomes[0]?.trigger).toBe('app_launch');
    gate.setOnline(false);
    await waitFor(async () => !a.pokeStreamUp, 5000, 'the stream to drop');
    // RFC 2.2.5: connection restored syncs only when there is something to push.
    await a.write({ op: 'create', table: 'goals', id: 'offline-goal', values: { title: 'offline' } });
    gate.setOnline(true);
    await waitFor(async () => a.outcomes.some((o) => o.trigger === 'reconnect' && o.ok), 5000, 'a reconnect sync');
  });

  it('a poke from the other phone triggers its pull within a second', async () => {
    const user = uid('user');
    const a = await phone(user);
    const b = await phone(user, { autoTriggers: { pokes: true, reconnect: true } });
    await synced(b);
    await waitFor(async () => b.pokeStreamUp, 5000, 'the events stream');
    await a.write({ op: 'create', table: 'goals', id: 'poke-goal', values: { title: 'hello' } });
    await synced(a);
    const pushedAt = performance.now();
    const seenAt = await waitFor(
      async () => !!row(await b.snapshot(), 'goals', 'poke-goal'),
      5000,
      'the poke-triggered pull',
    );
    expect(seenAt - pushedAt).toBeLessThan(1000);
    expect(b.outcomes.some((o) => o.trigger === 'poke' && o.ok)).toBe(true);
  });
});
