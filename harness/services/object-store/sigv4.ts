/**
 * AWS Signature Version 4 verification for the embedded object store: both the query form used by
 * presigned URLs (X-Amz-Signature in the query, UNSIGNED-PAYLOAD, X-Amz-Expires) and the
 * Authorization-header form the S3 client uses for its own calls. Written from the AWS SigV4
 * specification ("Create a canonical request", "Authenticating requests: using query parameters"),
 * the same rules @smithy/signature-v4 follows when it signs, so a URL from
 * @aws-sdk/s3-request-presigner verifies here and a tampered or expired one does not.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** S3 refuses presigned URLs valid for longer than 7 days. */
export const MAX_EXPIRES_S = 604_800;

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SigV4Request {
  method: string;
  /** The raw request target: path and query exactly as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

export type SigV4Failure = {
  ok: false;
  /** S3 error code: AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId, AuthorizationQueryParametersError… */
  code: string;
  message: string;
  status: number;
};
export type SigV4Result =
  | { ok: true; accessKeyId: string; payloadHash: string; form: 'query' | 'header' }
  | SigV4Failure;

/** RFC 3986 unreserved characters stay; everything else is %XX (upper case), as SigV4 requires. */
export function uriEncode(s: string, keepSlash = false): string {
  let out = '';
  for (const ch of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(ch);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += `%${ch.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'));
  } catch {
    return s;
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

function parseQuery(raw: string): Array<[string, string]> {
  if (!raw) return [];
  return raw
    .split('&')
    .filter(Boolean)
    .map((kv) => {
      const i = kv.indexOf('=');
      return i < 0 ? [decode(kv), ''] : [decode(kv.slice(0, i)), decode(kv.slice(i + 1))];
    });
}

function header(h: SigV4Request['headers'], name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
}

/** "20240518T063000Z" → ms, or NaN. */
export function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return Number.NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

export function canonicalRequest(
  method: string,
  rawPath: string,
  query: Array<[string, string]>,
  headers: SigV4Request['headers'],
  signedHeaders: string[],
  payloadHash: string,
): string {
  // S3 does not normalise the path: decode each segment once and re-encode it strictly.
  const path =
    rawPath
      .split('/')
      .map((seg) => uriEncode(decode(seg)))
      .join('/') || '/';
  const q = query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonHeaders = signedHeaders
    .map((name) => `${name}:${(header(headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  return [method.toUpperCase(), path, q, canonHeaders, signedHeaders.join(';'), payloadHash].join('\n');
}

function safeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length || !/^[0-9a-f]+$/.test(a)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

const fail = (status: number, code: string, message: string): SigV4Failure => ({ ok: false, status, code, message });

/**
 * Verifies a request's SigV4 signature. `lookup` returns the secret of an access key (undefined =
 * unknown key). `now` is the store's clock (ms). The caller checks the payload hash against the body
 * when it is not UNSIGNED-PAYLOAD.
 */
export function verifySigV4(
  req: SigV4Request,
  lookup: (accessKeyId: string) => string | undefined,
  opts: { region: string; service?: string; now: number; maxSkewMs?: number },
): SigV4Result {
  const service = opts.service ?? 's3';
  const qi = req.url.indexOf('?');
  const rawPath = qi < 0 ? req.url : req.url.slice(0, qi);
  const query = parseQuery(qi < 0 ? '' : req.url.slice(qi + 1));
  const qget = (k: string) => query.find(([n]) => n === k)?.[1];
  const auth = header(req.headers, 'authorization');
  let form: 'query' | 'header';
  let credential: string;
  let signedHeaders: string[];
  let signature: string;
  let amzDate: string;
  let payloadHash: string;
  let expiresS: number | undefined;
  let signedQuery: Array<[string, string]>;

  if (qget('X-Amz-Algorithm') !== undefined || qget('X-Amz-Signature') !== undefined) {
    form = 'query';
    if (qget('X-Amz-Algorithm') !== ALGORITHM)
      return fail(400, 'AuthorizationQueryParametersError', `X-Amz-Algorithm must be ${ALGORITHM}`);
    const missing = [
      'X-Amz-Credential',
      'X-Amz-Date',
      'X-Amz-Expires',
      'X-Amz-SignedHeaders',
      'X-Amz-Signature',
    ].filter((k) => qget(k) === undefined);
    if (missing.length)
      return fail(
        400,
        'AuthorizationQueryParametersError',
        `Query-string authentication requires ${missing.join(', ')}`,
      );
    credential = qget('X-Amz-Credential')!;
    signedHeaders = qget('X-Amz-SignedHeaders')!.split(';');
    signature = qget('X-Amz-Signature')!;
    amzDate = qget('X-Amz-Date')!;
    expiresS = Number(qget('X-Amz-Expires'));
    if (!Number.isInteger(expiresS) || expiresS < 1 || expiresS > MAX_EXPIRES_S)
      return fail(
        400,
        'AuthorizationQueryParametersError',
        `X-Amz-Expires must be an integer from 1 to ${MAX_EXPIRES_S} seconds`,
      );
    payloadHash = qget('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD;
    signedQuery = query.filter(([k]) => k !== 'X-Amz-Signature');
  } else if (auth?.startsWith(`${ALGORITHM} `)) {
    form = 'header';
    const parts = Object.fromEntries(
      auth
        .slice(ALGORITHM.length + 1)
        .split(',')
        .map((p) => p.trim().split('=') as [string, string]),
    );
    if (!parts.Credential || !parts.SignedHeaders || !parts.Signature)
      return fail(400, 'AuthorizationHeaderMalformed', 'Authorization needs Credential, SignedHeaders and Signature');
    credential = parts.Credential;
    signedHeaders = parts.SignedHeaders.split(';');
    signature = parts.Signature;
    amzDate = header(req.headers, 'x-amz-date') ?? '';
    payloadHash = header(req.headers, 'x-amz-content-sha256') ?? '';
    if (!payloadHash)
      return fail(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    signedQuery = query;
  } else {
    return fail(403, 'AccessDenied', 'Anonymous access is not allowed; sign the request (SigV4)');
  }

  const [accessKeyId, date, region, svc, term] = credential.split('/');
  if (!accessKeyId || !date || !region || svc !== service || term !== 'aws4_request')
    return fail(400, 'AuthorizationQueryParametersError', `malformed credential scope "${credential}"`);
  const secret = lookup(accessKeyId);
  if (secret === undefined)
    return fail(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (region !== opts.region)
    return fail(400, 'AuthorizationQueryParametersError', `region "${region}" is wrong; expecting "${opts.region}"`);
  const signedAt = parseAmzDate(amzDate);
  if (Number.isNaN(signedAt) || amzDate.slice(0, 8) !== date)
    return fail(403, 'AccessDenied', `X-Amz-Date "${amzDate}" is malformed or does not match the credential date`);
  if (!signedHeaders.includes('host')) return fail(403, 'AccessDenied', 'host must be a signed header');
  const skew = opts.maxSkewMs ?? 15 * 60_000;
  if (form === 'query') {
    if (opts.now > signedAt + expiresS! * 1000) return fail(403, 'AccessDenied', 'Request has expired');
    if (signedAt - opts.now > skew)
      return fail(403, 'AccessDenied', 'Request is not yet valid (X-Amz-Date in the future)');
  } else if (Math.abs(opts.now - signedAt) > skew) {
    return fail(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    );
  }

  const creq = canonicalRequest(req.method, rawPath, signedQuery, req.headers, signedHeaders, payloadHash);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = [ALGORITHM, amzDate, scope, sha256Hex(creq)].join('\n');
  const expected = createHmac('sha256', signingKey(secret, date, region, service))
    .update(toSign)
    .digest('hex');
  if (!safeEqualHex(signature.toLowerCase(), expected))
    return fail(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  return { ok: true, accessKeyId, payloadHash, form };
}
