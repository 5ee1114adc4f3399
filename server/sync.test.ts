/**
 * Pull/push behaviour of the contract: stamps, conflicts per table strategy (two devices), tombstones,
 * idempotency, 409, all-or-nothing, schema N-1.
 */
import { describe, expect, it } from 'vitest';
import { changes, pulledRow, serverPerFile, TestDevice } from './test-helpers';

const server = serverPerFile();

let n = 0;
let user = '';
async function twoDevices(version: 1 | 2 = 2) {
  n++;
  user = `u${n}`;
  const a = await TestDevice.create(server.app, user, `phone-a-${n}`, version);
  const b = await TestDevice.create(server.app, user, `web-b-${n}`, 2);
  return { a, b, app: server.app };
}

/** Query with $1 bound to the current test's user id. */
async function rows(sql: string, params: unknown[] = []) {
  const r = await server.app.sync.pool.query(sql, [user, ...params]);
  return r.rows;
}

describe('pull and push basics', () => {
  it('first pull is empty with a timestamp > 0; a pushed row comes back as updated to other devices', async () => {
    const { a, b } = await twoDevices();
    const first = await a.pull();
    expect(first.timestamp).toBeGreaterThan(0);
    expect(Object.keys(first.changes).sort()).toEqual(
      ['activities', 'daily_metrics', 'goals', 'scheduled_workouts', 'training_plans', 'users'].sort(),
    );
    for (const tc of Object.values(first.changes)) expect(tc).toEqual({ created: [], updated: [], deleted: [] });
    const res = await a.push(
      changes('activities', { created: [{ id: 'a1', sport: 'run', distance_m: 5000.5, rpe: 6 }] }),
    );
    expect(res.success).toBe(true);
    expect(res.conflictedRecords).toEqual([]);
    expect(res.timestamp).toBeGreaterThan(first.timestamp);
    const pb = await b.pull();
    const row = pulledRow(pb, 'activities', 'a1');
    expect(row).toMatchObject({ id: 'a1', sport: 'run', distance_m: 5000.5, rpe: 6, notes: null, feeling: null });
    expect(pb.changes.activities!.created).toEqual([]);
    expect(pb.timestamp).toBeGreaterThanOrEqual(res.timestamp);
    // Nothing new since: an empty pull.
    const again = await b.pull();
    expect(again.changes.activities!.updated).toEqual([]);
  });

  it('tables= filters the tables returned', async () => {
    const { a } = await twoDevices();
    await a.pull();
    await a.push({
      ...changes('goals', { created: [{ id: 'g1', title: 'sub-3' }] }),
      ...changes('users', { created: [{ id: 'me', name: 'Ann' }] }),
    });
    const r = await a.pullRaw(0, '&tables=goals');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.changes)).toEqual(['goals']);
    expect(r.body.changes.goals!.updated.map((x) => x.id)).toEqual(['g1']);
  });

  it('deletes are tombstones sent in deleted; delete of an unknown id is a no-op; no id twice', async () => {
    const { a, b } = await twoDevices();
    await a.pull();
    await a.push(
      changes('goals', {
        created: [
          { id: 'g1', title: 'x' },
          { id: 'g2', title: 'y' },
        ],
      }),
    );
    await b.pull();
    await a.pull();
    await a.push(changes('goals', { deleted: ['g1', 'never-existed'] }));
    const pb = await b.pull();
    expect(pb.changes.goals).toEqual({ created: [], updated: [], deleted: ['g1'] });
    // A full pull from 0 lists g1 once (deleted) and g2 once (updated).
    const full = await b.pullRaw(0);
    expect(full.body.changes.goals!.deleted).toEqual(['g1']);
    expect(full.body.changes.goals!.updated.map((r) => r.id)).toEqual(['g2']);
    expect(
      await rows('SELECT count(*)::int AS n FROM goals WHERE user_id = $1 AND id = $2', ['never-existed']),
    ).toEqual([{ n: 0 }]);
  });

  it('created for a live id is an update; created for a tombstoned id recreates it', async () => {
    const { a, b } = await twoDevices();
    await a.pull();
    await a.push(changes('goals', { created: [{ id: 'g1', title: 'one' }] }));
    await a.pull();
    await a.push(changes('goals', { created: [{ id: 'g1', title: 'two' }] }));
    await b.pull();
    expect(pulledRow(await b.pullRaw(0).then((r) => r.body), 'goals', 'g1')?.title).toBe('two');
    await a.pull();
    await a.push(changes('goals', { deleted: ['g1'] }));
    await a.pull();
    await a.push(changes('goals', { created: [{ id: 'g1', title: 'three' }] }));
    const pb = await b.pull();
    expect(pulledRow(pb, 'goals', 'g1')?.title).toBe('three');
    expect(pb.changes.goals!.deleted).toEqual([]);
  });

  it('a stale update of a deleted row is discarded and reported (server_wins), never resurrected', async () => {
    const { a, b } = await twoDevices();
    await a.pull();
    await a.push(changes('goals', { created: [{ id: 'g1', title: 'x' }] }));
    await b.pull();
    await a.pull();
    await a.push(changes('goals', { deleted: ['g1'] }));
    // b edits from its stale view
    const res = await b.push(changes('goals', { updated: [{ id: 'g1', title: 'edited', updated_at: 99 }] }));
    expect(res.conflictedRecords).toHaveLength(1);
    expect(res.conflictedRecords[0]).toMatchObject({ tableName: 'goals', id: 'g1', resolution: 'server_wins' });
    const pb = await b.pull();
    expect(pb.changes.goals!.deleted).toEqual(['g1']);
    expect(pb.changes.goals!.updated).toEqual([]);
    expect(await rows('SELECT _deleted FROM goals WHERE user_id = $1 AND id = $2', ['g1'])).toEqual([
      { _deleted: true },
    ]);
  });

  it('409 when lastPulledAt is older than the device last pull', async () => {
    const { a } = await twoDevices();
    const p1 = await a.pull();
    await a.push(changes('goals', { created: [{ id: 'g1' }] }));
    await a.pull();
    const r = await a.pushRaw({
      changes: changes('goals', { created: [{ id: 'g2' }] }),
      lastPulledAt: p1.timestamp,
      deviceId: a.deviceId,
    });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('SYNC_ERR_STALE_PULL');
    expect(r.body.error.message).toMatch(/pull first/);
  });

  it('a lastPulledAt never handed out to the device (the future) is 409 and cannot skip conflict detection', async () => {
    const { a, b } = await twoDevices();
    await a.pull();
    await a.push(changes('training_plans', { created: [{ id: 'g1', name: 'server' }] }));
    await b.pull();
    await a.pull();
    await a.push(changes('training_plans', { updated: [{ id: 'g1', name: 'newer' }] }));
    const stale = changes('training_plans', { updated: [{ id: 'g1', name: 'stale' }] });
    for (const lastPulledAt of [9e15, Date.now() + 3_600_000, b.lastPulledAt + 1]) {
      const r = await b.pushRaw({ changes: stale, lastPulledAt, deviceId: b.deviceId }, 2);
      expect(r.status, String(lastPulledAt)).toBe(409);
      expect(r.body.error.code).toBe('SYNC_ERR_FUTURE_PULL');
      expect(r.body.error.message).toMatch(/newer than any timestamp this server has given device .*pull first/);
    }
    expect(await rows('SELECT name FROM training_plans WHERE user_id = $1 AND id = $2', ['g1'])).toEqual([
      { name: 'newer' },
    ]);
    // The honest lastPulledAt gets the conflict the future one tried to skip.
    const honest = await b.push(stale);
    expect(honest.conflictedRecords[0]).toMatchObject({ id: 'g1', resolution: 'server_wins' });
    // A push response's timestamp was handed out too: pushing from it is allowed.
    const p = await a.push(changes('goals', { created: [{ id: 'g2' }] }));
    const r = await a.pushRaw(
      { changes: changes('goals', { created: [{ id: 'g3' }] }), lastPulledAt: p.timestamp, deviceId: a.deviceId },
      2,
    );
    expect(r.status).toBe(200);
  });

  it('writes sync_state and sync_log rows for pulls and pushes', async () => {
    const { a } = await twoDevices();
    await a.pull();
    await a.push(changes('goals', { created: [{ id: 'g1' }] }));
    const st = await rows(
      'SELECT user_id, device_id, platform, last_pulled_at, last_pushed_at, schema_version FROM sync_state WHERE user_id = $1',
    );
    expect(st).toEqual([
      {
        user_id: user,
        device_id: a.deviceId,
        platform: 'IOS',
        last_pulled_at: a.lastPulledAt,
        last_pushed_at: expect.any(Number),
        schema_version: 2,
      },
    ]);
    await server.app.sync.store.flush(); // PULL log rows are written in the background
    const log = await rows(
      'SELECT operation, table_name, record_count, success FROM sync_log WHERE user_id = $1 ORDER BY operation',
    );
    expect(log).toEqual([
      { operation: 'PULL', table_name: expect.stringContaining('goals'), record_count: 0, success: true },
      { operation: 'PUSH', table_name: 'goals', record_count: 1, success: true },
    ]);
  });
});

describe('conflict strategies (two devices edit the same row)', () => {
  /** a creates the row, both pull, b changes it first, then a pushes its stale edit. */
  async function conflict(
    table: any,
    base: Record<string, unknown>,
    bEdit: Record<string, unknown>,
    aEdit: Record<string, unknown>,
  ) {
    const { a, b } = await twoDevices();
    await a.pull();
    await a.push(changes(table, { created: [{ id: 'r1', ...base }] }));
    await a.pull();
    await b.pull();
    await b.push(changes(table, { updated: [{ id: 'r1', ...base, ...bEdit }] }));
    const res = await a.push(changes(table, { updated: [{ id: 'r1', ...base, ...aEdit }] }));
    expect(res.conflictedRecords).toHaveLength(1);
    const c = res.conflictedRecords[0]!;
    // Both devices converge on the resolved row.
    const pa = await a.pull();
    const pb = await b.pull();
    expect(pulledRow(pa, table, 'r1')).toEqual(c.resolvedRecord);
    expect(pulledRow(pb, table, 'r1')).toEqual(c.resolvedRecord);
    const log = await rows(
      "SELECT table_name, error FROM sync_log WHERE user_id = $1 AND operation = 'CONFLICT_RESOLVED'",
    );
    expect(log).toEqual([{ table_name: table, error: `${c.resolution}:r1` }]);
    return c;
  }

  it('users: client wins', async () => {
    const c = await conflict(
      'users',
      { name: 'Ann', units: 'metric', updated_at: 1 },
      { name: 'Bea', updated_at: 2 },
      { name: 'Cat', units: 'imperial', updated_at: 1 },
    );
    expect(c.resolution).toBe('client_wins');
    expect(c.resolvedRecord).toMatchObject({ name: 'Cat', units: 'imperial' });
    expect(c.serverRecord).toMatchObject({ name: 'Bea' });
  });

  it('activities: merge (objective from server, subjective non-null from client)', async () => {
    const c = await conflict(
      'activities',
      { sport: 'run', distance_m: 5000, rpe: null, notes: null },
      { distance_m: 5100, avg_hr: 150 },
      { distance_m: 4000, rpe: 7, notes: 'windy', feeling: null },
    );
    expect(c.resolution).toBe('merged');
    expect(c.resolvedRecord).toMatchObject({ distance_m: 5100, avg_hr: 150, rpe: 7, notes: 'windy', feeling: null });
  });

  it('training_plans: server wins', async () => {
    const c = await conflict('training_plans', { name: 'P', weeks: 10 }, { weeks: 12 }, { weeks: 8, name: 'Q' });
    expect(c.resolution).toBe('server_wins');
    expect(c.resolvedRecord).toMatchObject({ name: 'P', weeks: 12 });
  });

  it('scheduled_workouts: server wins', async () => {
    const c = await conflict(
      'scheduled_workouts',
      { title: 'Easy', date: '2026-01-02' },
      { title: 'Tempo' },
      { title: 'Long' },
    );
    expect(c.resolution).toBe('server_wins');
    expect(c.resolvedRecord).toMatchObject({ title: 'Tempo', date: '2026-01-02' });
  });

  it('daily_metrics: merge, every non-null client column wins', async () => {
    const c = await conflict(
      'daily_metrics',
      { date: '2026-01-02', resting_hr: 50, hrv_ms: 60, steps: 1000 },
      { steps: 5000, hrv_ms: 65 },
      { resting_hr: 48, hrv_ms: null, steps: null, mood: 'good' },
    );
    expect(c.resolution).toBe('merged');
    expect(c.resolvedRecord).toMatchObject({ resting_hr: 48, hrv_ms: 65, steps: 5000, mood: 'good' });
  });

  it('goals: last write wins by updated_at (client newer)', async () => {
    const c = await conflict(
      'goals',
      { title: 'A', updated_at: 100 },
      { title: 'B', updated_at: 200 },
      { title: 'C', updated_at: 300 },
    );
    expect(c.resolution).toBe('client_wins');
    expect(c.resolvedRecord).toMatchObject({ title: 'C', updated_at: 300 });
  });

  it('goals: last write wins, tie goes to the server', async () => {
    const c = await conflict(
      'goals',
      { title: 'A', updated_at: 100 },
      { title: 'B', updated_at: 200 },
      { title: 'C', updated_at: 200 },
    );
    expect(c.resolution).toBe('server_wins');
    expect(c.resolvedRecord).toMatchObject({ title: 'B', updated_at: 200 });
  });

  it('no conflict when the server row has not changed since the device pulled', async () => {
    const { a, b } = await twoDevices();
    await a.pull();
    await a.push(changes('training_plans', { created: [{ id: 'p1', weeks: 1 }] }));
    await b.pull();
    const res = await b.push(changes('training_plans', { updated: [{ id: 'p1', weeks: 2 }] }));
    expect(res.conflictedRecords).toEqual([]);
    expect(pulledRow(await a.pull(), 'training_plans', 'p1')?.weeks).toBe(2);
  });

  it('delete wins over a concurrent edit', async () => {
    const { a, b } = await twoDevices();
    await a.pull();
    await a.push(changes('goals', { created: [{ id: 'g1', title: 'x' }] }));
    await a.pull();
    await b.pull();
    await b.push(changes('goals', { updated: [{ id: 'g1', title: 'edited' }] }));
    const res = await a.push(changes('goals', { deleted: ['g1'] }));
    expect(res.conflictedRecords).toEqual([]);
    expect((await b.pull()).changes.goals!.deleted).toEqual(['g1']);
  });
});

describe('idempotency', () => {
  it('the same pushId returns the first response and changes nothing', async () => {
    const { a, b } = await twoDevices();
    await a.pull();
    await b.pull();
    await b.push(changes('goals', { created: [{ id: 'g1', title: 'b', updated_at: 5 }] }));
    const body = { ...changes('goals', { updated: [{ id: 'g1', title: 'a', updated_at: 10 }] }) };
    const first = await a.push(body, { pushId: 'push-1' });
    expect(first.conflictedRecords).toHaveLength(1);
    const stampBefore = await rows('SELECT _stamp FROM goals WHERE user_id = $1 AND id = $2', ['g1']);
    // even after another pull (new lastPulledAt) the same pushId is a replay
    await a.pull();
    const again = await a.push(body, { pushId: 'push-1' });
    expect(again).toEqual(first);
    expect(await rows('SELECT _stamp FROM goals WHERE user_id = $1 AND id = $2', ['g1'])).toEqual(stampBefore);
    const pushes = await rows(
      "SELECT count(*)::int AS n FROM sync_log WHERE user_id = $1 AND operation = 'PUSH' AND device_id = $2",
      [a.deviceId],
    );
    expect(pushes).toEqual([{ n: 1 }]);
  });

  it('an identical body without pushId (lost response) is recognised, not a conflict with itself', async () => {
    const { a } = await twoDevices();
    await a.pull();
    const body = changes('activities', { created: [{ id: 'x1', sport: 'ride' }] });
    const first = await a.push(body);
    const retry = await a.push(body);
    expect(retry).toEqual(first);
    expect(retry.conflictedRecords).toEqual([]);
  });
});

describe('all-or-nothing', () => {
  it('a bad record in the last table changes nothing', async () => {
    const { a } = await twoDevices();
    await a.pull();
    const r = await a.pushRaw({
      changes: {
        ...changes('users', { created: [{ id: 'me', name: 'Ann' }] }),
        ...changes('activities', { created: [{ id: 'a1', sport: 'run' }] }),
        ...changes('goals', { created: [{ id: 'g1', target_value: 'ten' }] }),
      },
      lastPulledAt: a.lastPulledAt,
      deviceId: a.deviceId,
    });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('changes.goals.created[0].target_value must be a finite number or null');
    for (const t of ['users', 'activities', 'goals']) {
      expect(await rows(`SELECT count(*)::int AS n FROM ${t} WHERE user_id = $1`)).toEqual([{ n: 0 }]);
    }
  });

  it('a failure inside the transaction rolls back every table', async () => {
    const { a } = await twoDevices();
    await a.pull();
    // Sabotage the last table so the insert fails at the database, after the first tables were written.
    await server.app.sync.pool.query("ALTER TABLE goals ADD CONSTRAINT no_bad CHECK (title IS DISTINCT FROM 'boom')");
    const r = await a.pushRaw({
      changes: {
        ...changes('users', { created: [{ id: 'me', name: 'Ann' }] }),
        ...changes('goals', { created: [{ id: 'g1', title: 'boom' }] }),
      },
      lastPulledAt: a.lastPulledAt,
      deviceId: a.deviceId,
    });
    expect(r.status).toBe(500);
    expect(r.body.error.code).toBe('SYNC_ERR_INTERNAL');
    expect(await rows('SELECT count(*)::int AS n FROM users WHERE user_id = $1')).toEqual([{ n: 0 }]);
  });
});

describe('schema N-1', () => {
  it('v1 pull lacks v2 columns; v1 push leaves v2 columns untouched; v0/v3 get 412', async () => {
    const { a: v1, b: v2 } = await twoDevices(1);
    await v2.pull();
    await v2.push({
      ...changes('activities', { created: [{ id: 'a1', sport: 'run', feeling: 'great', rpe: 5 }] }),
      ...changes('daily_metrics', { created: [{ id: 'd1', date: '2026-01-01', mood: 'calm', steps: 10 }] }),
    });
    const p = await v1.pull();
    const act = pulledRow(p, 'activities', 'a1')!;
    expect(act).not.toHaveProperty('feeling');
    expect(act.rpe).toBe(5);
    expect(pulledRow(p, 'daily_metrics', 'd1')).not.toHaveProperty('mood');
    await v1.push({
      ...changes('activities', { updated: [{ ...act, rpe: 8 }] }),
      ...changes('daily_metrics', { updated: [{ id: 'd1', date: '2026-01-01', steps: 20 }] }),
    });
    const back = await v2.pull();
    expect(pulledRow(back, 'activities', 'a1')).toMatchObject({ rpe: 8, feeling: 'great' });
    expect(pulledRow(back, 'daily_metrics', 'd1')).toMatchObject({ steps: 20, mood: 'calm' });
    // a v1 client may not send v2 columns
    const bad = await v1.pushRaw(
      {
        changes: changes('activities', { updated: [{ id: 'a1', feeling: 'x' }] }),
        lastPulledAt: v1.lastPulledAt,
        deviceId: v1.deviceId,
      },
      1,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/feeling.*only from schema version 2/);
    for (const v of [0, 3]) {
      const r = await server.app.inject({
        method: 'GET',
        url: `/sync/pull?lastPulledAt=0&schemaVersion=${v}&deviceId=${v1.deviceId}`,
        headers: { authorization: `Bearer ${v1.token}` },
      });
      expect(r.statusCode).toBe(412);
      expect(r.json().error).toMatchObject({
        code: 'SYNC_ERR_SCHEMA_VERSION',
        message: expect.stringMatching(/update the app/),
      });
      const pr = await v1.pushRaw(
        {
          changes: {},
          lastPulledAt: v1.lastPulledAt,
          deviceId: v1.deviceId,
        },
        v,
      );
      expect(pr.status).toBe(412);
    }
  });

  it('push schema version comes from the query or the x-schema-version header, else the device sync_state; never from the body', async () => {
    const { a: v1 } = await twoDevices(1);
    await v1.pull(); // records schema_version 1 for the device
    const body = {
      changes: changes('activities', { created: [{ id: 'a1', feeling: 'x' }] }),
      lastPulledAt: v1.lastPulledAt,
      deviceId: v1.deviceId,
    };
    const viaState = await v1.pushRaw(body);
    expect(viaState.status).toBe(400); // device is v1: feeling unknown
    const viaHeader = await server.app.inject({
      method: 'POST',
      url: '/sync/push',
      headers: { authorization: `Bearer ${v1.token}`, 'x-schema-version': '2' },
      payload: body,
    });
    expect(viaHeader.statusCode).toBe(200);
    const viaQuery = await server.app.inject({
      method: 'POST',
      url: '/sync/push?schemaVersion=3',
      headers: { authorization: `Bearer ${v1.token}` },
      payload: body,
    });
    expect(viaQuery.statusCode).toBe(412);
  });
});
