/**
 * RFC 9530 Content-Digest (RFC 0006 §5.4): a push whose body does not match its digest is refused
 * with the reason and nothing applied; without the header the server is exactly as before; large
 * responses carry a digest of the bytes as sent.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changes, newServer, startCluster, type TestCluster, TestDevice, type TestServer } from './test-helpers';

let cluster: TestCluster;
let server: TestServer;

beforeAll(async () => {
  cluster = await startCluster();
  server = await newServer(cluster);
});
afterAll(async () => {
  await server?.close();
  await cluster?.stop();
});

const sha256 = (b: Buffer) => `sha-256=:${createHash('sha256').update(b).digest('base64')}:`;

/** A gzip push of 100 activities (≈ 25 KB of JSON: over the gzip and digest thresholds). */
function bigPush(dev: TestDevice, prefix: string) {
  const created = Array.from({ length: 100 }, (_, i) => ({
    id: `${prefix}${i}`,
    sport: 'run',
    notes: 'n'.repeat(200),
  }));
  return gzipSync(
    JSON.stringify({
      changes: changes('activities', { created }),
      lastPulledAt: dev.lastPulledAt,
      deviceId: dev.deviceId,
    }),
  );
}

async function send(dev: TestDevice, body: Buffer, headers: Record<string, string>) {
  return server.app.inject({
    method: 'POST',
    url: '/sync/push',
    headers: { authorization: `Bearer ${dev.token}`, 'content-type': 'application/json', ...headers },
    payload: body,
  });
}

async function activityIds(dev: TestDevice, prefix: string): Promise<string[]> {
  const r = await dev.pullRaw(0);
  return (r.body.changes.activities?.updated ?? []).map((x) => x.id).filter((id) => id.startsWith(prefix));
}

describe('Content-Digest on push', () => {
  it('a gzip body matching its digest (taken over the compressed bytes) is applied', async () => {
    const dev = await TestDevice.create(server.app, 'dg-ok', 'dg-ok-d');
    await dev.pull();
    const body = bigPush(dev, 'ok');
    const r = await send(dev, body, { 'content-encoding': 'gzip', 'content-digest': sha256(body) });
    expect(r.statusCode, r.body).toBe(200);
    expect(await activityIds(dev, 'ok')).toHaveLength(100);
  });

  it('a body with one byte flipped in transit gets 400 SYNC_ERR_DIGEST_MISMATCH with the reason, nothing applied', async () => {
    const dev = await TestDevice.create(server.app, 'dg-bad', 'dg-bad-d');
    await dev.pull();
    const body = bigPush(dev, 'bad');
    const digest = sha256(body);
    const corrupt = Buffer.from(body);
    corrupt[Math.floor(corrupt.length / 2)]! ^= 0x20;
    const r = await send(dev, corrupt, { 'content-encoding': 'gzip', 'content-digest': digest });
    expect(r.statusCode).toBe(400);
    const err = r.json().error;
    expect(err.code).toBe('SYNC_ERR_DIGEST_MISMATCH');
    expect(err.message).toMatch(
      new RegExp(`sha-256 of the ${corrupt.length} bytes received is .* Content-Digest says`),
    );
    expect(err.message).toMatch(/nothing was applied/);
    expect(await activityIds(dev, 'bad')).toHaveLength(0);
    // The same request sent again intact goes through: the rejection is retryable.
    const again = await send(dev, body, { 'content-encoding': 'gzip', 'content-digest': digest });
    expect(again.statusCode).toBe(200);
    expect(await activityIds(dev, 'bad')).toHaveLength(100);
  });

  it('without the header a body is accepted as before; a corrupt gzip body without one is a decoding error', async () => {
    const dev = await TestDevice.create(server.app, 'dg-none', 'dg-none-d');
    await dev.pull();
    const body = bigPush(dev, 'none');
    const corrupt = Buffer.from(body);
    corrupt[corrupt.length - 6]! ^= 0xff; // inside the gzip trailer's CRC-32
    const bad = await send(dev, corrupt, { 'content-encoding': 'gzip' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('SYNC_ERR_BAD_ENCODING');
    expect(await activityIds(dev, 'none')).toHaveLength(0);
    const r = await send(dev, body, { 'content-encoding': 'gzip' });
    expect(r.statusCode).toBe(200);
    expect(await activityIds(dev, 'none')).toHaveLength(100);
  });

  it('an identity body is checked too; unknown algorithms are ignored; a malformed header is a 400 naming it', async () => {
    const dev = await TestDevice.create(server.app, 'dg-id', 'dg-id-d');
    await dev.pull();
    const json = Buffer.from(gunzipSync(bigPush(dev, 'id')));
    const ok = await send(dev, json, { 'content-digest': sha256(json) });
    expect(ok.statusCode, ok.body).toBe(200);
    const wrong = await send(dev, json, { 'content-digest': sha256(Buffer.from('something else')) });
    expect(wrong.json().error.code).toBe('SYNC_ERR_DIGEST_MISMATCH');
    const unknown = await send(dev, json, { 'content-digest': 'md5=:AAAA:' });
    expect(unknown.statusCode, unknown.body).toBe(200);
    const malformed = await send(dev, json, { 'content-digest': 'sha-256=abc' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error).toMatchObject({ code: 'SYNC_ERR_BAD_REQUEST' });
    expect(malformed.json().error.message).toMatch(/Content-Digest member "sha-256=abc"/);
  });
});

describe('Content-Digest on responses', () => {
  it('a large pull carries the digest of the bytes as sent, gzip or identity; a small one none', async () => {
    const dev = await TestDevice.create(server.app, 'dg-pull', 'dg-pull-d');
    await dev.pull();
    const push = await send(dev, bigPush(dev, 'p'), { 'content-encoding': 'gzip' });
    expect(push.statusCode).toBe(200);
    const pull = (acceptEncoding?: string, extra = '') =>
      server.app.inject({
        method: 'GET',
        url: `/sync/pull?lastPulledAt=0&deviceId=${dev.deviceId}${extra}`,
        headers: {
          authorization: `Bearer ${dev.token}`,
          ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}),
        },
      });
    const gz = await pull('gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-digest']).toBe(sha256(gz.rawPayload));
    expect(Number(gz.headers['content-length'])).toBe(gz.rawPayload.length);
    expect(JSON.parse(gunzipSync(gz.rawPayload).toString()).changes.activities.updated).toHaveLength(100);
    const plain = await pull();
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-digest']).toBe(sha256(plain.rawPayload));
    const small = await pull('gzip', '&tables=goals');
    expect(small.headers['content-digest']).toBeUndefined();
  });
});
