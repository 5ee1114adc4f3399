/**
 * The round-robin front of `harness serve --instances N`: one URL for N reference-server processes
 * that share one PostgreSQL, like a cloud load balancer in front of stateless app servers.
 *
 * Why a small node:http reverse proxy rather than the embedded Toxiproxy: Toxiproxy forwards one
 * listener to one upstream; a front must pick an upstream per request and must know when it may try
 * another. The rule is the load balancer's usual one and it is what keeps "no acknowledged write is
 * lost" true across an instance kill: a request is re-sent to the next instance only when the
 * connection to the first was *refused* (the request never reached a server, so it cannot have been
 * applied). An upstream that fails after the request was sent answers 502: the outcome is unknown
 * and only the device, with its pushId, may decide to retry. Responses are streamed (SSE pokes pass
 * through unbuffered).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Upstream {
  host: string;
  port: number;
}

export interface FrontOptions {
  upstreams: Upstream[];
  host?: string;
  port?: number;
  /** After a refused connection an upstream is skipped for this long (ms, default 1000). */
  downForMs?: number;
  /** Largest request body the front buffers for a retry (default 32 MB; the server's own limit is 10 MB). */
  maxBodyBytes?: number;
}

export interface FrontStats {
  /** Requests answered by each upstream, by index. */
  perUpstream: number[];
  /** Requests re-sent to another upstream after a refused connection. */
  retried: number;
  /** Requests answered 502/503 by the front itself. */
  failed: number;
}

export interface RunningFront {
  url: string;
  port: number;
  stats(): FrontStats;
  close(): Promise<void>;
}

/** Connection errors that prove the request was never delivered to a server process. */
const NOT_DELIVERED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

// Hop-by-hop headers (RFC 9110 §7.6.1) are the front's own business, never forwarded.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

export async function startFront(opts: FrontOptions): Promise<RunningFront> {
  if (opts.upstreams.length === 0) throw new Error('the front needs at least one upstream');
  const downForMs = opts.downForMs ?? 1000;
  const maxBody = opts.maxBodyBytes ?? 32 * 1024 * 1024;
  const agents = opts.upstreams.map(() => new http.Agent({ keepAlive: true, maxSockets: Infinity }));
  const downUntil = opts.upstreams.map(() => 0);
  const stats: FrontStats = { perUpstream: opts.upstreams.map(() => 0), retried: 0, failed: 0 };
  let next = 0;

  /** Upstream indexes in the order to try for one request: round-robin, healthy ones first. */
  function order(): number[] {
    const n = opts.upstreams.length;
    const start = next++ % n;
    const all = Array.from({ length: n }, (_, i) => (start + i) % n);
    const now = Date.now();
    return [...all.filter((i) => downUntil[i]! <= now), ...all.filter((i) => downUntil[i]! > now)];
  }

  function fail(res: ServerResponse, status: number, message: string): void {
    stats.failed++;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const code = status === 413 ? 'SYNC_ERR_TOO_LARGE' : 'SYNC_ERR_UNAVAILABLE';
    res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ error: { code, message } }));
  }

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, tries: number[]): void {
    const i = tries[0]!;
    const up = opts.upstreams[i]!;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.includes(k)) headers[k] = v;
    headers['content-length'] = String(body.length);
    const xff = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = [xff, req.socket.remoteAddress].filter(Boolean).join(', ');
    const upReq = http.request({
      host: up.host,
      port: up.port,
      method: req.method,
      path: req.url,
      headers,
      agent: agents[i],
    });
    let answered = false;
    upReq.on('response', (upRes) => {
      answered = true;
      stats.perUpstream[i]!++;
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && !HOP_BY_HOP.includes(k)) out[k] = v;
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, out);
      res.flushHeaders();
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
      res.on('close', () => upRes.destroy());
    });
    upReq.on('error', (e: NodeJS.ErrnoException) => {
      if (answered) return res.destroy();
      if (e.code && NOT_DELIVERED.has(e.code)) {
        downUntil[i] = Date.now() + downForMs;
        if (tries.length > 1) {
          stats.retried++;
          return forward(req, res, body, tries.slice(1));
        }
        return fail(
          res,
          503,
          `no sync server instance accepted the connection (last: ${up.host}:${up.port} ${e.code})`,
        );
      }
      // Sent, then lost: the server may have applied it. Never re-send; the device decides.
      fail(res, 502, `sync server instance ${up.host}:${up.port} failed mid-request (${e.code ?? e.message})`);
    });
    res.on('close', () => {
      if (!res.writableFinished) upReq.destroy();
    });
    upReq.end(body);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) tooLarge = true;
      else chunks.push(c);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (tooLarge) return fail(res, 413, `request body over the front's ${maxBody} byte limit`);
      forward(req, res, Buffer.concat(chunks), order());
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    stats: () => ({ perUpstream: [...stats.perUpstream], retried: stats.retried, failed: stats.failed }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const a of agents) a.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
