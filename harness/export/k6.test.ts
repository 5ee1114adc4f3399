/**
 * The exported k6 script, run as it is: the file is imported in Node with the three k6 modules
 * resolved to small shims (a node_modules/k6 package beside it, the way an import map would), and
 * its VUs sync against a real reference server. What k6 would send is what the server checks.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSyncServer, startSyncServer } from '../../server/index';
import { mergeThresholdSpecs, RFC_THRESHOLDS } from '../metrics/thresholds';
import { loadScenarios, selectScenarios } from '../runner/loader';
import { createDatabase, resolvePostgres } from '../services/postgres/index';
import { exportK6, k6Thresholds } from './k6';

let pg: Awaited<ReturnType<typeof resolvePostgres>>;
let db: { url: string; drop(): Promise<void> };
let server: StartedSyncServer;

beforeAll(async () => {
  const url = process.env.SYNC_TEST_DATABASE_URL;
  pg = await resolvePostgres({ mode: url ? 'url' : 'embedded', url, log: () => {} });
  db = await createDatabase(pg.url);
  server = await startSyncServer({ databaseUrl: db.url, logLevel: 'silent' });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await db?.drop().catch(() => {});
  await pg?.stop();
});

const SHIMS = {
  'index.mjs': `
export const checks = [];
export function check(v, preds) { let ok = true; for (const [n, p] of Object.entries(preds)) { const r = !!p(v); checks.push({ n, r }); ok &&= r; } return ok; }
export function sleep() {}`,
  'http.mjs': `
export default {
  async asyncRequest(method, url, body, params) {
    const r = await fetch(url, { method, body: body ?? undefined, headers: params?.headers });
    return { status: r.status, body: await r.text() };
  },
};`,
  'metrics.mjs': `
export const samples = {};
class M { constructor(name) { this.name = name; samples[name] ??= []; } add(v, tags) { samples[this.name].push({ v: Number(v), tags }); } }
export class Trend extends M {}
export class Rate extends M {}
export class Counter extends M {}`,
};

/** Writes the script beside a node_modules/k6 shim package and imports one module instance per VU. */
async function loadScript(script: string, vus: number) {
  const dir = mkdtempSync(join(tmpdir(), 'k6-'));
  const pkg = join(dir, 'node_modules', 'k6');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: 'k6',
      type: 'module',
      exports: { '.': './index.mjs', './http': './http.mjs', './metrics': './metrics.mjs' },
    }),
  );
  for (const [f, src] of Object.entries(SHIMS)) writeFileSync(join(pkg, f), src);
  const file = join(dir, 'script.mjs');
  writeFileSync(file, script);
  const metrics = await import(pathToFileURL(join(pkg, 'metrics.mjs')).href);
  const k6 = await import(pathToFileURL(join(pkg, 'index.mjs')).href);
  const instances = [];
  for (let vu = 1; vu <= vus; vu++) instances.push(await import(`${pathToFileURL(file).href}?vu=${vu}`));
  return {
    instances,
    samples: metrics.samples as Record<string, Array<{ v: number; tags?: Record<string, string> }>>,
    checks: k6.checks as Array<{ n: string; r: boolean }>,
    file,
  };
}

async function pullAll(userId: string, deviceId: string) {
  const t = await fetch(`${server.url}/auth/test-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, deviceId, platform: 'IOS' }),
  });
  const { token } = (await t.json()) as { token: string };
  const r = await fetch(`${server.url}/sync/pull?lastPulledAt=0&schemaVersion=2&deviceId=${deviceId}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(r.status).toBe(200);
  const j = (await r.json()) as { changes: Record<string, { updated: Array<Record<string, unknown>> }> };
  return j.changes;
}

describe('harness export k6', () => {
  it('writes load-1000-concurrent as k6 executors and thresholds in k6 syntax', async () => {
    const all = await loadScenarios(resolve('scenarios'));
    const [s] = selectScenarios(all, ['load-1000-concurrent']);
    const { script } = exportK6(s!.def, { baseUrl: server.url });
    const { instances } = await loadScript(script, 1);
    const options = instances[0].options;
    expect(options.scenarios.sync).toMatchObject({ executor: 'constant-vus', vus: 1000, duration: '20s' });
    // The scenario's own thresholds win over the RFC defaults, as in a harness run.
    const key = 'sync_latency_ms{path:phone-cloud,payload:small,fault:none}';
    expect(options.thresholds[key]).toEqual(s!.def.thresholds?.[key] ?? ['p(95)<2000']);
    expect(options.thresholds.vu_sync_latency_ms).toEqual(s!.def.thresholds!.vu_sync_latency_ms);
    // A harness `min>0.99` on a success rate is a k6 Rate threshold.
    expect(options.thresholds.vu_sync_success_rate).toEqual(['rate>0.99']);
    // The RFC success rate is judged on fault:none, the tag every sample of the script carries.
    expect(options.thresholds['sync_success_rate{fault:none}']).toEqual(['rate>0.99']);
    expect(options.thresholds.sync_success_rate).toBeUndefined();
    expect(options.thresholds.lost_writes).toBeUndefined();
  });

  it("runs the script's own VUs against the reference server: every write arrives, on every device of the user", async () => {
    const all = await loadScenarios(resolve('scenarios'));
    const [s] = selectScenarios(all, ['load-1000-concurrent']);
    const { script } = exportK6(s!.def, { baseUrl: server.url });
    const { instances, samples, checks } = await loadScript(script, 4);
    const data = instances[0].setup();
    for (let iter = 0; iter < 3; iter++) {
      for (const [i, m] of instances.entries()) {
        (globalThis as Record<string, unknown>).__VU = i + 1;
        await m.default(data);
      }
    }
    expect(checks.filter((c) => !c.r)).toEqual([]);
    expect(samples.vu_sync_success_rate!.map((x) => x.v)).toEqual(Array(12).fill(1));
    expect(samples.sync_success_rate!.map((x) => x.tags?.fault)).toEqual(Array(12).fill('none'));
    // Every row the four devices hold locally is on the server, as they last wrote it.
    const devices = instances.map((m) => m.currentDevice());
    expect(new Set(devices.map((d) => d.userId)).size).toBe(1);
    const onServer = await pullAll(devices[0].userId, `${devices[0].userId}-check`);
    let rows = 0;
    for (const d of devices)
      for (const [table, own] of Object.entries(d.rows as Record<string, Array<Record<string, unknown>>>))
        for (const row of own) {
          rows++;
          const got = onServer[table]!.updated.find((r) => r.id === row.id);
          expect(got, `${table}#${row.id}`).toBeDefined();
          for (const [k, v] of Object.entries(row)) expect(got![k], `${table}#${row.id}.${k}`).toEqual(v);
        }
    expect(rows).toBeGreaterThan(0);
    expect(samples.pushed_records!.reduce((a, x) => a + x.v, 0)).toBeGreaterThanOrEqual(rows);
  });

  it('maps thresholds the k6 script cannot measure to a skip list, never silently', () => {
    const { thresholds, skipped } = k6Thresholds({
      concurrent_syncs: ['max>=1000'],
      vu_sync_latency_ms: ['p(95)<2000'],
    });
    expect(thresholds).toEqual({ vu_sync_latency_ms: ['p(95)<2000'] });
    expect(skipped.map((s) => s.key)).toEqual(['concurrent_syncs']);
    // The script injects no faults: its syncs are fault:none, a fault:active ceiling has nothing to judge.
    const f = k6Thresholds({
      'sync_latency_ms{path:phone-cloud,payload:small,fault:none}': ['p(95)<2000'],
      'sync_latency_ms{path:phone-cloud,payload:small,fault:active}': ['p(95)<10000'],
    });
    expect(Object.keys(f.thresholds)).toEqual(['sync_latency_ms{path:phone-cloud,payload:small,fault:none}']);
    expect(f.skipped).toMatchObject([{ key: 'sync_latency_ms{path:phone-cloud,payload:small,fault:active}' }]);
    const r = k6Thresholds(mergeThresholdSpecs(RFC_THRESHOLDS, { 'sync_success_rate{fault:active}': ['rate>0.3'] }));
    expect(r.thresholds['sync_success_rate{fault:none}']).toEqual(['rate>0.99']);
    expect(r.skipped.map((x) => x.key)).toContain('sync_success_rate{fault:active}');
  });

  const k6Binary = (() => {
    try {
      return execFileSync('sh', ['-c', 'command -v k6'], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      return undefined;
    }
  })();
  it.skipIf(!k6Binary)('runs under the real k6 binary for a few seconds', async () => {
    const all = await loadScenarios(resolve('scenarios'));
    const [s] = selectScenarios(all, ['smoke']);
    const { script } = exportK6(
      { ...s!.def, load: { users: 2, devicesPerUser: 2, durationMs: 3000 } },
      { baseUrl: server.url },
    );
    const dir = mkdtempSync(join(tmpdir(), 'k6-bin-'));
    writeFileSync(join(dir, 's.js'), script);
    execFileSync(k6Binary!, ['run', '--quiet', join(dir, 's.js')], { stdio: 'inherit' });
  });
});

describe('k6 wire from a target adapter', () => {
  it('carries paths, names, unit, codes and tables, and refuses what the script cannot speak', async () => {
    const { resolveAdapter } = await import('../target/define-adapter');
    const { k6WireFromAdapter } = await import('./k6');
    const w = k6WireFromAdapter(
      resolveAdapter({
        name: 'other',
        timeUnit: 's',
        pull: { path: '/api/pull', lastPulledAt: { in: 'query', name: 'since' }, timestampField: 'now' },
        push: { path: '/api/push', okStatus: [201] },
        auth: { kind: 'bearer', token: '$TOKEN' },
        tables: ['goals'],
      }),
    );
    expect(w).toMatchObject({
      pull: { path: '/api/pull' },
      push: { path: '/api/push', successCodes: [201] },
      query: { lastPulledAt: 'since' },
      timestampField: 'now',
      timeUnit: 's',
      tables: ['goals'],
      auth: 'static',
    });
    expect(() => k6WireFromAdapter(resolveAdapter({ name: 'camel', columns: 'camelCase' }))).toThrow(/sets columns/);
    expect(() =>
      k6WireFromAdapter(
        resolveAdapter({ name: 'login', auth: { kind: 'login', path: '/login', body: () => ({}), tokenField: 't' } }),
      ),
    ).toThrow(/auth\.kind = "login"/);
  });
});
