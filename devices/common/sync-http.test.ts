import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, parseRetryAfter, retryWaitMs, SyncHttpError, withBackoff } from './sync-http';

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
