/**
 * Direct HTTP tests of the two target servers: the clean variant follows the contract, and each bug variant
 * misbehaves exactly as named. The same behaviour tests run over both wires through a small per-wire client.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startCamelSecondsServer } from './camel-seconds-server/server';
import type { BugName } from './common/bugs';
import type { RunningServer } from './common/http';
import { startContractServer } from './contract-server/server';

type Row = Record<string, unknown>;
type Changes = Record<string, { created: Row[]; updated: Row[]; deleted: string[] }>;

interface Answer {
  status: number;
  body: any;
}

/** One wire shape, spoken in contract terms (snake_case columns, contract stamps in the wire's own unit). */
interface Wire {
  name: string;
  tables: string[];
  start(bug: BugName): Promise<RunningServer>;
  login(url: string, userId: string, deviceId: string): Promise<Answer & { token?: string }>;
  pull(
    url: string,
    token: string,
    deviceId: string,
    lastPulledAt: number,
    schemaVersion?: number,
  ): Promise<Answer & { changes?: Changes; timestamp?: number }>;
  push(
    url: string,
    token: string,
    deviceId: string,
    lastPulledAt: number,
    changes: Changes,
    pushId?: string,
  ): Promise<Answer & { conflicts?: Row[] }>;
  /** The first pull's lastPulledAt. */
  first: number;
  pushOk: number;
}

async function call(method: string, url: string, token?: string, body?: unknown): Promise<Answer> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const contractWire: Wire = {
  name: 'contract-server',
  tables: ['users', 'activities', 'training_plans', 'scheduled_workouts', 'daily_metrics', 'goals'],
  start: (bug) => startContractServer({ bug }),
  async login(url, userId, deviceId) {
    const a = await call('POST', `${url}/auth/test-token`, undefined, { userId, deviceId, platform: 'IOS' });
    return { ...a, token: a.body?.token };
  },
  async pull(url, token, deviceId, lastPulledAt, schemaVersion = 2) {
    const a = await call(
      'GET',
      `${url}/sync/pull?lastPulledAt=${lastPulledAt}&schemaVersion=${schemaVersion}&deviceId=${deviceId}`,
      token,
    );
    return { ...a, changes: a.body?.changes, timestamp: a.body?.timestamp };
  },
  async push(url, token, deviceId, lastPulledAt, changes, pushId) {
    const a = await call('POST', `${url}/sync/push`, token, {
      changes,
      lastPulledAt,
      deviceId,
      ...(pushId ? { pushId } : {}),
    });
    return { ...a, conflicts: a.body?.conflictedRecords };
  },
  first: 0,
  pushOk: 200,
};

const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const rename = (row: Row | null, f: (s: string) => string) =>
  row === null ? null : Object.fromEntries(Object.entries(row).map(([k, v]) => [f(k), v]));
const mapChanges = (c: Changes, f: (s: string) => string): Changes =>
  Object.fromEntries(
    Object.entries(c).map(([t, b]) => [
      t,
      {
        ...b,
        ...(b.created ? { created: b.created.map((r) => rename(r, f)!) } : {}),
        ...(b.updated ? { updated: b.updated.map((r) => rename(r, f)!) } : {}),
      },
    ]),
  );

const camelWire: Wire = {
  name: 'camel-seconds-server',
  tables: ['activities', 'daily_metrics', 'goals'],
  start: (bug) => startCamelSecondsServer({ bug }),
  async login(url, userId, deviceId) {
    const a = await call('POST', `${url}/api/login`, undefined, { username: userId, device: deviceId });
    return { ...a, token: a.body?.accessToken };
  },
  async pull(url, token, deviceId, lastPulledAt, schemaVersion = 2) {
    const a = await call(
      'GET',
      `${url}/api/sync/pull?last_pulled_at=${lastPulledAt === -1 ? 'null' : lastPulledAt}&schema_version=${schemaVersion}&device_id=${deviceId}`,
      token,
    );
    return { ...a, changes: a.body?.changes && mapChanges(a.body.changes, snake), timestamp: a.body?.lastPulledAt };
  },
  async push(url, token, deviceId, lastPulledAt, changes) {
    const a = await call('POST', `${url}/api/sync/push?last_pulled_at=${lastPulledAt}&device_id=${deviceId}`, token, {
      changes: mapChanges(changes, camel),
    });
    return {
      ...a,
      conflicts: a.body?.conflicts?.map((c: any) => ({ ...c, resolvedRecord: rename(c.resolvedRecord, snake) })),
    };
  },
  first: -1,
  pushOk: 201,
};

const WIRES: Wire[] = [contractWire, camelWire];

const servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

let seq = 0;
const uid = (p: string) => `${p}-${++seq}`;

/** A user with two devices that have both pulled once. */
async function setup(wire: Wire, bug: BugName = 'none') {
  const server = await wire.start(bug);
  servers.push(server);
  const url = server.url;
  const user = uid('user');
  const device = async () => {
    const id = uid('dev');
    const login = await wire.login(url, user, id);
    expect(login.status).toBe(200);
    const token = login.token!;
    const d = {
      id,
      token,
      url,
      last: wire.first,
      async pull(schemaVersion = 2) {
        const p = await wire.pull(url, token, id, d.last, schemaVersion);
        expect(p.status).toBe(200);
        d.last = p.timestamp!;
        return p.changes!;
      },
      push: (changes: Changes, pushId?: string) => wire.push(url, token, id, d.last, changes, pushId),
    };
    await d.pull();
    return d;
  };
  return { url, user, a: await device(), b: await device() };
}

const only = (table: string, c: Partial<Changes[string]>): Changes => ({
  [table]: { created: [], updated: [], deleted: [], ...c },
});

const SEED: Record<string, Row> = {
  users: { name: 'Ann', max_hr: 190, updated_at: 1000 },
  activities: { sport: 'run', duration_s: 3600, rpe: 5, notes: 'ok', updated_at: 1000 },
  training_plans: { name: 'plan', weeks: 10, updated_at: 1000 },
  scheduled_workouts: { title: 'tempo', target_duration_s: 1800, updated_at: 1000 },
  daily_metrics: { date: '2026-12-07', resting_hr: 50, steps: 100, updated_at: 1000 },
  goals: { title: 'sub-3', target_value: 10800, updated_at: 1000 },
};

/** A's edit (committed first) and B's concurrent edit, and what the contract says the server keeps. */
const CONFLICTS: Record<string, { a: Row; b: Row; resolution: string; expect: Row }> = {
  users: { a: { name: 'A' }, b: { name: 'B' }, resolution: 'client_wins', expect: { name: 'B', max_hr: 190 } },
  activities: {
    a: { duration_s: 3700, rpe: 6 },
    b: { duration_s: 1, rpe: 9, notes: null },
    resolution: 'merged',
    expect: { duration_s: 3700, rpe: 9, notes: 'ok' },
  },
  training_plans: { a: { weeks: 12 }, b: { weeks: 1 }, resolution: 'server_wins', expect: { weeks: 12 } },
  scheduled_workouts: { a: { title: 'A' }, b: { title: 'B' }, resolution: 'server_wins', expect: { title: 'A' } },
  daily_metrics: {
    a: { resting_hr: 55, steps: 200 },
    b: { resting_hr: null, steps: 300 },
    resolution: 'merged',
    expect: { resting_hr: 55, steps: 300 },
  },
  goals: {
    a: { title: 'A', updated_at: 2000 },
    b: { title: 'B', updated_at: 3000 },
    resolution: 'client_wins',
    expect: { title: 'B' },
  },
};

for (const wire of WIRES) {
  describe(`${wire.name}: clean`, () => {
    it('resolves a concurrent edit with each table strategy, and both devices end with the resolved row', async () => {
      const { a, b } = await setup(wire);
      for (const table of wire.tables) {
        const id = uid(table);
        expect((await a.push(only(table, { created: [{ id, ...SEED[table] }] }))).status).toBe(wire.pushOk);
        await a.pull();
        await b.pull();
        const c = CONFLICTS[table];
        expect((await a.push(only(table, { updated: [{ id, ...SEED[table], ...c.a }] }))).status).toBe(wire.pushOk);
        const pushed = await b.push(only(table, { updated: [{ id, ...SEED[table], ...c.b }] }));
        expect(pushed.status, table).toBe(wire.pushOk);
        expect(pushed.conflicts, table).toHaveLength(1);
        expect(pushed.conflicts![0], table).toMatchObject({ id, resolution: c.resolution, resolvedRecord: c.expect });
        const seen = (await a.pull())[table].updated.find((r) => r.id === id);
        expect(seen, table).toMatchObject(c.expect);
      }
    });

    it('goals: last write wins by updated_at, a tie goes to the server', async () => {
      const { a, b } = await setup(wire);
      const id = uid('goal');
      await a.push(only('goals', { created: [{ id, title: 'x', updated_at: 1000 }] }));
      await a.pull();
      await b.pull();
      await a.push(only('goals', { updated: [{ id, title: 'A', updated_at: 2000 }] }));
      const tie = await b.push(only('goals', { updated: [{ id, title: 'B', updated_at: 2000 }] }));
      expect(tie.conflicts![0]).toMatchObject({ resolution: 'server_wins', resolvedRecord: { title: 'A' } });
    });

    it('without a concurrent edit, a push applies with no conflict; an update of an unknown id upserts', async () => {
      const { a, b } = await setup(wire);
      const id = uid('act');
      const pushed = await a.push(only('activities', { updated: [{ id, sport: 'ride' }] }));
      expect(pushed.status).toBe(wire.pushOk);
      expect(pushed.conflicts).toEqual([]);
      expect((await b.pull()).activities.updated).toEqual([expect.objectContaining({ id, sport: 'ride', rpe: null })]);
    });

    it('deletes win over a concurrent edit; a created record recreates a tombstone; unknown deletes are no-ops', async () => {
      const { a, b } = await setup(wire);
      const id = uid('goal');
      await a.push(only('goals', { created: [{ id, title: 'x' }] }));
      await a.pull();
      await b.pull();
      expect((await a.push(only('goals', { deleted: [id, uid('never')] }))).status).toBe(wire.pushOk);
      const stale = await b.push(only('goals', { updated: [{ id, title: 'edit' }] }));
      expect(stale.conflicts).toEqual([expect.objectContaining({ id, resolution: 'server_wins' })]);
      const after = (await b.pull()).goals;
      expect(after.deleted).toEqual([id]);
      expect(after.updated).toEqual([]);
      await b.push(only('goals', { created: [{ id, title: 'again' }] }));
      expect((await a.pull()).goals.updated).toEqual([expect.objectContaining({ id, title: 'again' })]);
    });

    it('a re-sent push returns the first answer and changes nothing', async () => {
      const { a, b } = await setup(wire);
      const id = uid('goal');
      const changes = only('goals', { created: [{ id, title: 'first', updated_at: 1 }] });
      const first = await a.push(changes, 'push-1');
      await b.pull();
      await b.push(only('goals', { updated: [{ id, title: 'B', updated_at: 5 }] }));
      const again = await a.push(changes, 'push-1');
      expect(again).toEqual(first);
      expect(await a.push(changes)).toEqual(await a.push(changes));
      a.last = wire.first;
      const row = (await a.pull()).goals.updated.find((r) => r.id === id);
      expect(row).toMatchObject({ title: 'B' });
    });

    it('answers 409 to a push older than the device last pull; a write after a pull gets a later stamp', async () => {
      const { a, b } = await setup(wire);
      const before = a.last;
      await a.pull();
      expect((await wire.push(a.url, a.token, a.id, before - 1, {})).status).toBe(409);
      const t = a.last;
      await b.pull();
      await b.push(only('goals', { created: [{ id: uid('goal'), title: 'after' }] }));
      expect((await a.pull()).goals.updated).toHaveLength(1);
      expect(a.last).toBeGreaterThan(t);
    });

    it('a push with one bad record changes nothing (all-or-nothing)', async () => {
      const { a, b } = await setup(wire);
      const bad = {
        activities: { created: [{ id: uid('act'), sport: 'run' }], updated: [], deleted: [] },
        goals: { created: [{ id: uid('goal'), target_value: 'ten' }], updated: [], deleted: [] },
      };
      const answer = await a.push(bad);
      expect(answer.status).toBe(400);
      const pulled = await b.pull();
      expect(pulled.activities.updated).toEqual([]);
    });

    it('schema v1 never receives v2 columns and its pushes leave them untouched', async () => {
      const { a, b } = await setup(wire);
      const id = uid('act');
      await a.push(only('activities', { created: [{ id, sport: 'run', feeling: 'great' }] }));
      b.last = wire.first;
      const v1 = (await b.pull(1)).activities.updated.find((r) => r.id === id)!;
      expect(v1).not.toHaveProperty('feeling');
      expect((await b.push(only('activities', { updated: [{ ...v1, notes: 'v1 edit' }] }))).status).toBe(wire.pushOk);
      expect((await b.push(only('activities', { updated: [{ id, feeling: 'bad' }] }))).status).toBe(400);
      expect((await a.pull()).activities.updated[0]).toMatchObject({ id, notes: 'v1 edit', feeling: 'great' });
      expect((await wire.pull(a.url, a.token, a.id, a.last, 3)).status).toBe(412);
    });

    it('rejects unknown tables and columns and values of the wrong JSON type with 400', async () => {
      const { a } = await setup(wire);
      expect((await a.push(only('nope', {}))).status).toBe(400);
      expect((await a.push(only('goals', { created: [{ id: uid('g'), colour: 'red' }] }))).status).toBe(400);
      expect((await a.push(only('goals', { created: [{ id: uid('g'), updated_at: '123' }] }))).status).toBe(400);
      expect((await a.push(only('goals', { created: [{ id: uid('g'), title: 5 }] }))).status).toBe(400);
      expect((await a.push({ goals: { created: [], updated: [] } as any })).status).toBe(400);
    });

    it('answers 401 without a valid token and 403 for another user device', async () => {
      const { url, a } = await setup(wire);
      expect((await wire.pull(url, 'x.y.z', a.id, wire.first)).status).toBe(401);
      expect((await wire.pull(url, `${a.token.slice(0, -2)}AA`, a.id, wire.first)).status).toBe(401);
      expect((await wire.login(url, uid('other-user'), a.id)).status).toBe(403);
      const other = await wire.login(url, uid('other-user'), uid('dev'));
      expect((await wire.pull(url, other.token!, a.id, wire.first)).status).toBe(403);
    });
  });

  describe(`${wire.name}: bug variants misbehave as named`, () => {
    it('blind-overwrite: a concurrent edit overwrites the server row with no conflict', async () => {
      const { a, b } = await setup(wire, 'blind-overwrite');
      const id = uid('goal');
      await a.push(only('goals', { created: [{ id, title: 'seed', updated_at: 5 }] }));
      await a.pull();
      await b.pull();
      await a.push(only('goals', { updated: [{ id, title: 'A', updated_at: 9 }] }));
      // Clean: goals are last-write-wins and A's edit is newer, so B's push conflicts and loses.
      const stale = await b.push(only('goals', { updated: [{ id, title: 'B', updated_at: 1 }] }));
      expect(stale.conflicts).toEqual([]);
      expect((await a.pull()).goals.updated[0]).toMatchObject({ id, title: 'B' });
    });

    it('half-applied-500: a two-table push answers 500 after committing the first table', async () => {
      const { a, b } = await setup(wire, 'half-applied-500');
      const act = uid('act');
      const goal = uid('goal');
      const answer = await a.push({
        activities: { created: [{ id: act, sport: 'run' }], updated: [], deleted: [] },
        goals: { created: [{ id: goal, title: 'x' }], updated: [], deleted: [] },
      });
      expect(answer.status).toBe(500);
      const pulled = await b.pull();
      expect(pulled.activities.updated.map((r) => r.id)).toEqual([act]);
      expect(pulled.goals.updated).toEqual([]);
      expect((await a.push(only('goals', { created: [{ id: goal }] }))).status).toBe(wire.pushOk);
    });

    it("cross-user-leak: a pull returns another user's rows", async () => {
      const one = await setup(wire, 'cross-user-leak');
      const id = uid('goal');
      await one.a.push(only('goals', { created: [{ id, title: 'private' }] }));
      const dev = uid('dev');
      const stranger = await wire.login(one.url, uid('stranger'), dev);
      const leak = await wire.pull(one.url, stranger.token!, dev, wire.first);
      expect(leak.changes!.goals.updated.map((r) => r.id)).toContain(id);
    });

    it('drop-deletes: a delete is acknowledged but the row stays', async () => {
      const { a, b } = await setup(wire, 'drop-deletes');
      const id = uid('goal');
      await a.push(only('goals', { created: [{ id, title: 'x' }] }));
      await a.pull();
      expect((await a.push(only('goals', { deleted: [id] }))).status).toBe(wire.pushOk);
      b.last = wire.first;
      expect((await b.pull()).goals.updated.map((r) => r.id)).toEqual([id]);
    });

    it('stale-timestamp: a write right after a pull is never pulled', async () => {
      const { a, b } = await setup(wire, 'stale-timestamp');
      await a.pull();
      await b.pull();
      const id = uid('goal');
      expect((await b.push(only('goals', { created: [{ id, title: 'lost' }] }))).status).toBe(wire.pushOk);
      expect((await a.pull()).goals.updated).toEqual([]);
    });
  });
}
