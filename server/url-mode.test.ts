/**
 * The same server against an external PostgreSQL (url mode), when one answers on 127.0.0.1:5432
 * (database `test`, trust auth; override with SYNC_TEST_DATABASE_URL). A fresh database per file.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pingPostgres } from '../harness/services/postgres/index';
import {
  changes,
  newServer,
  pulledRow,
  startCluster,
  type TestCluster,
  TestDevice,
  type TestServer,
} from './test-helpers';

const URL = process.env.SYNC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
let available = false;
let cluster: TestCluster | undefined;
let server: TestServer | undefined;

beforeAll(async () => {
  available = await pingPostgres(URL, 1000).then(
    () => true,
    () => false,
  );
  if (!available) return;
  cluster = await startCluster('url', URL);
  server = await newServer(cluster);
});
afterAll(async () => {
  await server?.close(); // drops the per-file database
  await cluster?.stop();
});

it('url mode: pull, push, conflict and tombstone against an external PostgreSQL', async (ctx) => {
  if (!available) ctx.skip();
  const app = server!.app;
  const a = await TestDevice.create(app, 'url-u', 'url-a');
  const b = await TestDevice.create(app, 'url-u', 'url-b', 1);
  await a.pull();
  await a.push(changes('activities', { created: [{ id: 'x', sport: 'run', feeling: 'ok', distance_m: 1 }] }));
  await a.pull();
  const pb = await b.pull();
  expect(pulledRow(pb, 'activities', 'x')).toEqual(expect.not.objectContaining({ feeling: expect.anything() }));
  await a.push(changes('activities', { updated: [{ id: 'x', distance_m: 2 }] }));
  const res = await b.push(changes('activities', { updated: [{ id: 'x', distance_m: 3, rpe: 9 }] }));
  expect(res.conflictedRecords[0]).toMatchObject({ resolution: 'merged', resolvedRecord: { distance_m: 2, rpe: 9 } });
  await a.pull();
  await a.push(changes('activities', { deleted: ['x'] }));
  expect((await b.pull()).changes.activities!.deleted).toEqual(['x']);
  const v2 = await a.pullRaw(0);
  expect(v2.body.changes.activities!.deleted).toEqual(['x']);
});
