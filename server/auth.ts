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

export class Auth {
  private readonly key: Uint8Array;
  /** deviceId -> userId; bindings never change once made, so caching them is safe across processes. */
  private readonly bindings = new Map<string, string>();
  constructor(
    secret: string,
    private readonly pool: pg.Pool,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(claims: TokenClaims, expiresInSeconds = 3600): Promise<string> {
    return new SignJWT({ deviceId: claims.deviceId, platform: claims.platform })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
      .sign(this.key);
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
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(m[1]!, this.key, { algorithms: ['HS256'], issuer: ISSUER }));
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
    return { userId: sub, deviceId, platform };
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
