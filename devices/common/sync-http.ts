/**
 * The HTTP half of every client of the sync contract (phone, web, virtual users). Isomorphic: it
 * uses only fetch, so the same file is bundled into the web app and run in Node. Retry policy lives
 * in `withBackoff`, not here: a single call reports exactly what happened so the history is honest.
 */

import type { RetryRecord } from '../../protocol/device';
import { contentDigest, digestMismatch } from '../../protocol/digest';
import type { CompleteRequest, CompleteResponse, UploadUrlRequest, UploadUrlResponse } from '../../protocol/files';
import {
  type PullResponse,
  type PushRequest,
  type PushResponse,
  SYNC_COMPRESS_THRESHOLD_BYTES,
} from '../../protocol/records';
import type { SchemaVersion, TableName } from '../../protocol/tables';

export type FailureKind =
  /** The request never reached the server (refused, DNS, offline): safe to retry, nothing happened. */
  | 'network'
  /** The connection broke or timed out after the request was sent: the push may or may not have applied. */
  | 'indeterminate'
  /** The server answered with an error status. */
  | 'http';

/** The server's code for a body that did not match its Content-Digest; also used for a response that did not. */
export const DIGEST_MISMATCH = 'SYNC_ERR_DIGEST_MISMATCH';

export class SyncHttpError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status?: number,
    readonly code?: string,
    /** The server's Retry-After (503 maintenance, 429), in ms; the backoff waits at least this long. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
  /**
   * 4xx other than 401/408/409/429 will fail again unchanged; retrying is pointless. A checksum
   * mismatch (RFC 0006 §5.4) is the exception: the body was corrupted on the way, the same bytes
   * sent again arrive intact.
   */
  get retryable(): boolean {
    if (this.kind !== 'http') return true;
    if (this.code === DIGEST_MISMATCH) return true;
    const s = this.status ?? 0;
    return s >= 500 || s === 401 || s === 408 || s === 409 || s === 429;
  }
}

export interface SyncHttpOptions {
  baseUrl: string;
  deviceId: string;
  schemaVersion: SchemaVersion;
  /** The token; `{ refresh: true }` asks for a new one after a 401 (expired mid-sync). */
  getToken(o?: { refresh?: boolean }): Promise<string>;
  /** Called each time a 401 made the client fetch a new token and re-send the request. */
  onTokenRefresh?(path: string): void;
  /** Per-request timeout in wall ms (a black-holed connection must not hang a device forever). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface Transfer<T> {
  body: T;
  bytesUp: number;
  bytesDown: number;
  traceId?: string;
}

const encoder = new TextEncoder();

/**
 * RFC 0006 §5.2: a body over 10 KB goes gzip-compressed (Content-Encoding: gzip); smaller ones are
 * not worth the CPU. CompressionStream exists in Node 18+ and every browser, so this stays isomorphic.
 * A compressed body also carries an RFC 9530 Content-Digest of the bytes as sent (§5.4 checksums on
 * large payloads): a header, so a server that does not know it ignores it and the body stays the contract's.
 */
async function encodeBody(json: string): Promise<{ bytes: Uint8Array<ArrayBuffer>; gzip: boolean; digest?: string }> {
  const raw = encoder.encode(json);
  if (raw.byteLength <= SYNC_COMPRESS_THRESHOLD_BYTES) return { bytes: raw, gzip: false };
  const gz = new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream('gzip')));
  const bytes = new Uint8Array(await gz.arrayBuffer());
  return { bytes, gzip: true, digest: await contentDigest(bytes) };
}

export class SyncHttpClient {
  private readonly f: typeof fetch;
  constructor(private readonly opts: SyncHttpOptions) {
    // A bare `fetch` reference throws "Illegal invocation" in browsers when called as a method.
    this.f = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  async pull(lastPulledAt: number | null, tables?: TableName[]): Promise<Transfer<PullResponse>> {
    const q = new URLSearchParams({
      lastPulledAt: String(lastPulledAt ?? 0),
      schemaVersion: String(this.opts.schemaVersion),
      deviceId: this.opts.deviceId,
    });
    if (tables?.length) q.set('tables', tables.join(','));
    return this.request<PullResponse>('GET', `/sync/pull?${q}`, undefined, false);
  }

  async push(req: PushRequest): Promise<Transfer<PushResponse>> {
    // Exactly the contract's body ({ changes, lastPulledAt, deviceId, pushId? }): the schema version
    // travels in the x-schema-version header, which every request carries. A strict server rejects extras.
    const body: PushRequest = {
      changes: req.changes,
      lastPulledAt: req.lastPulledAt,
      deviceId: req.deviceId,
      ...(req.pushId !== undefined ? { pushId: req.pushId } : {}),
    };
    return this.request<PushResponse>('POST', '/sync/push', body, true);
  }

  /** POST /files/upload-url (sync-contract.md): a presigned PUT for one file. */
  async uploadUrl(req: UploadUrlRequest): Promise<Transfer<UploadUrlResponse>> {
    return this.request<UploadUrlResponse>('POST', '/files/upload-url', req, false);
  }

  /** POST /files/complete: the server verifies the uploaded object and attaches it to the record. */
  async completeUpload(req: CompleteRequest): Promise<Transfer<CompleteResponse>> {
    return this.request<CompleteResponse>('POST', '/files/complete', req, true);
  }

  /**
   * RFC §5.1 token refresh: a request refused with 401 (the token expired during a long sync) is sent
   * once more with a fresh token. A 401 is never applied, so re-sending a push is safe, and the sync
   * goes on from this request instead of starting over.
   */
  private async request<T>(method: string, path: string, body: unknown, mutating: boolean): Promise<Transfer<T>> {
    try {
      return await this.requestOnce<T>(method, path, body, mutating, false);
    } catch (e) {
      if (!(e instanceof SyncHttpError && e.status === 401)) throw e;
      this.opts.onTokenRefresh?.(path.split('?')[0]!);
      return this.requestOnce<T>(method, path, body, mutating, true);
    }
  }

  private async requestOnce<T>(
    method: string,
    path: string,
    body: unknown,
    mutating: boolean,
    refresh: boolean,
  ): Promise<Transfer<T>> {
    const token = await this.opts.getToken(refresh ? { refresh: true } : undefined);
    const payload = body === undefined ? undefined : await encodeBody(JSON.stringify(body));
    // What went on the wire: the compressed size when compressed.
    const bytesUp = payload?.bytes.byteLength ?? 0;
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(new Error('timeout')), this.opts.timeoutMs ?? 30_000);
    let res: Response;
    try {
      res = await this.f(this.opts.baseUrl.replace(/\/$/, '') + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          'x-schema-version': String(this.opts.schemaVersion),
          'accept-encoding': 'gzip',
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(payload?.gzip ? { 'content-encoding': 'gzip' } : {}),
          ...(payload?.digest ? { 'content-digest': payload.digest } : {}),
        },
        body: payload?.bytes,
        signal: ctrl.signal,
      });
      const raw = new Uint8Array(await untilAborted(res.arrayBuffer(), ctrl.signal));
      const text = new TextDecoder().decode(raw);
      const bytesDown = raw.byteLength;
      const traceId = res.headers.get('x-trace-id') ?? undefined;
      await checkResponseDigest(res.headers, raw, `${method} ${path.split('?')[0]}`, mutating);
      if (!res.ok) {
        let code: string | undefined;
        let message = text.slice(0, 500);
        try {
          const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
          code = parsed.error?.code;
          message = parsed.error?.message ?? message;
        } catch {
          /* not JSON: keep the raw text */
        }
        throw new SyncHttpError(
          'http',
          `${method} ${path.split('?')[0]} → ${res.status}: ${message}`,
          res.status,
          code,
          parseRetryAfter(res.headers.get('retry-after')),
        );
      }
      let parsed: T;
      try {
        parsed = JSON.parse(text) as T;
      } catch {
        throw new SyncHttpError(
          mutating ? 'indeterminate' : 'network',
          `${method} ${path.split('?')[0]}: response is not JSON`,
        );
      }
      return { body: parsed, bytesUp, bytesDown, traceId };
    } catch (e) {
      if (e instanceof SyncHttpError) throw e;
      const msg =
        e instanceof Error ? (e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message) : String(e);
      // A refused connection never delivered the request; anything else (reset, timeout mid-flight,
      // body cut) may have been applied by the server: for a push that outcome is unknown.
      const refused = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED/.test(msg);
      const kind: FailureKind = refused || !mutating ? 'network' : 'indeterminate';
      throw new SyncHttpError(kind, `${method} ${path.split('?')[0]} failed: ${msg}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Node 20's fetch (undici 6) never settles the body of a multi-chunk gzip response that fails to
 * inflate (a byte flipped in transit), and aborting does not settle it either: the device would hang
 * for good. The body read therefore also ends when the request's timeout aborts it.
 */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('timeout'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * A response's Content-Digest is over the bytes as sent. fetch hands over a gzip body already inflated
 * (and its inflater checks gzip's own CRC-32, so a corrupted gzip body fails the read), so the digest
 * is checked where fetch shows the bytes as sent: an identity body.
 */
async function checkResponseDigest(headers: Headers, raw: Uint8Array, what: string, mutating: boolean): Promise<void> {
  const digest = headers.get('content-digest');
  const coding = (headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (digest === null || coding !== 'identity') return;
  let reason: string | undefined;
  try {
    reason = await digestMismatch(digest, raw);
  } catch (e) {
    reason = (e as Error).message;
  }
  if (reason)
    throw new SyncHttpError(
      mutating ? 'indeterminate' : 'network',
      `${what}: response does not match its Content-Digest: ${reason}`,
      undefined,
      DIGEST_MISMATCH,
    );
}

/** A server asking for more than this is capped: a device must come back within minutes. */
export const MAX_RETRY_AFTER_MS = 300_000;

/** RFC 9110 Retry-After: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(v: string | null, now = Date.now()): number | undefined {
  if (v === null) return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Math.min(MAX_RETRY_AFTER_MS, Number(t) * 1000);
  const at = Date.parse(t);
  return Number.isNaN(at) ? undefined : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now));
}

/** The RFC backoff of `attempt`, or the server's Retry-After when that is longer. */
export function retryWaitMs(attempt: number, err: unknown): number {
  const backoff = Math.min(30_000, 1000 * 2 ** (attempt - 1));
  const asked = err instanceof SyncHttpError ? err.retryAfterMs : undefined;
  return asked === undefined ? backoff : Math.max(backoff, asked);
}

/** Appends the retry to `out.retries` (an outcome being built). */
export function noteRetry(out: { retries?: RetryRecord[] }, attempt: number, err: unknown, waitMs: number): void {
  out.retries = [...(out.retries ?? []), retryRecord(attempt, err, waitMs)];
}

export function retryRecord(attempt: number, err: unknown, waitMs: number): RetryRecord {
  const e = err instanceof SyncHttpError ? err : undefined;
  return {
    attempt,
    ...(e?.status !== undefined ? { status: e.status } : {}),
    ...(e?.code !== undefined ? { code: e.code } : {}),
    waitMs,
    ...(e?.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
  };
}

/**
 * RFC 0006 §5.4 retry: 1 s, 2 s, 4 s, 8 s … max 30 s, on the run's clock (so a time scale shortens
 * it), for at most `maxAttempts`; a Retry-After from the server (maintenance) lengthens a wait,
 * never shortens it. Non-retryable errors are thrown at once.
 */
export async function withBackoff<T>(
  fn: (attempt: number) => Promise<T>,
  opts: {
    sleep(ms: number): Promise<void>;
    maxAttempts?: number;
    onRetry?(attempt: number, err: unknown, waitMs: number): void;
  },
): Promise<{ value: T; attempts: number }> {
  const max = opts.maxAttempts ?? 6;
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await fn(attempt), attempts: attempt };
    } catch (err) {
      const retryable = err instanceof SyncHttpError ? err.retryable : true;
      if (!retryable || attempt >= max) throw Object.assign(err as object, { attempts: attempt });
      const wait = retryWaitMs(attempt, err);
      opts.onRetry?.(attempt, err, wait);
      await opts.sleep(wait);
    }
  }
}

/** Subscribes to the server's SSE pokes; reconnects with backoff; works in browsers and Node 20. */
export function subscribePokes(
  opts: SyncHttpOptions & {
    onPoke(p: { tables: TableName[]; timestamp: number; sourceDeviceId: string }): void;
    onState?(up: boolean): void;
    sleep(ms: number): Promise<void>;
  },
): { close(): void } {
  const ctrl = new AbortController();
  const f = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  (async () => {
    let attempt = 0;
    // A 401 (the token expired) asks for a fresh one on the next connect, as a sync request does.
    let refused = false;
    while (!ctrl.signal.aborted) {
      try {
        const token = await opts.getToken(refused ? { refresh: true } : undefined);
        refused = false;
        const res = await f(
          `${opts.baseUrl.replace(/\/$/, '')}/sync/events?deviceId=${encodeURIComponent(opts.deviceId)}`,
          {
            headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
            signal: ctrl.signal,
          },
        );
        refused = res.status === 401;
        if (!res.ok || !res.body) throw new Error(`events stream answered ${res.status}`);
        attempt = 0;
        opts.onState?.(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let idx = buf.indexOf('\n\n');
          while (idx >= 0) {
            const frame = buf.slice(0, idx);
            buf = buf.slice(idx + 2);
            const data = frame
              .split('\n')
              .filter((l) => l.startsWith('data:'))
              .map((l) => l.slice(5).trim())
              .join('\n');
            if (data) {
              try {
                opts.onPoke(JSON.parse(data));
              } catch {
                /* a malformed poke is ignored: the device still syncs on its other triggers */
              }
            }
            idx = buf.indexOf('\n\n');
          }
        }
      } catch {
        /* fall through to reconnect */
      }
      opts.onState?.(false);
      if (ctrl.signal.aborted) break;
      attempt++;
      await opts.sleep(Math.min(30_000, 1000 * 2 ** (attempt - 1))).catch(() => {});
    }
  })();
  return { close: () => ctrl.abort() };
}
