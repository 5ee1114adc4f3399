/**
 * JWT (HS256, jose) on every sync request, and the device-to-user binding of RFC 5.1: a device id
 * belongs to the user it was first issued (test mode) or presented (tokens from elsewhere) for;
 * anyone else gets 403.
 */
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type pg from 'pg';
import { SyncApiError } from '../protocol/errors';
import { PLATFORMS, type Platform } from '../protocol/records';
import { MAX_ID_LENGTH, quoted, textProblem } from '../protocol/validate';

export interface TokenClaims {
  userId: string;
  deviceId: string;
  platform: Platform;
}

export const DEFAULT_TEST_SECRET = 'sync-harness-test-secret-not-for-production';
const ISSUER = 'sync-harness';

/** Verified tokens kept (a device sends the same token on every sync until it expires). */
const VERIFIED_CACHE_MAX = 50_000;

export class Auth {
  /**
   * The HMAC key, imported once: jose given raw bytes imports a WebCrypto key on every call, which
   * was most of the server's CPU per sync (bench/README.md).
   */
  private readonly key: Promise<CryptoKey>;
  /** deviceId -> userId; bindings never change once made, so caching them is safe across processes. */
  private readonly bindings = new Map<string, string>();
  /** token -> its claims and expiry (s); a token is the exact bytes that verified, so reuse is safe. */
  private readonly verified = new Map<string, { claims: TokenClaims; exp: number }>();
  constructor(
    secret: string,
    private readonly pool: pg.Pool,
  ) {
    this.key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
  }

  async issue(claims: TokenClaims, expiresInSeconds = 3600): Promise<string> {
    return new SignJWT({ deviceId: claims.deviceId, platform: claims.platform })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
      .sign(await this.key);
  }

  /** Verifies the bearer token of a request; 401 with a specific reason otherwise. */
  async verify(authorization: string | undefined): Promise<TokenClaims> {
    if (!authorization) {
      throw new SyncApiError('SYNC_ERR_UNAUTHORIZED', [
        'Missing Authorization header; send "Authorization: Bearer <token>".',
      ]);
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw new SyncApiError('SYNC_ERR_UNAUTHORIZED', ['Authorization header must be "Bearer <token>".']);
    const token = m[1]!;
    const hit = this.verified.get(token);
    // Same test as jose's: expired once exp <= now (whole seconds). An expired one takes the full
    // path below, which answers with the expiry message.
    if (hit && hit.exp > Math.floor(Date.now() / 1000)) return hit.claims;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, await this.key, { algorithms: ['HS256'], issuer: ISSUER }));
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) {
        throw new SyncApiError('SYNC_ERR_UNAUTHORIZED', ['Token expired; obtain a new token and retry.']);
      }
      if (e instanceof joseErrors.JWSSignatureVerificationFailed) {
        throw new SyncApiError('SYNC_ERR_UNAUTHORIZED', [
          'Token signature is invalid; obtain a token from this server.',
        ]);
      }
      throw new SyncApiError('SYNC_ERR_UNAUTHORIZED', [
        `Token is malformed or not acceptable (${e instanceof Error ? e.message : String(e)}); obtain a new token.`,
      ]);
    }
    const { sub, deviceId, platform } = payload;
    if (typeof sub !== 'string' || !sub || typeof deviceId !== 'string' || !deviceId || !isPlatform(platform)) {
      throw new SyncApiError('SYNC_ERR_UNAUTHORIZED', [
        'Token lacks sub, deviceId or platform claims; obtain a new token.',
      ]);
    }
    const claims: TokenClaims = { userId: sub, deviceId, platform };
    // Only tokens that expire and carry no not-before are reused: nothing else about them can change.
    if (typeof payload.exp === 'number' && payload.nbf === undefined) {
      if (this.verified.size >= VERIFIED_CACHE_MAX) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, { claims, exp: payload.exp });
    }
    return claims;
  }

  /** Binds the device to the user on first sight; 403 when it already belongs to someone else. */
  async bindDevice(claims: TokenClaims): Promise<void> {
    let owner = this.bindings.get(claims.deviceId);
    if (owner === undefined) {
      for (let attempt = 0; attempt < 3 && owner === undefined; attempt++) {
        const r = await this.pool.query({
          name: 'bind_device',
          text: `WITH ins AS (
                   INSERT INTO devices (device_id, user_id, platform) VALUES ($1, $2, $3)
                   ON CONFLICT (device_id) DO NOTHING RETURNING user_id
                 )
                 SELECT user_id FROM ins UNION ALL SELECT user_id FROM devices WHERE device_id = $1`,
          values: [claims.deviceId, claims.userId, claims.platform],
        });
        owner = r.rows[0]?.user_id;
      }
      if (owner === undefined) throw new SyncApiError('SYNC_ERR_UNAVAILABLE', ['Could not bind the device; retry.']);
      this.bindings.set(claims.deviceId, owner);
    }
    if (owner !== claims.userId) {
      throw new SyncApiError('SYNC_ERR_FORBIDDEN', [
        `Device "${claims.deviceId}" is bound to another user; a device id can belong to one user only.`,
      ]);
    }
  }
}

export function isPlatform(p: unknown): p is Platform {
  return typeof p === 'string' && (PLATFORMS as readonly string[]).includes(p);
}

const TOKEN_REQUEST_FIELDS: ReadonlySet<string> = new Set(['userId', 'deviceId', 'platform', 'expiresInSeconds']);

/** Validates the body of POST /auth/test-token (exactly the contract's fields). */
export function parseTokenRequest(raw: unknown): TokenClaims & { expiresInSeconds: number } {
  const body = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : null) as Record<
    string,
    unknown
  > | null;
  if (!body)
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      'body must be a JSON object { userId, deviceId, platform, expiresInSeconds? }',
    ]);
  for (const k of Object.keys(body)) {
    if (!TOKEN_REQUEST_FIELDS.has(k))
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
        `unexpected field ${quoted(k)}; expected ${[...TOKEN_REQUEST_FIELDS].join(', ')}`,
      ]);
  }
  const str = (k: string) => {
    const v = body[k];
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_LENGTH) {
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
        `${k} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`,
      ]);
    }
    const bad = textProblem(v);
    if (bad) throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`${k} ${quoted(v)} ${bad}`]);
    return v;
  };
  const userId = str('userId');
  const deviceId = str('deviceId');
  if (!isPlatform(body.platform)) {
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`platform must be one of ${PLATFORMS.join(', ')}`]);
  }
  const exp = body.expiresInSeconds ?? 3600;
  if (typeof exp !== 'number' || !Number.isInteger(exp) || exp < -86_400 * 365 || exp > 86_400 * 365) {
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      'expiresInSeconds must be an integer number of seconds (at most one year)',
    ]);
  }
  return { userId, deviceId, platform: body.platform, expiresInSeconds: exp };
}
