import { describe, expect, it } from 'vitest';
import {
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  retryWaitMs,
  SyncHttpClient,
  SyncHttpError,
  withBackoff,
} from './sync-http';

const maintenance = (s: number) =>
  new SyncHttpError('http', 'GET /sync/pull → 503', 503, 'SYNC_ERR_MAINTENANCE', s * 1000);

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP dates, caps them, ignores garbage', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('99999')).toBe(MAX_RETRY_AFTER_MS);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000);
  });

  it('lengthens the RFC backoff, never shortens it', () => {
    expect(retryWaitMs(1, maintenance(5))).toBe(5000);
    expect(retryWaitMs(5, maintenance(5))).toBe(16_000);
    expect(retryWaitMs(2, new Error('reset'))).toBe(2000);
  });

  it('withBackoff waits the Retry-After between attempts and reports each wait', async () => {
    const waits: number[] = [];
    let n = 0;
    const r = await withBackoff(
      async () => {
        if (++n < 3) throw maintenance(4);
        return 'ok';
      },
      { sleep: async (ms) => void waits.push(ms), onRetry: () => {} },
    );
    expect(r).toEqual({ value: 'ok', attempts: 3 });
    expect(waits).toEqual([4000, 4000]);
  });
});

describe('token refresh (RFC §5.1)', () => {
  it('re-sends a request refused with 401 once, with a fresh token, and reports the refresh', async () => {
    const seen: string[] = [];
    const refreshed: string[] = [];
    let n = 0;
    const client = new SyncHttpClient({
      baseUrl: 'http://server',
      deviceId: 'd',
      schemaVersion: 2,
      getToken: async (o) => (o?.refresh ? `fresh-${++n}` : 'stale'),
      onTokenRefresh: (p) => refreshed.push(p),
      fetch: async (_url, init) => {
        const auth = String((init!.headers as Record<string, string>).authorization);
        seen.push(auth);
        return auth === 'Bearer stale'
          ? new Response(JSON.stringify({ error: { code: 'SYNC_ERR_UNAUTHORIZED', message: 'expired' } }), {
              status: 401,
            })
          : new Response(JSON.stringify({ changes: {}, timestamp: 5 }), { status: 200 });
      },
    });
    const r = await client.pull(1);
    expect(r.body.timestamp).toBe(5);
    expect(seen).toEqual(['Bearer stale', 'Bearer fresh-1']);
    expect(refreshed).toEqual(['/sync/pull']);
  });

  it('a second 401 with the fresh token is the error (no loop)', async () => {
    let calls = 0;
    const client = new SyncHttpClient({
      baseUrl: 'http://server',
      deviceId: 'd',
      schemaVersion: 2,
      getToken: async () => 'bad',
      fetch: async () => {
        calls++;
        return new Response('{}', { status: 401 });
      },
    });
    await expect(client.pull(1)).rejects.toMatchObject({ status: 401 });
    expect(calls).toBe(2);
  });
});

describe('Content-Digest (RFC 0006 §5.4 checksums on large payloads)', () => {
  const sha256 = async (b: Uint8Array) => {
    const { createHash } = await import('node:crypto');
    return `sha-256=:${createHash('sha256').update(b).digest('base64')}:`;
  };
  const push = (notes: string) => ({
    changes: { goals: { created: [{ id: 'g1', title: notes }], updated: [], deleted: [] } },
    lastPulledAt: 1,
    deviceId: 'd',
  });
  const ok = () => new Response(JSON.stringify({ success: true, conflictedRecords: [], timestamp: 2 }));

  it('a large push carries the digest of its gzip bytes; a small one none; the body is still the contract', async () => {
    const sent: Array<{ headers: Record<string, string>; body: Uint8Array }> = [];
    const client = new SyncHttpClient({
      baseUrl: 'http://server',
      deviceId: 'd',
      schemaVersion: 2,
      getToken: async () => 't',
      fetch: async (_url, init) => {
        sent.push({ headers: init!.headers as Record<string, string>, body: init!.body as Uint8Array });
        return ok();
      },
    });
    await client.push(push('x'.repeat(20_000)));
    await client.push(push('small'));
    const [big, small] = sent;
    expect(big!.headers['content-encoding']).toBe('gzip');
    expect(big!.headers['content-digest']).toBe(await sha256(big!.body));
    const { gunzipSync } = await import('node:zlib');
    expect(Object.keys(JSON.parse(gunzipSync(big!.body).toString()))).toEqual(['changes', 'lastPulledAt', 'deviceId']);
    expect(small!.headers['content-digest']).toBeUndefined();
  });

  it('a checksum 400 is retried (bounded), then the sync fails with the reason', async () => {
    let calls = 0;
    const mismatch = () =>
      new Response(
        JSON.stringify({
          error: {
            code: 'SYNC_ERR_DIGEST_MISMATCH',
            message: 'Request body does not match its Content-Digest: sha-256 …',
          },
        }),
        { status: 400 },
      );
    const client = (failures: number) =>
      new SyncHttpClient({
        baseUrl: 'http://server',
        deviceId: 'd',
        schemaVersion: 2,
        getToken: async () => 't',
        fetch: async () => (++calls <= failures ? mismatch() : ok()),
      });
    const sleep = async () => {};
    const r = await withBackoff(() => client(2).push(push('x'.repeat(20_000))), { sleep, maxAttempts: 4 });
    expect(r.attempts).toBe(3);
    calls = 0;
    const err = await withBackoff(() => client(99).push(push('x'.repeat(20_000))), { sleep, maxAttempts: 4 }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(SyncHttpError);
    expect(err.code).toBe('SYNC_ERR_DIGEST_MISMATCH');
    expect(err.message).toMatch(/400: Request body does not match its Content-Digest/);
    expect(err.attempts).toBe(4);
    expect(calls).toBe(4);
    // Any other 400 is still not retried.
    expect(new SyncHttpError('http', 'bad', 400, 'SYNC_ERR_WRONG_TYPE').retryable).toBe(false);
  });

  it('an identity response that does not match its digest is a retryable error naming the mismatch', async () => {
    const body = JSON.stringify({ changes: {}, timestamp: 5 });
    let digest = await sha256(new TextEncoder().encode(body));
    const client = new SyncHttpClient({
      baseUrl: 'http://server',
      deviceId: 'd',
      schemaVersion: 2,
      getToken: async () => 't',
      fetch: async () => new Response(body, { headers: { 'content-digest': digest } }),
    });
    expect((await client.pull(0)).body.timestamp).toBe(5);
    digest = await sha256(new TextEncoder().encode(body.replace('5', '6')));
    const err = await client.pull(0).catch((e) => e);
    expect(err).toBeInstanceOf(SyncHttpError);
    expect(err.kind).toBe('network');
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/response does not match its Content-Digest: sha-256 of the \d+ bytes received/);
  });
});

describe('a response body that never ends', () => {
  it('fails at the request timeout instead of hanging the device (Node 20 fetch on a corrupt gzip body)', async () => {
    const client = new SyncHttpClient({
      baseUrl: 'http://server',
      deviceId: 'd',
      schemaVersion: 2,
      getToken: async () => 't',
      timeoutMs: 50,
      // A body whose read never settles and ignores the abort, as undici's does.
      fetch: async () => Object.assign(new Response('{}'), { arrayBuffer: () => new Promise<ArrayBuffer>(() => {}) }),
    });
    const err = await client.pull(0).catch((e) => e);
    expect(err).toBeInstanceOf(SyncHttpError);
    expect(err.kind).toBe('network');
    expect(err.message).toMatch(/GET \/sync\/pull failed: timeout/);
  });
});
