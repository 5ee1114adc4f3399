/**
 * RFC §2.6 trigger scopes on the real phone against the real server: a subset sync pulls and pushes
 * only its tables and never moves the stamp the other tables depend on.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SyncTrigger } from '../../protocol/device';
import type { TableRecords } from '../../protocol/records';
import type { TableName } from '../../protocol/tables';
import { createPhone, type PhoneDevice } from './index';
import { startTestEnv, type TestEnv } from './test-support';

let env: TestEnv;
const live: PhoneDevice[] = [];
let seq = 0;
const uid = (p: string) => `${p}-${process.pid}-${Date.now().toString(36)}-${seq++}`;

beforeAll(async () => {
  env = await startTestEnv();
});
afterEach(async () => {
  await Promise.all(live.splice(0).map((p) => p.kill().catch(() => {})));
});
afterAll(async () => {
  await env?.close();
});

async function phone(userId: string): Promise<PhoneDevice> {
  const id = uid('phone');
  const p = createPhone({ id, autoTriggers: false });
  live.push(p);
  await p.start(env.ctx({ userId, deviceId: id }));
  return p;
}

async function ok(p: PhoneDevice, trigger: SyncTrigger) {
  const o = await p.sync(trigger);
  expect(o.error ?? '').toBe('');
  expect(o.ok).toBe(true);
  expect(o.anomalies).toEqual([]);
  return o;
}

const has = (snap: TableRecords, table: TableName, id: string) => snap[table].some((r) => r.id === id);

describe('phone sync triggers (RFC §2.6)', () => {
  it('a background fetch pulls only the core tables and leaves the other tables to the next full sync', async () => {
    const user = uid('user');
    const a = await phone(user);
    const b = await phone(user);
    await ok(a, 'app_launch');
    const before = await a.pullStamps();
    expect(before.all).toBeGreaterThan(0);
    await b.write({ op: 'create', table: 'goals', id: 'g1', values: { title: 'sub-3' } });
    await b.write({ op: 'create', table: 'activities', id: 'a1', values: { sport: 'run' } });
    await ok(b, 'manual');

    const bg = await ok(a, 'background_fetch');
    expect(bg.scope).toEqual(['activities', 'daily_metrics', 'scheduled_workouts']);
    let snap = await a.snapshot();
    expect(has(snap, 'activities', 'a1')).toBe(true);
    expect(has(snap, 'goals', 'g1')).toBe(false);
    // The pitfall: a subset pull moving the all-tables stamp would make goals skip g1 for good.
    const after = await a.pullStamps();
    expect(after.all).toBe(before.all);
    expect(after.tables.activities).toBe(bg.lastPulledAt);
    expect(after.tables.goals).toBeUndefined();

    const full = await ok(a, 'manual');
    expect(full.scope).toBe('all');
    snap = await a.snapshot();
    expect(has(snap, 'goals', 'g1')).toBe(true);
    expect((await a.pullStamps()).tables).toEqual({});
  });

  it('workout complete pushes activities only; the other tables stay pending', async () => {
    const user = uid('user');
    const a = await phone(user);
    const b = await phone(user);
    await ok(a, 'app_launch');
    await a.write({ op: 'create', table: 'activities', id: 'run-1', values: { sport: 'run', rpe: 7 } });
    await a.write({ op: 'create', table: 'goals', id: 'goal-1', values: { title: 'later' } });
    const w = await ok(a, 'workout_complete');
    expect(w.scope).toEqual(['activities']);
    expect(w.pushed).toBe(1);
    expect(await a.pendingChanges()).toBe(1);
    await ok(b, 'manual');
    let snap = await b.snapshot();
    expect(has(snap, 'activities', 'run-1')).toBe(true);
    expect(has(snap, 'goals', 'goal-1')).toBe(false);
    await ok(a, 'manual');
    expect(await a.pendingChanges()).toBe(0);
    await ok(b, 'manual');
    snap = await b.snapshot();
    expect(has(snap, 'goals', 'goal-1')).toBe(true);
  });

  it('a row a subset sync already pulled comes back in the full sync without overriding a newer local edit', async () => {
    const user = uid('user');
    const a = await phone(user);
    const b = await phone(user);
    await ok(a, 'app_launch');
    // scheduled_workouts is server-wins: a re-delivered copy treated as "the server's change" would
    // silently discard A's edit.
    await b.write({ op: 'create', table: 'scheduled_workouts', id: 'sw-1', values: { title: 'Tempo', sport: 'run' } });
    await ok(b, 'manual');
    await ok(a, 'background_fetch');
    await a.write({ op: 'update', table: 'scheduled_workouts', id: 'sw-1', values: { title: 'Tempo (moved)' } });
    const full = await ok(a, 'pull_to_refresh');
    expect(full.localConflicts).toEqual([]);
    expect(full.pushed).toBe(1);
    await ok(b, 'manual');
    const row = (await b.snapshot()).scheduled_workouts.find((r) => r.id === 'sw-1');
    expect(row?.title).toBe('Tempo (moved)');
  });

  it('the first sync is full whatever the trigger (no base to scope against)', async () => {
    const a = await phone(uid('user'));
    const o = await ok(a, 'checkin_submit');
    expect(o.scope).toBe('all');
    expect((await a.pullStamps()).all).toBeGreaterThan(0);
    expect((await ok(a, 'checkin_submit')).scope).toEqual(['daily_metrics']);
  });
});
