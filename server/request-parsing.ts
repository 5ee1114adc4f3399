/**
 * The strict edge of the HTTP surface: the query string and the JSON body are parsed here, with no
 * type coercion and no silent repair. Fastify's own parsers decode lossily (an invalid `%` escape
 * stays as text, invalid UTF-8 in a body becomes U+FFFD), which would store something the client
 * never sent; here either is a 400 that says what was wrong.
 */
import type { FastifyInstance } from 'fastify';
import { SyncApiError } from '../protocol/errors';
import { quoted, textProblem } from '../protocol/validate';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The query string of `url` as name -> value, each name at most once and among `allowed`.
 * `+` is a space and `%XX` escapes must form valid UTF-8 (application/x-www-form-urlencoded).
 */
export function strictQuery(url: string, allowed: readonly string[]): Record<string, string> {
  const at = url.indexOf('?');
  const out: Record<string, string> = Object.create(null);
  if (at < 0) return out;
  for (const part of url.slice(at + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq), 'a query parameter name');
    const value = eq < 0 ? '' : decode(part.slice(eq + 1), `query parameter ${quoted(name)}`);
    if (!allowed.includes(name))
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
        `unknown query parameter ${quoted(name)}; this endpoint takes ${allowed.join(', ')}`,
      ]);
    if (name in out)
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`query parameter ${name} was given more than once`]);
    out[name] = value;
  }
  return out;
}

function decode(s: string, what: string): string {
  let v: string;
  try {
    v = decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      `${what} is not valid percent-encoded UTF-8 (${quoted(s)}); encode it with encodeURIComponent`,
    ]);
  }
  const bad = textProblem(v);
  if (bad) throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`${what} ${bad}`]);
  return v;
}

/**
 * Replaces Fastify's JSON parser with one that reads bytes and decodes them as strict UTF-8 before
 * parsing (prototype poisoning stays an error, as in Fastify's default).
 */
export function registerStrictJson(app: FastifyInstance, bodyLimit: number): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (req, body, done) => {
    const buf = body as Buffer;
    if (buf.length === 0) {
      done(new SyncApiError('SYNC_ERR_BAD_JSON', ['the body is empty but Content-Type is application/json']));
      return;
    }
    let text: string;
    try {
      text = utf8.decode(buf);
    } catch {
      done(
        new SyncApiError('SYNC_ERR_BAD_ENCODING', [
          `the body is not valid UTF-8 (byte ${firstInvalidUtf8(buf)} starts an invalid sequence); send JSON encoded as UTF-8`,
        ]),
      );
      return;
    }
    parseJson(req, text, done);
  });
}

/** Byte offset of the first invalid UTF-8 sequence (for the message only; the check is TextDecoder's). */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    const n = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (n === 0 || i + n > buf.length) return i;
    try {
      utf8.decode(buf.subarray(i, i + n));
    } catch {
      return i;
    }
    i += n;
  }
  return -1;
}

/**
 * Content-Encoding names are case-insensitive (RFC 9110 §8.4) and `identity` means none; the
 * decompression plugin compares them exactly, so the header is normalised before it looks.
 */
export function normaliseContentEncoding(headers: Record<string, string | string[] | undefined>): void {
  const raw = headers['content-encoding'];
  if (typeof raw !== 'string') return;
  const v = raw.trim().toLowerCase();
  if (v === 'identity' || v === '') delete headers['content-encoding'];
  else headers['content-encoding'] = v;
}
