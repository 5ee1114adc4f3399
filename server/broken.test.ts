/**
 * Each broken mode really breaks its rule (the checkers downstream rely on that), and is off unless asked.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import type { PullResponse } from '../protocol/records';
import { TABLE_NAMES } from '../protocol/tables';
import { buildApp } from './app';
import { type BrokenMode, parseBrokenModes } from './broken';
import { changes, pulledRow, serverPerFile, TestDevice } from './test-helpers';

const server = serverPerFile();
const apps: FastifyInstance[] = [];
let n = 0;

afterAll(async () => {
  for (const a of apps) await a.close();
});

async function brokenApp(mode: BrokenMode) {
  const app = await buildApp({ databaseUrl: server.databaseUrl, logLevel: 'silent', broken: [mode] });
  apps.push(app);
  n++;
  const a = await TestDevice.create(app, `bu${n}`, `bu${n}-a`);
  const b = await TestDevice.create(app, `bu${n}`, `bu${n}-b`);
  return { app, a, b, user: `bu${n}` };
}

const q = async (sql: string, params: unknown[]) => (await server.app.sync.pool.query(sql, params)).rows;

function idsTwice(p: PullResponse): string[] {
  const dups: string[] = [];
  for (const t of TABLE_NAMES) {
    const tc = p.changes[t];
    if (!tc) continue;
    const seen = new Set<string>();
    for (const id of [...tc.created.map((r) => r.id), ...tc.updated.map((r) => r.id), ...tc.deleted]) {
      if (seen.has(id)) dups.push(`${t}/${id}`);
      seen.add(id);
    }
  }
  return dups;
}

describe('broken modes', () => {
  it('skip-stale-check: a stale update overwrites a newer row without a conflict (lost update)', async () => {
    const { a, b } = await brokenApp('skip-stale-check');
    await a.pull();
    await a.push(changes('training_plans', { created: [{ id: 'p1', weeks: 10 }] }));
    await a.pull();
    await b.pull();
    await b.push(changes('training_plans', { updated: [{ id: 'p1', weeks: 12 }] }));
    const res = await a.push(changes('training_plans', { updated: [{ id: 'p1', weeks: 8 }] }));
    expect(res.conflictedRecords).toEqual([]); // a correct server reports server_wins and keeps 12
    expect(pulledRow(await b.pull(), 'training_plans', 'p1')?.weeks).toBe(8);
  });

  it('split-push-transactions: a multi-table push is half-applied', async () => {
    const { a, user } = await brokenApp('split-push-transactions');
    await a.pull();
    const r = await a.pushRaw({
      changes: {
        ...changes('users', { created: [{ id: 'me', name: 'Ann' }] }),
        ...changes('goals', { created: [{ id: 'g1', title: 'x' }] }),
      },
      lastPulledAt: a.lastPulledAt,
      deviceId: a.deviceId,
    });
    expect(r.status).toBe(500);
    expect(await q('SELECT count(*)::int AS n FROM users WHERE user_id = $1', [user])).toEqual([{ n: 1 }]);
    expect(await q('SELECT count(*)::int AS n FROM goals WHERE user_id = $1', [user])).toEqual([{ n: 0 }]);
    // and a bad record in the last table no longer protects the first one
    const bad = await a.pushRaw({
      changes: {
        ...changes('activities', { created: [{ id: 'a1', sport: 'run' }] }),
        ...changes('goals', { created: [{ id: 'g2', target_value: 'ten' }] }),
      },
      lastPulledAt: a.lastPulledAt,
      deviceId: a.deviceId,
    });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(await q('SELECT count(*)::int AS n FROM activities WHERE user_id = $1', [user])).toEqual([{ n: 1 }]);
  });

  it('stamp-before-commit: a pull taken during a push misses that push forever', async () => {
    const { app, a, b } = await brokenApp('stamp-before-commit');
    await a.pull();
    await b.pull();
    // The push takes its stamp, then waits in the window until the pull below has been answered.
    let inWindow = () => {};
    const stamped = new Promise<void>((r) => {
      inWindow = r;
    });
    let closeWindow = () => {};
    const windowClosed = new Promise<void>((r) => {
      closeWindow = r;
    });
    app.sync.store.brokenStampWindow = () => {
      inWindow();
      return windowClosed;
    };
    const pushing = a.push(changes('goals', { created: [{ id: 'late', title: 'x' }] }));
    await stamped;
    const during = await b.pull(); // read now: timestamp = wall clock, the push is not committed yet
    expect(pulledRow(during, 'goals', 'late')).toBeUndefined();
    closeWindow();
    await pushing;
    const after = await b.pull();
    expect(pulledRow(after, 'goals', 'late')).toBeUndefined(); // missed: its stamp is below b's lastPulledAt
    const full = await b.pullRaw(0);
    expect(pulledRow(full.body, 'goals', 'late')).toBeDefined(); // ...although it is on the server
  });

  it('duplicate-ids-in-pull: the same id appears twice in one pull', async () => {
    const { a, b } = await brokenApp('duplicate-ids-in-pull');
    await a.pull();
    await a.push(changes('goals', { created: [{ id: 'g1' }, { id: 'g2' }] }));
    await a.pull();
    await a.push(changes('goals', { deleted: ['g2'] }));
    const p = await b.pull();
    expect(idsTwice(p).length).toBeGreaterThan(0);
    expect(p.changes.goals!.deleted).toContain('g2');
    expect(p.changes.goals!.updated.map((r) => r.id)).toContain('g2');
  });

  it('resurrect-on-update: a stale update brings a deleted row back', async () => {
    const { a, b } = await brokenApp('resurrect-on-update');
    await a.pull();
    await a.push(changes('goals', { created: [{ id: 'g1', title: 'x' }] }));
    await a.pull();
    await b.pull();
    await a.push(changes('goals', { deleted: ['g1'] }));
    const res = await b.push(changes('goals', { updated: [{ id: 'g1', title: 'zombie' }] }));
    expect(res.conflictedRecords).toEqual([]);
    expect(pulledRow(await a.pull(), 'goals', 'g1')?.title).toBe('zombie');
  });

  it('drop-conflicts-from-log: conflicts are reported to the client but missing from sync_log', async () => {
    const { a, b, user } = await brokenApp('drop-conflicts-from-log');
    await a.pull();
    await a.push(changes('training_plans', { created: [{ id: 'p1', weeks: 1 }] }));
    await a.pull();
    await b.pull();
    await b.push(changes('training_plans', { updated: [{ id: 'p1', weeks: 2 }] }));
    const res = await a.push(changes('training_plans', { updated: [{ id: 'p1', weeks: 3 }] }));
    expect(res.conflictedRecords).toHaveLength(1);
    expect(
      await q("SELECT count(*)::int AS n FROM sync_log WHERE user_id = $1 AND operation = 'CONFLICT_RESOLVED'", [user]),
    ).toEqual([{ n: 0 }]);
  });

  it('poison-push: a push carrying "poison" fails every time; the server logs the continuous retries per device', async () => {
    const lines: string[] = [];
    const logStream = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const app = await buildApp({
      databaseUrl: server.databaseUrl,
      logLevel: 'warn',
      logStream,
      broken: ['poison-push'],
    });
    apps.push(app);
    const a = await TestDevice.create(app, 'bu-poison', 'bu-poison-a');
    await a.pull();
    const body = {
      changes: changes('goals', { created: [{ id: 'gp', title: 'a poison pill' }] }),
      lastPulledAt: a.lastPulledAt,
      deviceId: a.deviceId,
    };
    for (let i = 0; i < 5; i++) expect((await a.pushRaw(body, a.schemaVersion)).status).toBe(500);
    const warned = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'sync loop suspected: continuous retries');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ deviceId: 'bu-poison-a', operation: 'PUSH', consecutiveFailures: 5 });
    // Anything else goes through: only the poisoned push loops.
    await a.push(changes('goals', { created: [{ id: 'gq', title: 'fine' }] }));
  });

  it('are off by default, parsed strictly from SYNC_SERVER_BROKEN, and refused outside test mode', async () => {
    expect(server.app.sync.broken.size).toBe(0);
    expect(parseBrokenModes(' skip-stale-check , resurrect-on-update ')).toEqual([
      'skip-stale-check',
      'resurrect-on-update',
    ]);
    expect(parseBrokenModes(undefined)).toEqual([]);
    expect(() => parseBrokenModes('skip-stale-check,typo')).toThrow(/unknown broken mode "typo"/);
    await expect(
      buildApp({
        databaseUrl: server.databaseUrl,
        testMode: false,
        jwtSecret: 'x',
        broken: ['skip-stale-check'],
        logLevel: 'silent',
      }),
    ).rejects.toThrow(/only allowed in test mode/);
    const prev = process.env.SYNC_SERVER_BROKEN;
    process.env.SYNC_SERVER_BROKEN = 'drop-conflicts-from-log';
    try {
      const app = await buildApp({ databaseUrl: server.databaseUrl, logLevel: 'silent' });
      apps.push(app);
      expect([...app.sync.broken]).toEqual(['drop-conflicts-from-log']);
    } finally {
      if (prev === undefined) delete process.env.SYNC_SERVER_BROKEN;
      else process.env.SYNC_SERVER_BROKEN = prev;
    }
  });
});
