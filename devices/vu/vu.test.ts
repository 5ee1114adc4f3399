/** Virtual users against the REAL sync server on embedded PostgreSQL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPhone } from '../phone/index';
import { startTestEnv, type TestEnv } from '../phone/test-support';
import { createVirtualUser, makeRow, rng } from './index';

let env: TestEnv;
beforeAll(async () => {
  env = await startTestEnv();
});
afterAll(async () => {
  await env?.close();
});
const uid = (p: string) => `${p}-${process.pid}-${Date.now().toString(36)}`;

describe('virtual users', () => {
  it('a VU and a WatermelonDB phone of one user converge, conflicts resolved the same way', async () => {
    const user = uid('vu-user');
    const vu = createVirtualUser({ id: uid('vu') });
    const phone = createPhone({ id: uid('ph'), autoTriggers: false });
    await vu.start(env.ctx({ userId: user, deviceId: vu.id }));
    await phone.start(env.ctx({ userId: user, deviceId: phone.id }));
    try {
      const r = rng(7);
      for (const t of ['activities', 'daily_metrics', 'goals', 'users'] as const) {
        const { id, ...values } = makeRow(t, `${t}-1`, r, 2, Date.now());
        await vu.write({ op: 'create', table: t, id, values });
      }
      expect((await vu.sync('manual')).ok).toBe(true);
      expect((await phone.sync('manual')).ok).toBe(true);
      // Concurrent edits: the phone pushes first, the VU resolves against it on its pull.
      await phone.write({ op: 'update', table: 'activities', id: 'activities-1', values: { avg_hr: 111, rpe: 2 } });
      await vu.write({ op: 'update', table: 'activities', id: 'activities-1', values: { rpe: 7, notes: 'vu' } });
      await vu.write({ op: 'delete', table: 'goals', id: 'goals-1' });
      expect((await phone.sync('manual')).ok).toBe(true);
      expect((await vu.sync('manual')).ok).toBe(true);
      expect((await phone.sync('manual')).ok).toBe(true);
      const [sv, sp] = [await vu.snapshot(), await phone.snapshot()];
      expect(sv).toEqual(sp);
      expect(sp.activities[0]).toMatchObject({ avg_hr: 111, rpe: 7, notes: 'vu' });
      expect(sp.goals).toHaveLength(0);
      expect(await vu.pendingChanges()).toBe(0);
    } finally {
      await phone.kill();
    }
  });

  it('a push over the body limit goes in batches: every row arrives, nothing stays pending', async () => {
    const user = uid('vu-batch');
    const vu = createVirtualUser({ id: uid('vu'), pushBatchBytes: 20_000 });
    const reader = createVirtualUser({ id: uid('vu-r') });
    await vu.start(env.ctx({ userId: user, deviceId: vu.id }));
    await reader.start(env.ctx({ userId: user, deviceId: reader.id }));
    const now = Date.now();
    for (let i = 0; i < 80; i++)
      await vu.write({
        op: 'create',
        table: 'goals',
        id: `g-${i}`,
        values: { title: `${i} ${'x'.repeat(800)}`, updated_at: now },
      });
    const out = await vu.sync('manual');
    expect(out.error ?? '').toBe('');
    expect(out.pushed).toBe(80);
    // 80 rows of ~1 KB in 20 KB batches, each gzip-compressed: far fewer bytes than the rows.
    expect(out.bytesUp).toBeLessThan(80 * 800);
    expect(await vu.pendingChanges()).toBe(0);
    expect((await reader.sync('manual')).ok).toBe(true);
    expect((await reader.snapshot()).goals).toHaveLength(80);
  });

  it('a pull-only fetch of some tables misses nothing of the others, and the next push is not stale', async () => {
    const user = uid('vu-partial');
    const a = createVirtualUser({ id: uid('vu-a'), sendBookkeeping: false });
    const b = createVirtualUser({ id: uid('vu-b'), sendBookkeeping: false });
    await a.start(env.ctx({ userId: user, deviceId: a.id }));
    await b.start(env.ctx({ userId: user, deviceId: b.id }));
    const r = rng(3);
    const put = async (dev: typeof a, t: 'activities' | 'goals', id: string) => {
      const { id: _, ...values } = makeRow(t, id, r, 2, Date.now());
      await dev.write({ op: 'create', table: t, id, values });
    };
    await put(a, 'activities', 'act-1');
    await put(a, 'goals', 'goal-1');
    expect((await a.sync('manual')).ok).toBe(true);
    await put(b, 'goals', 'goal-b');
    const fetched = await b.pullOnly('background_fetch', ['activities']);
    expect(fetched.ok).toBe(true);
    expect(fetched.pushed).toBe(0);
    let snap = await b.snapshot();
    expect(snap.activities.map((x) => x.id)).toEqual(['act-1']);
    expect(snap.goals.map((x) => x.id)).toEqual(['goal-b']); // not pulled, and the local row still pending
    expect(await b.pendingChanges()).toBe(1);
    // Another change to a table the fetch skipped, then a full sync: it arrives, and the push is accepted.
    await put(a, 'goals', 'goal-2');
    expect((await a.sync('manual')).ok).toBe(true);
    const full = await b.sync('manual');
    expect(full.error ?? '').toBe('');
    expect(full.attempts).toBe(1);
    snap = await b.snapshot();
    expect(snap.goals.map((x) => x.id)).toEqual(['goal-1', 'goal-2', 'goal-b']);
    expect(await b.pendingChanges()).toBe(0);
  });
});
