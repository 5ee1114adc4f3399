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
