/**
 * Plain HTTP plumbing both target servers use: bounded body reading, JSON answers, signed tokens, start/stop.
 * No wire shapes live here; each server owns its paths, names and codes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BugName } from './bugs';
import { SyncError } from './errors';

export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new SyncError(413, 'PAYLOAD_TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes; push fewer records`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  try {
    return JSON.parse(text);
  } catch {
    throw new SyncError(400, 'BAD_REQUEST', 'request body is not valid JSON');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export interface TokenClaims {
  sub: string;
  deviceId: string;
  platform?: string;
  iat: number;
  exp: number;
}

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** HS256 JWTs with a secret drawn per server process: tokens of another server instance are forged to this one. */
export class Tokens {
  private readonly secret = randomBytes(32);

  sign(claims: Omit<TokenClaims, 'iat' | 'exp'>, expiresInSeconds: number): string {
    const iat = Math.floor(Date.now() / 1000);
    const head = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify({ ...claims, iat, exp: iat + expiresInSeconds }))}`;
    return `${head}.${this.mac(head)}`;
  }

  /** The claims of a valid `Authorization: Bearer` header; 401 otherwise. */
  verify(header: string | undefined): TokenClaims {
    const fail = (why: string) =>
      new SyncError(401, 'UNAUTHORIZED', `${why}; get a token first and send it as Authorization: Bearer <token>`);
    if (header === undefined) throw fail('missing Authorization header');
    const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(header);
    if (!m) throw fail('malformed Authorization header');
    const expected = Buffer.from(this.mac(`${m[1]}.${m[2]}`));
    const given = Buffer.from(m[3]);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw fail('token signature is invalid');
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(m[2], 'base64url').toString('utf8'));
    } catch {
      throw fail('token payload is not JSON');
    }
    if (typeof claims.sub !== 'string' || typeof claims.deviceId !== 'string' || typeof claims.exp !== 'number') {
      throw fail('token payload lacks sub, deviceId or exp');
    }
    if (claims.exp <= Date.now() / 1000) throw fail('token expired');
    return claims;
  }

  private mac(data: string): string {
    return createHmac('sha256', this.secret).update(data).digest('base64url');
  }
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

/**
 * Listens on 127.0.0.1. A thrown SyncError becomes its status and `errorBody`; anything else a 500 whose message
 * says what broke, never a bare stack.
 */
export function listen(
  port: number,
  handler: Handler,
  errorBody: (e: SyncError) => unknown,
  onError?: () => void,
): Promise<RunningServer> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    handler(req, res, url).catch((err: unknown) => {
      const e =
        err instanceof SyncError
          ? err
          : new SyncError(500, 'INTERNAL_SERVER_ERROR', `internal error: ${(err as Error)?.message ?? String(err)}`);
      if (e.status >= 500) onError?.();
      if (res.headersSent) res.destroy();
      else sendJson(res, e.status, errorBody(e));
      // A body left unread (413) would stall the client; drain it so it reads the answer.
      req.resume();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${bound}`,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}

export interface StartOptions {
  port?: number;
  bug?: BugName;
}
