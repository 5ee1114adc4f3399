/**
 * Concurrent pushes from several devices interleave with pulls; every device pulls with its last
 * timestamp and folds what it sees into a local view. If any write committed with a stamp at or
 * below a timestamp some device had already pulled, that device would miss it and its view would
 * differ from the final server state.
 */
import pg from 'pg';
import { expect, it, vi } from 'vitest';
import { mulberry32 } from '../protocol/random';
import type { PullResponse, SyncRecord } from '../protocol/records';
import type { TableName } from '../protocol/tables';
import { serverPerFile, TestDevice } from './test-helpers';

const server = serverPerFile();
const original = pg.Client.prototype.query;

function rng(seed: number) {
  return mulberry32(seed);
}

type View = Map<string, SyncRecord>;
const TABLES: TableName[] = ['goals', 'activities', 'daily_metrics'];

function fold(view: View, p: PullResponse) {
  for (const t of TABLES) {
    const tc = p.changes[t]!;
    for (const r of tc.updated) view.set(`${t}/${r.id}`, r);
    for (const id of tc.deleted) view.delete(`${t}/${id}`);
  }
}

it('no device ever misses a change under concurrent pushes and pulls', async () => {
  // Which round trips the pushes took: once a connection has prepared the push statements, BEGIN,
  // the lock and the read go as one simple query, the write and COMMIT as another.
  const texts: string[] = [];
  const spy = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...a: unknown[]) {
    if (typeof a[0] === 'string') texts.push(a[0]);
    return original.apply(this, a as never);
  } as never);
  const DEVICES = 6;
  const ROUNDS = 12;
  const devices = await Promise.all(
    Array.from({ length: DEVICES }, (_, i) => TestDevice.create(server.app, 'conc-user', `conc-${i}`)),
  );
  const views: View[] = devices.map(() => new Map());
  let conflicts = 0;
  await Promise.all(
    devices.map(async (d, i) => {
      const rand = rng(1000 + i);
      for (let round = 0; round < ROUNDS; round++) {
        fold(views[i]!, await d.pull());
        const changes: Record<string, { created: SyncRecord[]; updated: SyncRecord[]; deleted: string[] }> = {};
        const used = new Set<string>();
        for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) {
          const t = TABLES[Math.floor(rand() * TABLES.length)]!;
          const id = `r${Math.floor(rand() * 8)}`;
          if (used.has(`${t}/${id}`)) continue;
          used.add(`${t}/${id}`);
          changes[t] ??= { created: [], updated: [], deleted: [] };
          const op = rand();
          const values: Omit<SyncRecord, 'id'> =
            t === 'goals'
              ? { title: `d${i}-${round}`, updated_at: Date.now() }
              : t === 'activities'
                ? { notes: `d${i}-${round}`, distance_m: round }
                : { steps: i * 100 + round };
          if (op < 0.4) changes[t].created.push({ id, ...values });
          else if (op < 0.85) changes[t].updated.push({ id, ...values });
          else changes[t].deleted.push(id);
        }
        const res = await d.push(changes);
        conflicts += res.conflictedRecords.length;
        // interleave an extra pull now and then (a device polling)
        if (rand() < 0.3) fold(views[i]!, await d.pull());
      }
    }),
  );
  // Quiescence: every device pulls once more; its folded view must equal the server's final state.
  const final: View = new Map();
  fold(final, (await devices[0]!.pullRaw(0)).body);
  expect(final.size).toBeGreaterThan(0);
  for (let i = 0; i < DEVICES; i++) {
    fold(views[i]!, await devices[i]!.pull());
    expect(Object.fromEntries([...views[i]!].sort()), `device ${i}`).toEqual(Object.fromEntries([...final].sort()));
  }
  expect(conflicts).toBeGreaterThan(0); // the workload really did collide
  // Stamps are unique per user write and strictly increasing per commit: no two pushes shared one.
  const stamps = await server.app.sync.pool.query(
    `SELECT count(DISTINCT _stamp)::int AS n FROM (
       SELECT _stamp FROM goals WHERE user_id = 'conc-user' UNION ALL
       SELECT _stamp FROM activities WHERE user_id = 'conc-user' UNION ALL
       SELECT _stamp FROM daily_metrics WHERE user_id = 'conc-user') s`,
  );
  expect(stamps.rows[0].n).toBeGreaterThan(1);
  spy.mockRestore();
  // The lock and the read run their prepared statements' generic plans, for that transaction only.
  const lockAndRead = texts.filter((t) =>
    /^BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; EXECUTE lock_user\('conc-user'\); EXECUTE push_read_/.test(
      t,
    ),
  );
  const writeAndCommit = texts.filter((t) =>
    /^SET LOCAL plan_cache_mode = auto; EXECUTE push_write_[\d_]+\(.*\); COMMIT$/s.test(t),
  );
  // 72 pushes of up to 7 table sets over a pool of several connections: the first push of a table
  // set on a connection prepares its statements (4 round trips), later ones take the short path.
  expect(lockAndRead.length).toBeGreaterThanOrEqual(10);
  expect(writeAndCommit.length).toBeGreaterThanOrEqual(10);
});
