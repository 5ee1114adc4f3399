/** A seeded run of the fuzz (server/fuzz/) as a test: `make fuzz` runs the full 10,000. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type StartedSyncServer, startSyncServer } from './app';
import { runFuzz } from './fuzz/run';
import { createDatabase } from './services/postgres';
import { startCluster, type TestCluster } from './test-helpers';

let cluster: TestCluster;
let server: StartedSyncServer;
let drop: () => Promise<void>;
beforeAll(async () => {
  cluster = await startCluster();
  const db = await createDatabase(cluster.adminUrl);
  drop = db.drop;
  server = await startSyncServer({
    databaseUrl: db.url,
    logLevel: 'silent',
    limits: { headersTimeoutMs: 1000, requestTimeoutMs: 1500, idleTimeoutMs: 2000, keepAliveTimeoutMs: 1000 },
  });
});
afterAll(async () => {
  await server?.close();
  await drop?.().catch(() => {});
  await cluster?.stop();
});

it('1,500 hostile requests (seed 18): no 5xx, rejected ones write nothing, stalls closed, the server still syncs', async () => {
  const r = await runFuzz(server, { count: 1500, seed: 18, stallBoundMs: 6000 });
  console.log(`fuzz seed ${r.seed}: ${JSON.stringify(r.histogram)}`);
  expect(r.violations).toEqual([]);
  // The run exercised both sides: accepted writes and every kind of rejection.
  expect(r.histogram['200']).toBeGreaterThan(50);
  expect(r.histogram['400']).toBeGreaterThan(500);
  expect(Object.keys(r.byKind).length).toBeGreaterThan(30);
}, 240_000);
