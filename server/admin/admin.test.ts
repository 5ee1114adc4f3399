/**
 * Operator routes: maintenance mode closes exactly the sync and file routes (503 + Retry-After,
 * before auth, nothing written), keeps health, metrics and admin open, and the admin body is strict.
 */

import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PUSH_RESULTS_KEPT } from '../store';
import { changes, serverPerFile, TestDevice } from '../test-helpers';

const server = serverPerFile();

const put = (payload: unknown) =>
  server.app.inject({ method: 'PUT', url: '/admin/maintenance', payload: payload as never });

describe('maintenance mode', () => {
  it('answers 503 SYNC_ERR_MAINTENANCE with Retry-After on sync and file routes, changes nothing, and lifts', async () => {
    const d = await TestDevice.create(server.app, 'mm-u', 'mm-d');
    await d.sync(changes('goals', { created: [{ id: 'g1', title: 'before' }] }));
    expect((await put({ enabled: true, retryAfterSeconds: 7 })).json()).toMatchObject({
      enabled: true,
      retryAfterSeconds: 7,
      refused: 0,
    });
    const pull = await d.pullRaw();
    expect(pull.status).toBe(503);
    expect(pull.headers['retry-after']).toBe('7');
    expect(pull.body.error.code).toBe('SYNC_ERR_MAINTENANCE');
    expect(pull.body.error.message).toMatch(/maintenance; retry after 7 s/);
    const push = await d.pushRaw({
      changes: changes('goals', { created: [{ id: 'g2', title: 'during' }] }),
      lastPulledAt: 1,
      deviceId: 'mm-d',
    });
    expect([push.status, push.headers['retry-after']]).toEqual([503, '7']);
    // Refused before authentication: even a request without a token gets the maintenance answer.
    const anon = await server.app.inject({ method: 'POST', url: '/files/upload-url', payload: {} });
    expect(anon.statusCode).toBe(503);
    for (const url of ['/healthz', '/metrics', '/admin/maintenance'])
      expect((await server.app.inject({ url })).statusCode, url).toBe(200);
    expect((await server.app.inject({ url: '/admin/maintenance' })).json()).toMatchObject({ refused: 3 });
    expect((await put({ enabled: false })).json()).toMatchObject({ enabled: false, since: null });
    const after = await d.pullRaw(0);
    expect(after.body.changes.goals!.updated.map((r) => r.id)).toEqual(['g1']);
  });

  it('the admin body is strict', async () => {
    for (const bad of [
      {},
      { enabled: 'yes' },
      { enabled: true, retryAfterSeconds: 0 },
      { enabled: true, extra: 1 },
      [true],
    ]) {
      const r = await put(bad);
      expect(r.statusCode, JSON.stringify(bad)).toBe(400);
      expect(r.json().error.code).toBe('SYNC_ERR_BAD_REQUEST');
    }
  });
});

describe('forced full re-sync', () => {
  const reset = (payload: unknown) =>
    server.app.inject({ method: 'POST', url: '/admin/devices/reset', payload: payload as never });

  it('answers 410 SYNC_ERR_RESYNC_REQUIRED to incremental pulls and pushes until a full pull, logged FULL_SYNC', async () => {
    const d = await TestDevice.create(server.app, 'rs-u', 'rs-d');
    await d.sync(changes('goals', { created: [{ id: 'r1', title: 'one' }] }));
    const before = d.lastPulledAt;
    expect(before).toBeGreaterThan(0);
    expect((await reset({ userId: 'rs-u', deviceId: 'rs-d' })).json()).toMatchObject({ deviceId: 'rs-d' });
    const inc = await d.pullRaw(before);
    expect([inc.status, inc.body.error.code]).toEqual([410, 'SYNC_ERR_RESYNC_REQUIRED']);
    expect(inc.body.error.message).toMatch(/pull everything with lastPulledAt=0/);
    const push = await d.pushRaw({
      changes: changes('goals', { created: [{ id: 'r2', title: 'two' }] }),
      lastPulledAt: before,
      deviceId: 'rs-d',
    });
    expect([push.status, push.body.error.code]).toEqual([410, 'SYNC_ERR_RESYNC_REQUIRED']);
    const subset = await d.pullRaw(0, '&tables=goals');
    expect(subset.status).toBe(410);
    const full = await d.pullRaw(0);
    expect(full.status).toBe(200);
    expect(full.body.changes.goals!.updated.map((r) => r.id)).toEqual(['r1']);
    const again = await d.pushRaw({
      changes: changes('goals', { created: [{ id: 'r2', title: 'two' }] }),
      lastPulledAt: full.body.timestamp,
      deviceId: 'rs-d',
    });
    expect(again.status).toBe(200);
    const log = await server.app.sync.pool.query(
      "SELECT operation, record_count FROM sync_log WHERE device_id = 'rs-d' AND operation = 'FULL_SYNC'",
    );
    expect(log.rows).toEqual([{ operation: 'FULL_SYNC', record_count: 1 }]);
  });

  it("waits for the user's lock, so a push in flight commits before the reset clears its state", async () => {
    const d = await TestDevice.create(server.app, 'rs-lock-u', 'rs-lock-d');
    await d.sync(changes('goals', { created: [{ id: 'l1', title: 'one' }] }));
    // Hold the user's lock the way a push does, on a connection of our own.
    const holder = new pg.Client({ connectionString: server.databaseUrl });
    await holder.connect();
    try {
      await holder.query("BEGIN; SELECT stamp FROM user_stamps WHERE user_id = 'rs-lock-u' FOR UPDATE");
      // What the push would write under the lock: its device state.
      await holder.query(
        "UPDATE sync_state SET last_pushed_at = 42 WHERE user_id = 'rs-lock-u' AND device_id = 'rs-lock-d'",
      );
      let settled = false;
      const pending = reset({ userId: 'rs-lock-u', deviceId: 'rs-lock-d' }).finally(() => {
        settled = true;
      });
      // The reset's backend waits on a lock (an event PostgreSQL reports): the user's, taken first.
      let waiting: string | undefined;
      while (waiting === undefined) {
        const w = await server.app.sync.pool.query("SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock'");
        waiting = w.rows[0]?.query;
        expect(settled).toBe(false);
        if (waiting === undefined) await new Promise((r) => setImmediate(r));
      }
      expect(waiting).toMatch(/^SELECT stamp FROM user_stamps WHERE user_id = \$1 FOR UPDATE/);
      expect(settled).toBe(false);
      await holder.query('COMMIT');
      expect((await pending).statusCode).toBe(200);
    } finally {
      await holder.end();
    }
    // The reset came after the "push" and cleared what it wrote.
    const st = await server.app.sync.pool.query(
      "SELECT last_pulled_at, last_pushed_at FROM sync_state WHERE user_id = 'rs-lock-u' AND device_id = 'rs-lock-d'",
    );
    expect(st.rows).toEqual([{ last_pulled_at: 0, last_pushed_at: null }]);
  });

  it('the reset body is strict', async () => {
    for (const bad of [{}, { userId: 'u' }, { userId: 'u', deviceId: 3 }, { userId: 'u', deviceId: 'd', x: 1 }])
      expect((await reset(bad)).statusCode, JSON.stringify(bad)).toBe(400);
  });
});

describe('audit and retention', () => {
  it('every sync_log row of a request carries its trace id, which is also in every log line of it', async () => {
    const d = await TestDevice.create(server.app, 'tr-u', 'tr-d');
    const r = await server.app.inject({
      method: 'POST',
      url: '/sync/push',
      headers: { authorization: `Bearer ${d.token}`, 'x-request-id': 'trace-audit-1' },
      payload: {
        changes: changes('goals', { created: [{ id: 't1', title: 'x' }] }),
        lastPulledAt: 0,
        deviceId: 'tr-d',
      },
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers['x-trace-id']).toBe('trace-audit-1');
    await server.app.sync.store.flush();
    const rows = await server.app.sync.pool.query("SELECT operation, trace_id FROM sync_log WHERE device_id = 'tr-d'");
    expect(rows.rows).toEqual([{ operation: 'PUSH', trace_id: 'trace-audit-1' }]);
  });

  it('the retention job deletes sync_log rows older than the retention period, and only those', async () => {
    const pool = server.app.sync.pool;
    await pool.query(
      `INSERT INTO sync_log (user_id, device_id, operation, success, timestamp) VALUES
       ('ret-u', 'ret-d', 'PULL', true, now() - interval '91 days'), ('ret-u', 'ret-d', 'PULL', true, now() - interval '89 days')`,
    );
    const r = await server.app.inject({ method: 'POST', url: '/admin/retention', payload: {} });
    expect(r.json()).toMatchObject({ days: 90, deleted: 1 });
    const left = await pool.query("SELECT count(*)::int AS n FROM sync_log WHERE device_id = 'ret-d'");
    expect(left.rows[0].n).toBe(1);
    expect(
      (await server.app.inject({ method: 'POST', url: '/admin/retention', payload: { days: -1 } })).statusCode,
    ).toBe(400);
  });

  it('the retention job keeps the newest push results per device, so idempotency records stay bounded', async () => {
    const pool = server.app.sync.pool;
    await pool.query(
      `INSERT INTO push_results (user_id, device_id, push_key, response, created_at)
       SELECT 'pr-u', d, 'k' || i, '{}'::jsonb, now() - make_interval(secs => 100 - i)
       FROM generate_series(1, ${PUSH_RESULTS_KEPT + 8}) i, (VALUES ('pr-a'), ('pr-b')) v(d)`,
    );
    await pool.query(
      `INSERT INTO push_results (user_id, device_id, push_key, response) VALUES ('pr-u', 'pr-c', 'only', '{}'::jsonb)`,
    );
    const r = await server.app.inject({ method: 'POST', url: '/admin/retention', payload: {} });
    expect(r.json().pushResultsDeleted).toBe(16);
    const left = await pool.query(
      "SELECT device_id, count(*)::int AS n, min(push_key) AS oldest FROM push_results WHERE user_id = 'pr-u' GROUP BY 1 ORDER BY 1",
    );
    // k9..k40 kept (string order: k10 is the smallest key left), k1..k8 gone; a device with one push keeps it.
    expect(left.rows).toEqual([
      { device_id: 'pr-a', n: PUSH_RESULTS_KEPT, oldest: 'k10' },
      { device_id: 'pr-b', n: PUSH_RESULTS_KEPT, oldest: 'k10' },
      { device_id: 'pr-c', n: 1, oldest: 'only' },
    ]);
    const gone = await pool.query(
      "SELECT count(*)::int AS n FROM push_results WHERE push_key IN ('k1','k8') AND user_id = 'pr-u'",
    );
    expect(gone.rows[0].n).toBe(0);
  });

  it("GDPR export: the user's devices and every sync_log row, nobody else's", async () => {
    const h = (await server.app.inject({ url: '/admin/users/tr-u/sync-history' })).json();
    expect(h.userId).toBe('tr-u');
    expect(h.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual(['tr-d']);
    expect(h.log.map((r: { operation: string; deviceId: string }) => `${r.deviceId}:${r.operation}`)).toEqual([
      'tr-d:PUSH',
    ]);
    expect(h.log.map((r: { traceId: string }) => r.traceId)).toEqual(['trace-audit-1']);
  });
});
