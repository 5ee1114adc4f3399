/**
 * /files/upload-url and /files/complete end to end: real PostgreSQL, the embedded S3-compatible store
 * on a socket, presigned PUTs over real HTTP, FIT decoding in the worker.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFitActivity } from '../../fixtures/fit/generator';
import { EmbeddedObjectStore } from '../../harness/services/object-store/embedded';
import { FIT_CONTENT_TYPE } from '../../protocol/files';
import {
  changes,
  newServer,
  pulledRow,
  startCluster,
  type TestCluster,
  TestDevice,
  type TestServer,
} from '../test-helpers';

const FIT_DIR = join(__dirname, '..', '..', 'fixtures', 'fit');
const fixture = (f: string) => readFileSync(join(FIT_DIR, f));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let cluster: TestCluster;
let store: EmbeddedObjectStore;
let server: TestServer;
let clock = Date.now;

beforeAll(async () => {
  cluster = await startCluster();
  store = await new EmbeddedObjectStore({ buckets: ['fit'], now: () => clock() }).start();
  server = await newServer(cluster, {
    objectStore: {
      endpoint: store.url,
      bucket: 'fit',
      region: store.region,
      ...store.credentials,
      expiresInSeconds: 60,
    },
  });
});
afterAll(async () => {
  await server?.close();
  await store?.stop();
  await cluster?.stop();
});

async function post(d: TestDevice, url: string, payload: unknown) {
  const r = await d.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' },
    payload: JSON.stringify(payload),
  });
  return { status: r.statusCode, body: r.json(), headers: r.headers };
}

async function uploadUrl(d: TestDevice, bytes: Uint8Array, fileName = 'a.fit') {
  const r = await post(d, '/files/upload-url', {
    fileName,
    contentType: FIT_CONTENT_TYPE,
    size: bytes.length,
    sha256: sha(bytes),
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { uploadUrl: string; fileKey: string; expiresAt: number };
}

const put = (url: string, bytes: Uint8Array, contentType = FIT_CONTENT_TYPE) =>
  fetch(url, { method: 'PUT', body: bytes as Uint8Array<ArrayBuffer>, headers: { 'content-type': contentType } });

describe('files: presigned upload and ingest', () => {
  it('uploads a FIT, fills the activity from its session and stores fit_file_key', async () => {
    const d = await TestDevice.create(server.app, 'files-u1', 'files-d1');
    await d.pull();
    await d.push(changes('activities', { created: [{ id: 'act-1', sport: 'run', rpe: 7, notes: 'felt good' }] }));
    const bytes = fixture('run-30min.fit');
    const u = await uploadUrl(d, bytes, 'run-30min.fit');
    expect(u.expiresAt).toBeGreaterThan(Date.now());
    const res = await put(u.uploadUrl, bytes);
    expect(res.status, await res.clone().text()).toBe(200);
    const c = await post(d, '/files/complete', { fileKey: u.fileKey, recordId: 'act-1', tableName: 'activities' });
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    const row = pulledRow(await d.pull(), 'activities', 'act-1')!;
    expect(row).toMatchObject({
      sport: 'running',
      started_at: Date.parse('2024-05-18T06:30:00Z'),
      duration_s: 1800,
      distance_m: 5583.11,
      avg_hr: 144,
      max_hr: 155,
      calories: 391,
      elevation_gain_m: 21,
      fit_file_key: u.fileKey,
      rpe: 7,
      notes: 'felt good',
    });
    expect(sha(store.get('fit', u.fileKey)!.bytes)).toBe(sha(bytes));
  });

  it('the same file asked for twice gets the same key: a retried upload cannot duplicate it', async () => {
    const d = await TestDevice.create(server.app, 'files-u2', 'files-d2');
    const bytes = fixture('tiny-1min.fit');
    const a = await uploadUrl(d, bytes);
    const b = await uploadUrl(d, bytes);
    expect(b.fileKey).toBe(a.fileKey);
    expect((await put(a.uploadUrl, bytes)).status).toBe(200);
    expect((await put(b.uploadUrl, bytes)).status).toBe(200);
    expect(store.list('fit').filter((o) => o.key === a.fileKey)).toHaveLength(1);
  });

  it('a URL is bound to its size, content type and key; an expired one is refused', async () => {
    const d = await TestDevice.create(server.app, 'files-u3', 'files-d3');
    const bytes = fixture('tiny-1min.fit');
    const u = await uploadUrl(d, bytes);
    const wrongType = await put(u.uploadUrl, bytes, 'application/octet-stream');
    expect(wrongType.status).toBe(403);
    expect(await wrongType.text()).toContain('SignatureDoesNotMatch');
    const wrongSize = await put(u.uploadUrl, Buffer.concat([bytes, Buffer.from('x')]));
    expect(wrongSize.status).toBe(403);
    const otherKey = await put(u.uploadUrl.replace(/\/files\/[0-9a-f]{8}/, '/files/00000000'), bytes);
    expect(otherKey.status).toBe(403);
    clock = () => Date.now() + 61_000;
    try {
      const late = await put(u.uploadUrl, bytes);
      expect(late.status).toBe(403);
      expect(await late.text()).toContain('Request has expired');
    } finally {
      clock = Date.now;
    }
    expect(store.get('fit', u.fileKey)).toBeUndefined();
  });

  it('complete for a record the server does not have yet is a 409 that says to sync first', async () => {
    const d = await TestDevice.create(server.app, 'files-u10', 'files-d10');
    const bytes = fixture('tiny-1min.fit');
    const u = await uploadUrl(d, bytes);
    expect((await put(u.uploadUrl, bytes)).status).toBe(200);
    const c = await post(d, '/files/complete', { fileKey: u.fileKey, recordId: 'not-pushed', tableName: 'activities' });
    expect(c.status).toBe(409);
    expect(c.body.error.code).toBe('SYNC_ERR_RECORD_NOT_SYNCED');
    expect((await d.pullRaw(0)).body.changes.activities?.updated).toEqual([]);
  });

  it('complete before the PUT is a 409 that says to upload first; unknown keys are 404', async () => {
    const d = await TestDevice.create(server.app, 'files-u4', 'files-d4');
    const u = await uploadUrl(d, fixture('swim-pool-laps.fit'));
    const early = await post(d, '/files/complete', { fileKey: u.fileKey, recordId: 'x', tableName: 'activities' });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('SYNC_ERR_UPLOAD_INCOMPLETE');
    const other = await TestDevice.create(server.app, 'files-u5', 'files-d5');
    const stranger = await post(other, '/files/complete', {
      fileKey: u.fileKey,
      recordId: 'x',
      tableName: 'activities',
    });
    expect(stranger.status).toBe(404);
  });

  for (const [file, reason] of [
    ['truncated.fit', 'File data exceeds input length'],
    ['bad-crc.fit', 'File CRC mismatch'],
    ['not-a-fit.fit', 'Incorrect header size'],
    ['header-only.fit', 'File data exceeds input length'],
  ] as const) {
    it(`${file}: 422 with the parser's reason, activity unchanged`, async () => {
      const d = await TestDevice.create(server.app, `files-bad-${file}`, `files-bad-d-${file}`);
      await d.pull();
      await d.push(changes('activities', { created: [{ id: 'bad-1', sport: 'run', rpe: 5 }] }));
      const before = pulledRow(await d.pullRaw(0).then((r) => r.body), 'activities', 'bad-1');
      const bytes = fixture(file);
      const u = await uploadUrl(d, bytes, file);
      expect((await put(u.uploadUrl, bytes)).status).toBe(200);
      const c = await post(d, '/files/complete', { fileKey: u.fileKey, recordId: 'bad-1', tableName: 'activities' });
      expect(c.status).toBe(422);
      expect(c.body.error.code).toBe('SYNC_ERR_UNPROCESSABLE');
      expect(c.body.error.message).toContain(reason);
      const after = await d.pullRaw(0);
      expect(pulledRow(after.body, 'activities', 'bad-1')).toEqual(before);
    });
  }

  it('an empty file cannot even get an upload URL (size must be >= 1)', async () => {
    const d = await TestDevice.create(server.app, 'files-u6', 'files-d6');
    const r = await post(d, '/files/upload-url', {
      fileName: 'empty.fit',
      contentType: FIT_CONTENT_TYPE,
      size: 0,
      sha256: sha(fixture('empty.fit')),
    });
    expect(r.status).toBe(400);
  });

  it('upload-url is strict: unknown fields, wrong types, bad hashes and huge sizes are rejected', async () => {
    const d = await TestDevice.create(server.app, 'files-u7', 'files-d7');
    const ok = { fileName: 'a.fit', contentType: FIT_CONTENT_TYPE, size: 10, sha256: 'a'.repeat(64) };
    expect((await post(d, '/files/upload-url', { ...ok, extra: 1 })).status).toBe(400);
    expect((await post(d, '/files/upload-url', { ...ok, size: '10' })).status).toBe(400);
    expect((await post(d, '/files/upload-url', { ...ok, sha256: 'A'.repeat(64) })).status).toBe(400);
    expect((await post(d, '/files/upload-url', { ...ok, fileName: '../etc/passwd' })).status).toBe(400);
    expect((await post(d, '/files/upload-url', { ...ok, size: 60 * 1024 * 1024 })).status).toBe(413);
    expect((await post(d, '/files/complete', { fileKey: 'k', recordId: 'r', tableName: 'goals' })).status).toBe(400);
    const noAuth = await server.app.inject({ method: 'POST', url: '/files/upload-url', payload: ok });
    expect(noAuth.statusCode).toBe(401);
  });

  it('a checksum that does not match the declared one is a 422', async () => {
    const d = await TestDevice.create(server.app, 'files-u8', 'files-d8');
    const bytes = fixture('tiny-1min.fit');
    const r = await post(d, '/files/upload-url', {
      fileName: 'a.fit',
      contentType: FIT_CONTENT_TYPE,
      size: bytes.length,
      sha256: sha(Buffer.from('something else')),
    });
    expect((await put(r.body.uploadUrl, bytes)).status).toBe(200);
    const c = await post(d, '/files/complete', { fileKey: r.body.fileKey, recordId: 'a', tableName: 'activities' });
    expect(c.status).toBe(422);
    expect(c.body.error.message).toContain('checksum mismatch');
  });

  it('a 6-hour activity is ingested while other requests are served', async () => {
    const d = await TestDevice.create(server.app, 'files-u9', 'files-d9');
    await d.pull();
    await d.push(changes('activities', { created: [{ id: 'long-1', rpe: 8 }] }));
    const g = generateFitActivity({ seed: 9, sport: 'cycling', durationS: 6 * 3600 });
    const u = await uploadUrl(d, g.bytes, 'ride-6h.fit');
    expect((await put(u.uploadUrl, g.bytes)).status).toBe(200);
    const completing = post(d, '/files/complete', { fileKey: u.fileKey, recordId: 'long-1', tableName: 'activities' });
    // Pulls issued while the decode runs are answered (the decode is in a worker thread).
    let pullsDuring = 0;
    let done = false;
    void completing.finally(() => {
      done = true;
    });
    while (!done) {
      expect((await d.pullRaw(0)).status).toBe(200);
      if (!done) pullsDuring++;
    }
    const c = await completing;
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body.record.duration_s).toBe(6 * 3600);
    expect(pullsDuring).toBeGreaterThan(0);
  }, 120_000);
});
