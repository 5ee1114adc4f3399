/**
 * RFC 9530 Content-Digest on the sync routes (RFC 0006 §5.4 checksums on large payloads; server/README.md).
 * Requests: a body that carries the header is checked over the bytes as received, before gzip is
 * inflated, so a corrupted body is refused as a checksum mismatch (400 SYNC_ERR_DIGEST_MISMATCH, nothing
 * applied) and not as whatever the inflater or the JSON parser makes of it. Without the header nothing
 * changes: the contract does not define a checksum, so a client is never required to send one.
 * Responses: a body over the threshold (10 KB before compression: every gzip body) gets the header over
 * the bytes as sent (after compression).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, onSendHookHandler } from 'fastify';
import { DIGEST_THRESHOLD_BYTES, type DigestAlgorithm, digestMismatch } from '../protocol/digest';
import { SyncApiError } from '../protocol/errors';

/**
 * node:crypto's one-shot hash, not WebCrypto's (protocol/digest.ts, which the web app shares): that
 * copies the body and makes a threadpool round trip per call, 9 % of the server's CPU on 100 KB pulls
 * (bench/README.md); hashing the 7 KB a gzipped pull sends takes microseconds in line.
 */
const nodeDigest = (bytes: Uint8Array, alg: DigestAlgorithm): string =>
  createHash(alg === 'sha-256' ? 'sha256' : 'sha512')
    .update(bytes)
    .digest('base64');

async function readAll(stream: AsyncIterable<Buffer | string>, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    n += b.length;
    if (n > limit) throw new SyncApiError('SYNC_ERR_TOO_LARGE');
    parts.push(b);
  }
  return Buffer.concat(parts);
}

const isStream = (p: unknown): p is AsyncIterable<Buffer> =>
  typeof (p as { pipe?: unknown } | null)?.pipe === 'function' && Symbol.asyncIterator in (p as object);

/** Verifying half: before the compress plugin's route-level preParsing (app-level hooks run first). */
export function registerRequestDigest(app: FastifyInstance, bodyLimit: number): void {
  app.addHook('preParsing', async (req, _reply, payload) => {
    const header = req.headers['content-digest'];
    if (header === undefined) return payload;
    if (typeof header !== 'string')
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', ['Content-Digest was given more than once; send it once']);
    const body = await readAll(payload, bodyLimit);
    let reason: string | undefined;
    try {
      reason = await digestMismatch(header, body, nodeDigest);
    } catch (e) {
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [(e as Error).message]);
    }
    if (reason) {
      req.log.warn(
        { code: 'SYNC_ERR_DIGEST_MISMATCH', url: req.url.split('?')[0], reason },
        'body corrupted in transit',
      );
      throw new SyncApiError('SYNC_ERR_DIGEST_MISMATCH', [reason]);
    }
    return Readable.from([body]);
  });
}

/**
 * Signing half: appended to every route's onSend after the compress plugin's own (it appends its
 * hook when a route is added, so this onRoute hook must be added after the plugin is registered).
 */
export function registerResponseDigest(app: FastifyInstance): void {
  const sign: onSendHookHandler = async (_req, reply, payload) => {
    let bytes: Buffer;
    if (typeof payload === 'string') bytes = Buffer.from(payload);
    else if (Buffer.isBuffer(payload)) bytes = payload;
    else if (isStream(payload) && reply.getHeader('content-encoding') !== undefined)
      // The compress plugin's gzip stream: the digest needs the whole body before the headers go.
      bytes = await readAll(payload, Number.MAX_SAFE_INTEGER);
    else return payload;
    // A compressed body was over the threshold before compression, as a device judges its push.
    const large = bytes.length > DIGEST_THRESHOLD_BYTES || reply.getHeader('content-encoding') !== undefined;
    if (large) reply.header('content-digest', `sha-256=:${nodeDigest(bytes, 'sha-256')}:`);
    return bytes;
  };
  app.addHook('onRoute', (route) => {
    if (route.url === '/sync/events') return;
    const own = route.onSend;
    route.onSend = own === undefined ? [sign] : Array.isArray(own) ? [...own, sign] : [own, sign];
  });
}
