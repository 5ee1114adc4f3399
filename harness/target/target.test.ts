/**
 * Target adapters end to end: the wire translation, adapter validation, and the gateway in front
 * of a real reference server, where every device kind's requests are checked against the contract
 * (the strict recording mode) and a deviating request is the harness's problem, never the target's.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncServer } from '../../server/index';
import { startCluster, type TestCluster } from '../../server/test-helpers';
import { resolveConfig } from '../config/define-config';
import { shutdownDeviceKinds } from '../runner/devices';
import { validateScenario } from '../runner/loader';
import { type RunEnvironment, runScenario } from '../runner/run-scenario';
import { defineScenario } from '../runner/scenario';
import { createDatabase } from '../services/postgres/index';
import { type ResolvedToxiproxy, resolveToxiproxy } from '../services/toxiproxy/provider';
import { watermelondbDocsAdapter } from './builtins';
import { resolveAdapter } from './define-adapter';
import { startGateway } from './gateway';
import { loadAdapter } from './load';
import { pullAnswer, pullRequest, pushAnswer, pushRequest } from './wire';

describe('wire translation', () => {
  const camel = resolveAdapter({
    name: 'camel-seconds',
    timeUnit: 's',
    pull: {
      path: '/api/sync/pull',
      lastPulledAt: { in: 'query', name: 'last_pulled_at' },
      firstPull: 'null',
      timestampField: 'lastPulledAt',
    },
    push: {
      path: '/api/sync/push',
      lastPulledAt: { in: 'query', name: 'last_pulled_at' },
      okStatus: [201],
      conflictsField: 'conflicts',
    },
    columns: 'camelCase',
    tables: ['activities', 'goals'],
  });

  it('turns a contract pull into the target shape and its answer back', () => {
    expect(pullRequest(camel, { lastPulledAt: null, schemaVersion: 2, deviceId: 'd1' }).url).toBe(
      '/api/sync/pull?last_pulled_at=null&schemaVersion=2&deviceId=d1',
    );
    expect(pullRequest(camel, { lastPulledAt: 1_700_000_000_500, schemaVersion: 2, deviceId: 'd1' }).url).toContain(
      'last_pulled_at=1700000000&',
    );
    const a = pullAnswer(camel, 200, {
      changes: {
        activities: { created: [], updated: [{ id: 'a', startedAt: 5, avgHr: 140, _status: 'synced' }], deleted: [] },
      },
      lastPulledAt: 1_700_000_001,
    });
    expect(a?.timestamp).toBe(1_700_000_001_000);
    expect(a?.changes.activities?.updated[0]).toEqual({ id: 'a', started_at: 5, avg_hr: 140, _status: 'synced' });
    // tables the target does not serve come back empty, so a client sees every table it asked for
    expect(a?.changes.users).toEqual({ created: [], updated: [], deleted: [] });
  });

  it('names the adapter field to set when an answer does not fit', () => {
    expect(() => pullAnswer(camel, 200, { changes: {}, timestamp: 1 })).toThrow(/set adapter\.pull\.timestampField/);
    expect(() => pullAnswer(camel, 404, {})).toThrow(
      /pull answered 404 at GET \/api\/sync\/pull: set adapter\.pull\.path/,
    );
    expect(() => pushAnswer(camel, 200, {}, 0)).toThrow(/set adapter\.push\.okStatus: \[201, 200\]/);
    expect(pullAnswer(camel, 500, {})).toBeUndefined(); // the target's own error: passed on as it is
  });

  it('sends the push as the target wants it', () => {
    const out = pushRequest(
      camel,
      {
        changes: { goals: { created: [{ id: 'g', target_value: 3 }], updated: [], deleted: [] } },
        lastPulledAt: 5_000,
        deviceId: 'd',
      },
      2,
    );
    expect(out.url).toBe('/api/sync/push?last_pulled_at=5');
    expect(out.body).toEqual({
      changes: { goals: { created: [{ id: 'g', targetValue: 3 }], updated: [], deleted: [] } },
      deviceId: 'd',
      pushId: undefined,
    });
    const docs = resolveAdapter(watermelondbDocsAdapter);
    const d = pushRequest(
      docs,
      { changes: { goals: { created: [], updated: [], deleted: ['x'] } }, lastPulledAt: 7, deviceId: 'd' },
      2,
    );
    expect(d.url).toBe('/sync?last_pulled_at=7');
    expect(d.body).toEqual({ goals: { created: [], updated: [], deleted: ['x'] } }); // the body is the changes itself
  });

  it('rejects a wrong adapter field with its name', async () => {
    expect(() => resolveAdapter({ name: 'x', pull: { path: 'sync' } })).toThrow(
      /adapter\.pull\.path must be a path starting with \//,
    );
    expect(() => resolveAdapter({ name: 'x', tables: ['nope' as never] })).toThrow(/adapter\.tables/);
    expect(() => resolveAdapter({ name: 'x', bogus: 1 } as never)).toThrow(/adapter\.bogus/);
    await expect(loadAdapter('no-such-adapter-file.ts')).rejects.toThrow(/neither a built-in adapter/);
  });
});

describe('gateway in front of the reference server', () => {
  let cluster: TestCluster;
  let server: { url: string; close(): Promise<void> };
  let tp: ResolvedToxiproxy;
  beforeAll(async () => {
    cluster = await startCluster();
    const db = await createDatabase(cluster.adminUrl);
    server = await startSyncServer({ databaseUrl: db.url, port: 0, logLevel: 'silent' });
    tp = await resolveToxiproxy('embedded', { log: () => {}, seed: 5 });
  }, 120_000);
  afterAll(async () => {
    await shutdownDeviceKinds(new Set(['web', 'phone', 'vu']));
    await tp?.stop();
    await server?.close();
    await cluster?.stop();
  });

  it('answers a request that breaks the contract as the harness deviation it is, and records it', async () => {
    const gw = await startGateway({ targetUrl: server.url, adapter: await loadAdapter(undefined) });
    try {
      const tok = await fetch(`${gw.url}/auth/test-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'u', deviceId: 'dev-1', platform: 'IOS' }),
      }).then((r) => r.json() as Promise<{ token: string }>);
      const res = await fetch(`${gw.url}/sync/push`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tok.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ changes: {}, lastPulledAt: 0, deviceId: 'dev-1', schemaVersion: 2 }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('HRN_ERR_HARNESS_DEVIATION');
      expect(gw.problems()).toEqual([
        expect.objectContaining({ kind: 'deviation', message: expect.stringContaining('schemaVersion') }),
      ]);
      const pull = await fetch(`${gw.url}/sync/pull?lastPulledAt=0&schemaVersion=2&deviceId=dev-1`, {
        headers: { authorization: `Bearer ${tok.token}` },
      });
      expect(pull.status).toBe(200);
    } finally {
      await gw.close();
    }
  });

  it('every device kind speaks exactly the contract through it (strict recording mode)', async () => {
    const env: RunEnvironment = {
      config: resolveConfig({}),
      runDir: mkdtempSync(join(tmpdir(), 'target-strict-')),
      toxiproxy: { url: tp.url, client: tp.client, addressing: tp },
      target: server.url,
      adapter: await loadAdapter(undefined),
      namespace: 'ts1',
      log: () => {},
    };
    const def = defineScenario({
      name: 'strict-every-kind',
      requires: { tables: 'any' },
      devices: {
        phone: { kind: 'phone' },
        vu: { kind: 'vu' },
        web: { kind: 'web' },
        other: { kind: 'vu', user: 'bystander' },
      },
      async workload({ devices: { phone, vu, web, other } }) {
        await phone.create('activities', { sport: 'run', distance_m: 5000, notes: 'p' }, 'act-p');
        await vu.create('goals', { title: 'g', status: 'active', updated_at: 1 }, 'goal-v');
        await web.create('daily_metrics', { date: '2026-11-20', steps: 1 }, 'dm-w');
        await other.create('goals', { title: 'secret', status: 'active', updated_at: 1 }, 'goal-o');
        for (const d of [phone, vu, web, other]) await d.sync('manual');
        await phone.update('activities', 'act-p', { notes: 'p2' });
        await web.delete('daily_metrics', 'dm-w');
        for (const d of [web, phone, vu, other]) await d.sync('manual');
      },
    });
    validateScenario(def, 'strict-every-kind');
    const r = await runScenario(env, { file: 'strict-every-kind.ts', def }, { seed: 4, attempt: 1, timeScale: 1 });
    const check = (n: string) => r.checks.find((c) => c.name === n);
    expect(check('harness-contract')).toMatchObject({ passed: true });
    expect(check('adapter-fit')).toMatchObject({ passed: true });
    expect(check('user-isolation')).toMatchObject({ passed: true });
    expect(r.verdict, JSON.stringify(r.checks.filter((c) => !c.passed))).toBe('passed');
  }, 240_000);
});
