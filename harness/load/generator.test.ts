/**
 * The load generator against the REAL sync server (embedded PostgreSQL), through a recording HTTP
 * relay: per-trigger tagging, exact arrival counts, nothing lost, bodies exactly the contract's, and
 * the same figures from worker processes as from one.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEnv, type TestEnv } from '../../devices/phone/test-support';
import { columnNames, type TableName } from '../../protocol/tables';
import { runLoad } from './generator';
import { BACKGROUND_TABLES, LOAD_TRIGGERS } from './triggers';

let env: TestEnv;
let relay: Server;
let relayUrl: string;
const pushes: Array<Record<string, unknown>> = [];
const pulls: URLSearchParams[] = [];

beforeAll(async () => {
  env = await startTestEnv();
  const target = new URL(env.serverUrl);
  // Forward everything; keep what the generator sent, to compare it with the contract.
  relay = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/sync/push') {
        const raw = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
        pushes.push(JSON.parse(raw.toString()));
      }
      if (url.pathname === '/sync/pull') pulls.push(url.searchParams);
      const up = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode!, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => relay?.close(r));
  await env?.close();
});

describe('load generator', () => {
  it('constant-arrival-rate: every scheduled iteration runs, latency tagged per trigger, nothing lost, contract bodies', async () => {
    pushes.length = 0;
    pulls.length = 0;
    const run = await runLoad({
      serverUrl: relayUrl,
      executor: { executor: 'constant-arrival-rate', rate: 40, durationMs: 1500, maxVUs: 60 },
      devicesPerUser: 2,
      seedRowsPerUser: 4,
      // Every trigger often enough to be seen in 60 iterations.
      mix: { 'check-in': 1, 'workout-complete': 1, 'background-fetch': 1, 'first-sync': 1 },
      lostWriteSample: 5,
      requestTimeoutMs: 60_000,
      // Through each VU's own loopback source address (what runs over 1024 VUs use).
      spreadSourceAddresses: true,
    });
    const s = run.summary;
    expect(s.iterations + s.dropped).toBe(60);
    expect(s.failed, JSON.stringify(s.errors)).toBe(0);
    // One series per trigger, and they add up to the whole.
    const perTrigger = LOAD_TRIGGERS.map((t) => run.metrics.summary('vu_sync_latency_ms', { trigger: t })?.count ?? 0);
    expect(perTrigger.every((n) => n > 0)).toBe(true);
    expect(perTrigger.reduce((a, b) => a + b, 0)).toBe(s.iterations);
    expect(Object.keys(s.byTrigger).sort()).toEqual([...LOAD_TRIGGERS].sort());
    expect(s.lostWrites).toMatchObject({ checkedUsers: 5, lost: 0, diverged: 0, unverified: 0 });
    expect(s.generator.cpuMsPer1000Syncs).toBeGreaterThan(0);

    // Exactly the contract: body fields, record columns, pull parameters.
    expect(pushes.length).toBeGreaterThan(0);
    for (const p of pushes) {
      expect(Object.keys(p).every((k) => ['changes', 'lastPulledAt', 'deviceId', 'pushId'].includes(k))).toBe(true);
      for (const [table, tc] of Object.entries(p.changes as Record<string, Record<string, unknown[]>>)) {
        const allowed = new Set(['id', ...columnNames(table as TableName, 2)]);
        for (const rec of [...tc.created!, ...tc.updated!] as Array<Record<string, unknown>>)
          expect(Object.keys(rec).filter((k) => !allowed.has(k))).toEqual([]);
      }
    }
    for (const q of pulls)
      expect([...q.keys()].every((k) => ['lastPulledAt', 'schemaVersion', 'deviceId', 'tables'].includes(k))).toBe(
        true,
      );
    // Background fetch: the core tables only, and no push.
    const partial = pulls.filter((q) => q.has('tables'));
    expect(partial.length).toBe(s.byTrigger['background-fetch']!.count);
    for (const q of partial) expect(q.get('tables')).toBe(BACKGROUND_TABLES.join(','));
  });

  it('worker processes: the merged run counts every iteration once', async () => {
    const run = await runLoad({
      serverUrl: env.serverUrl,
      executor: { executor: 'constant-arrival-rate', rate: 30, durationMs: 1000, maxVUs: 40 },
      workers: 2,
      seedRowsPerUser: 2,
      lostWriteSample: 2,
      requestTimeoutMs: 60_000,
    });
    const s = run.summary;
    expect(s.workers).toBe(2);
    expect(s.vus).toBe(40);
    expect(s.iterations + s.dropped).toBe(30);
    expect(run.metrics.summary('vu_sync_latency_ms')?.count).toBe(s.iterations);
    expect(run.timeline.reduce((a, w) => a + w.started, 0)).toBe(s.iterations);
    expect(s.lostWrites).toMatchObject({ checkedUsers: 4, lost: 0 });
  });
});
