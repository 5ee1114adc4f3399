/**
 * The virtual users' leanest transport: a minimal HTTP/1.1 client on raw `net.Socket`s, for the
 * load generator, where node:http's machinery (ClientRequest, IncomingMessage, llhttp callbacks, the
 * Agent's bookkeeping) is a large share of the generator's CPU — CPU the server on the same machine
 * then lacks. It speaks what transport.ts's node:http client puts on the wire, minus node's
 * `Connection: keep-alive` (HTTP/1.1 connections persist by default): the request line, `Host`, exactly
 * the caller's headers, and `Content-Length` when there is a body (or the method usually has one).
 *
 * One pool of kept-alive sockets per source address and server (a VU does one request at a time, so
 * its pool holds one socket), reused for sequential requests; a new socket when none is idle. It
 * parses responses itself: the status line, headers (names lower-cased, repeated ones joined with
 * ', '), Content-Length, chunked and read-until-close bodies, `Connection: close`, and bodiless
 * answers (1xx skipped, 204, 304, HEAD). A server's `Keep-Alive: timeout=N` hint retires an idle
 * socket a second before the server would close it, as node's Agent does; a socket the server closes
 * before a byte of the head arrived fails the request ("socket hang up"): a POST is never replayed.
 * Failures are what fetch gives: a TypeError "fetch failed" whose cause says what happened; an
 * aborted request rejects with the signal's reason.
 */
import { connect, type Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { BufferedResponse, ResponseHeaders } from './buffered-response';
import { splitTarget } from './origin';

interface Origin {
  host: string;
  port: number;
  /** The Host header node:http would send: host, and the port unless it is 80. */
  hostHeader: string;
}

const origins = new Map<string, Origin>();
function target(href: string): { origin: Origin; originKey: string; path: string } {
  const {
    origin,
    originKey,
    path: rawPath,
  } = splitTarget(origins, href, (u) => {
    if (u.protocol !== 'http:') throw new TypeError(`socket transport: plain http only, not ${u.protocol}`);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), hostHeader: u.host };
  });
  const hash = rawPath.indexOf('#');
  return { origin, originKey, path: hash < 0 ? rawPath : rawPath.slice(0, hash) };
}

// What node:http refuses to send (lib/_http_common.js, lib/_http_client.js), refused here alike.
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const INVALID_PATH = /[^\u0021-\u00ff]/;
/** Methods node:http sends no Content-Length for when there is no body. */
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);
/** node's default --max-http-header-size. */
const MAX_HEAD_BYTES = 16 * 1024;

function parseError(code: string, message: string): Error {
  return Object.assign(new Error(`Parse Error: ${message}`), { code });
}
function connReset(message: 'socket hang up' | 'aborted'): Error {
  return Object.assign(new Error(message), { code: 'ECONNRESET' });
}
const fetchFailed = (cause: unknown) => new TypeError('fetch failed', { cause });

function headerPairs(h: HeadersInit | undefined): Array<[string, string]> {
  if (!h) return [];
  if (Array.isArray(h)) return h.map(([k, v]) => [String(k), String(v)]);
  if (typeof (h as Headers).forEach === 'function' && typeof (h as Headers).get === 'function') {
    const out: Array<[string, string]> = [];
    (h as Headers).forEach((v, k) => {
      out.push([k, v]);
    });
    return out;
  }
  return Object.entries(h as Record<string, string>).map(([k, v]) => [k, String(v)]);
}

function bodyBytes(body: BodyInit | null | undefined): Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('socket transport: only byte or string request bodies');
}

/** The request as one Buffer: request line, Host, the caller's headers, Content-Length, body. */
function encodeRequest(method: string, path: string, origin: Origin, init: RequestInit | undefined): Buffer {
  if (!TOKEN.test(method)) throw new TypeError(`Method must be a valid HTTP token ["${method}"]`);
  if (INVALID_PATH.test(path)) throw new TypeError('Request path contains unescaped characters');
  const body = bodyBytes(init?.body);
  let hasHost = false;
  let hasLength = false;
  let head = `${method} ${path} HTTP/1.1\r\n`;
  let fields = '';
  for (const [k, v] of headerPairs(init?.headers)) {
    if (!TOKEN.test(k)) throw new TypeError(`Header name must be a valid HTTP token ["${k}"]`);
    if (INVALID_VALUE.test(v)) throw new TypeError(`Invalid character in header content ["${k}"]`);
    if (k.length === 4 && k.toLowerCase() === 'host') hasHost = true;
    else if (k.length === 14 && k.toLowerCase() === 'content-length') hasLength = true;
    fields += `${k}: ${v}\r\n`;
  }
  if (!hasHost) head += `Host: ${origin.hostHeader}\r\n`;
  head += fields;
  if (!hasLength && (body || !BODYLESS_METHODS.has(method))) head += `Content-Length: ${body?.byteLength ?? 0}\r\n`;
  head += '\r\n';
  const out = Buffer.allocUnsafe(head.length + (body?.byteLength ?? 0));
  out.write(head, 0, 'latin1');
  if (body) out.set(body, head.length);
  return out;
}

interface Pending {
  method: string;
  resolve(r: Response): void;
  reject(e: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

enum S {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
}

/**
 * Pools shared by every fetch of one source address, keyed by source address and origin. A fetch with
 * connections of its own holds its pools itself: nothing global keeps them (a first-sync device's
 * pools go with it), and its open sockets are in `open` for the counts and the close at a run's end.
 */
const shared = new Map<string, Conn[]>();
const open = new Set<Conn>();

/** One socket to the server and the parse state of the response on it. */
class Conn {
  readonly socket: Socket;
  private pending: Pending | null = null;
  private rest: Buffer | null = null;
  private state = S.Head;
  private status = 0;
  private headers: Record<string, string> = {};
  private chunks: Buffer[] = [];
  private remaining = 0;
  private keepAlive = true;
  /** How long it may idle before the server would close it (its Keep-Alive hint less a second). */
  private reuseMs = Number.POSITIVE_INFINITY;
  private idleSince = 0;

  constructor(
    readonly pool: Conn[],
    origin: Origin,
    localAddress: string | undefined,
  ) {
    this.socket = connect({
      host: origin.host,
      port: origin.port,
      noDelay: true,
      ...(localAddress ? { localAddress } : {}),
    });
    this.socket.on('data', this.onData);
    this.socket.on('error', this.onError);
    this.socket.on('close', this.onClose);
    open.add(this);
  }

  /** Whether this idle socket can carry another request. */
  reusable(now: number): boolean {
    return !this.socket.destroyed && this.socket.writable && now - this.idleSince < this.reuseMs;
  }

  send(req: Buffer, p: Pending): void {
    this.pending = p;
    this.state = S.Head;
    this.keepAlive = true;
    this.socket.ref();
    if (p.signal) {
      p.onAbort = () => {
        if (this.pending !== p) return;
        this.pending = null;
        this.socket.destroy();
        p.reject(p.signal!.reason);
      };
      p.signal.addEventListener('abort', p.onAbort, { once: true });
    }
    this.socket.write(req);
  }

  private settle(): Pending {
    const p = this.pending!;
    this.pending = null;
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    return p;
  }

  private fail(e: unknown): void {
    const p = this.settle();
    this.rest = null;
    this.chunks = [];
    this.socket.destroy();
    p.reject(e);
  }

  private readonly onError = (e: Error) => {
    if (this.pending) this.fail(fetchFailed(e));
  };

  private readonly onClose = () => {
    open.delete(this);
    const i = this.pool.indexOf(this);
    if (i >= 0) this.pool.splice(i, 1);
    if (!this.pending) return;
    if (this.state === S.UntilClose) {
      this.keepAlive = false;
      this.complete(false);
    } else this.fail(fetchFailed(connReset(this.state === S.Head ? 'socket hang up' : 'aborted')));
  };

  private readonly onData = (chunk: Buffer) => {
    if (!this.pending) {
      // Bytes nobody asked for (on an idle socket, or after an answer): it cannot be trusted again.
      this.socket.destroy();
      return;
    }
    const b = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    let i = 0;
    for (;;) {
      switch (this.state) {
        case S.Head: {
          const end = b.indexOf('\r\n\r\n', i, 'latin1');
          if (end < 0) {
            if (b.length - i > MAX_HEAD_BYTES)
              return this.fail(fetchFailed(parseError('HPE_HEADER_OVERFLOW', 'Header overflow')));
            this.rest = i === 0 ? b : b.subarray(i);
            return;
          }
          if (end - i > MAX_HEAD_BYTES)
            return this.fail(fetchFailed(parseError('HPE_HEADER_OVERFLOW', 'Header overflow')));
          const err = this.parseHead(b.toString('latin1', i, end));
          if (err) return this.fail(fetchFailed(err));
          i = end + 4;
          break;
        }
        case S.Length:
        case S.ChunkData: {
          const n = Math.min(this.remaining, b.length - i);
          if (n > 0) this.chunks.push(n === b.length ? b : b.subarray(i, i + n));
          this.remaining -= n;
          i += n;
          if (this.remaining > 0) return;
          if (this.state === S.Length) return this.complete(i < b.length);
          this.state = S.ChunkEnd;
          break;
        }
        case S.ChunkSize: {
          const eol = b.indexOf('\r\n', i, 'latin1');
          if (eol < 0) {
            if (b.length - i > 1024)
              return this.fail(fetchFailed(parseError('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size')));
            this.rest = i < b.length ? b.subarray(i) : null;
            return;
          }
          const line = b.toString('latin1', i, eol);
          const semi = line.indexOf(';');
          const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
          if (!/^[0-9a-fA-F]{1,12}$/.test(hex))
            return this.fail(fetchFailed(parseError('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size')));
          this.remaining = Number.parseInt(hex, 16);
          this.state = this.remaining === 0 ? S.Trailers : S.ChunkData;
          i = eol + 2;
          break;
        }
        case S.ChunkEnd: {
          if (b.length - i < 2) {
            this.rest = i < b.length ? b.subarray(i) : null;
            return;
          }
          if (b[i] !== 13 || b[i + 1] !== 10)
            return this.fail(fetchFailed(parseError('HPE_STRICT', 'Expected CRLF after chunk')));
          i += 2;
          this.state = S.ChunkSize;
          break;
        }
        case S.Trailers: {
          const eol = b.indexOf('\r\n', i, 'latin1');
          if (eol < 0) {
            if (b.length - i > MAX_HEAD_BYTES)
              return this.fail(fetchFailed(parseError('HPE_HEADER_OVERFLOW', 'Header overflow')));
            this.rest = i < b.length ? b.subarray(i) : null;
            return;
          }
          // Trailer fields are read past; the empty line ends the message.
          const empty = eol === i;
          i = eol + 2;
          if (empty) return this.complete(i < b.length);
          break;
        }
        case S.UntilClose:
          if (i < b.length) this.chunks.push(i === 0 ? b : b.subarray(i));
          return;
      }
      if (this.state === S.Head && i >= b.length) return;
    }
  };

  /** The status line and headers; sets the body's framing (or completes a bodiless answer). */
  private parseHead(text: string): Error | undefined {
    const lines = text.split('\r\n');
    const sl = lines[0]!;
    const code = sl.length >= 12 && sl.startsWith('HTTP/1.') ? Number(sl.slice(9, 12)) : Number.NaN;
    if (!(code >= 100 && code <= 999) || sl[8] !== ' ' || (sl.length > 12 && sl[12] !== ' '))
      return parseError('HPE_INVALID_CONSTANT', 'Expected HTTP/');
    const headers: Record<string, string> = Object.create(null);
    for (let k = 1; k < lines.length; k++) {
      const line = lines[k]!;
      const colon = line.indexOf(':');
      if (colon <= 0) return parseError('HPE_INVALID_HEADER_TOKEN', 'Invalid header token');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      const had = headers[name];
      if (had === undefined) headers[name] = value;
      else if (name === 'content-length') {
        if (had !== value) return parseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Duplicate Content-Length');
      } else headers[name] = `${had}, ${value}`;
    }
    // 1xx (100 Continue, 103 Early Hints) precede the answer: skip them. 101 would switch protocols.
    if (code < 200 && code !== 101) return undefined;
    if (code === 101) return parseError('HPE_UNEXPECTED_UPGRADE', 'Unexpected protocol switch');
    this.status = code;
    this.headers = headers;
    const http10 = sl[7] === '0';
    const connection = headers.connection?.toLowerCase();
    this.keepAlive = http10
      ? /(?:^|,)\s*keep-alive\s*(?:,|$)/.test(connection ?? '')
      : !/(?:^|,)\s*close\s*(?:,|$)/.test(connection ?? '');
    const hint = headers['keep-alive'] && /timeout=(\d+)/.exec(headers['keep-alive']);
    if (hint) {
      this.reuseMs = Number(hint[1]) * 1000 - 1000;
      if (this.reuseMs <= 0) this.keepAlive = false;
    }
    const te = headers['transfer-encoding'];
    const cl = headers['content-length'];
    if (this.pending!.method === 'HEAD' || code === 204 || code === 304) {
      this.state = S.Length;
      this.remaining = 0;
    } else if (te !== undefined) {
      if (/(?:^|,)\s*chunked\s*$/i.test(te)) this.state = S.ChunkSize;
      else {
        this.state = S.UntilClose;
        this.keepAlive = false;
      }
    } else if (cl !== undefined) {
      if (!/^\d{1,15}$/.test(cl))
        return parseError('HPE_INVALID_CONTENT_LENGTH', 'Invalid character in Content-Length');
      this.state = S.Length;
      this.remaining = Number(cl);
    } else {
      this.state = S.UntilClose;
      this.keepAlive = false;
    }
    return undefined;
  }

  /** The answer is whole: back to the pool (or closed), then handed over. */
  private complete(extraBytes: boolean): void {
    const p = this.settle();
    const chunks = this.chunks;
    this.chunks = [];
    this.rest = null;
    const status = this.status;
    const headers = this.headers;
    this.state = S.Head;
    if (this.keepAlive && !extraBytes && !this.socket.destroyed) {
      this.idleSince = Date.now();
      this.socket.unref();
      this.pool.push(this);
    } else this.socket.destroy();
    try {
      let buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      // As transport.ts: inflated, and the content-encoding header kept (SyncHttpClient's digest check).
      if (headers['content-encoding'] === 'gzip') buf = gunzipSync(buf);
      p.resolve(new BufferedResponse(status, new ResponseHeaders(headers), buf) as unknown as Response);
    } catch (e) {
      p.reject(fetchFailed(e));
    }
  }
}

/**
 * A fetch (the subset SyncHttpClient uses: method, headers, byte body, abort signal; status,
 * headers, whole body) over raw sockets from `localAddress` (undefined: the system's choice).
 * `ownConnections`: this fetch keeps connections of its own, as each of k6's VUs does (a phone holds
 * its own connection, never another phone's); else it shares them with every fetch of the address.
 */
export function socketFetchFrom(localAddress?: string, opts: { ownConnections?: boolean } = {}): typeof fetch {
  const prefix = `${localAddress ?? ''}|`;
  const pools = opts.ownConnections ? new Map<string, Conn[]>() : shared;
  return ((input: string | URL | Request, init?: RequestInit) =>
    new Promise<Response>((resolve, reject) => {
      const signal = init?.signal ?? undefined;
      if (signal?.aborted) return reject(signal.reason);
      const { origin, originKey, path } = target(
        typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
      );
      const method = (init?.method ?? 'GET').toUpperCase();
      const req = encodeRequest(method, path, origin, init);
      const key = prefix + originKey;
      let pool = pools.get(key);
      if (!pool) {
        pool = [];
        pools.set(key, pool);
      }
      const now = Date.now();
      let conn: Conn | undefined;
      while (!conn && pool.length) {
        const c = pool.pop()!;
        if (c.reusable(now)) conn = c;
        else c.socket.destroy();
      }
      (conn ?? new Conn(pool, origin, localAddress)).send(req, {
        method,
        resolve,
        reject,
        ...(signal ? { signal } : {}),
      });
    })) as typeof fetch;
}

/** Close every socket (end of a run); a request still on one fails. */
export function closeSocketTransports(): void {
  for (const c of [...open]) c.socket.destroy();
  open.clear();
  shared.clear();
}

/** Sockets open and idle in the pools (tests wait on these). */
export function socketTransportCounts(): { open: number; idle: number } {
  let idle = 0;
  for (const c of open) if (c.pool.includes(c)) idle++;
  return { open: open.size, idle };
}
