/**
 * One small HTTP server per web device: it serves the app and forwards `/api/*` to the device's
 * own upstream (its fault-proxy port), so page and service worker talk to a single origin (the
 * sync server needs no CORS) and each device's traffic crosses its own proxy. A device's origin is
 * its port here, which is why a persistent device gets the same port back after a restart
 * (IndexedDB is keyed by origin).
 *
 * It also gives the driver two things a browser cannot: an API gate (offline: refuse new API
 * connections, destroy kept-alive and in-flight sockets, service-worker fetches included) and a log
 * of every push request that went through (pushId and records), for the no-duplicate-push checks.
 */
import { readFile } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { extname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { AppConfig } from './app/engine';

export interface PushLogEntry {
  at: number;
  pushId: string | null;
  /** Body bytes as the page sent them (gzip-compressed over 10 KB): each resend counts again. */
  bytes: number;
  lastPulledAt: number;
  /** `table/id` → 'created' | 'updated' | 'deleted', and the pushed values for created/updated rows. */
  records: Array<{
    table: string;
    id: string;
    kind: 'created' | 'updated' | 'deleted';
    values?: Record<string, unknown>;
  }>;
  status?: number;
  conflicts?: number;
  /** The request failed before a response reached the page (gate closed, upstream refused, client gone). */
  error?: string;
}

/** One PUT the page sent through the upload relay. */
export interface UploadRelayEntry {
  at: number;
  /** The presigned URL without its query (the signature). */
  target: string;
  /** Body bytes that reached the relay from the page. */
  bytesIn: number;
  status?: number;
  error?: string;
}

export interface WebAppServer {
  readonly url: string;
  readonly port: number;
  readonly pushes: PushLogEntry[];
  upstream: string;
  config: AppConfig;
  /** Offline at the device's network edge: refuses /api and /harness, cuts open sockets. */
  setApiBlocked(blocked: boolean): void;
  /** Every PUT through the upload relay, in order. */
  readonly uploads: UploadRelayEntry[];
  /** Test hook: awaited after the store answered a PUT, before the answer goes to the page. */
  beforeUploadResponse?: (entry: UploadRelayEntry) => Promise<void>;
  /** Test hook: awaited after the upstream answered a push, before the answer goes to the page. */
  beforePushResponse?: (entry: PushLogEntry) => Promise<void>;
  /** Calls `listener` with every event the app posts to /harness/event of `type`, from now on. */
  onEvent(type: string, listener: (e: Record<string, unknown>) => void): void;
  /** Resolves with the next event the app posted to /harness/event of `type` (null on timeout). */
  nextEvent(type: string, timeoutMs: number): Promise<Record<string, unknown> | null>;
  close(): Promise<void>;
}

export interface WebAppServerOptions {
  distDir: string;
  upstream: string;
  config: AppConfig;
  /** The device's token; `refresh` after the server refused it (401 mid-sync, RFC §5.1). */
  getToken(o?: { refresh?: boolean }): Promise<string>;
  /** Preferred port (a persistent device keeps its origin); falls back to a free one. */
  port?: number;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export async function startWebAppServer(opts: WebAppServerOptions): Promise<WebAppServer> {
  const sockets = new Set<Socket>();
  const upstreamReqs = new Set<ReturnType<typeof httpRequest>>();
  // Kept-alive connections to the device's proxy, as a browser keeps them to its server, so a fault
  // that acts per connection (limit_data) meets a push's batches one after another on one connection
  // as the phone's do (a connection per request never carried more than one batch). Idle ones close
  // before the server's 5 s keep-alive timeout, so a request never lands on a socket being closed.
  const upstreamAgent = new Agent({ keepAlive: true, timeout: 4_000 });
  let blocked = false;
  const waiters = new Set<{ type: string; resolve(e: Record<string, unknown>): void }>();
  const listeners: Array<{ type: string; listener(e: Record<string, unknown>): void }> = [];
  const files = new Map<string, Buffer>();
  for (const f of ['index.html', 'app.js', 'app.css', 'sw.js']) files.set(f, await readFile(join(opts.distDir, f)));

  const self: WebAppServer = {
    url: '',
    port: 0,
    pushes: [],
    uploads: [],
    upstream: opts.upstream,
    config: opts.config,
    setApiBlocked(b: boolean) {
      blocked = b;
      if (b) {
        for (const r of upstreamReqs) r.destroy(new Error('device offline'));
        upstreamAgent.destroy();
        for (const s of sockets) s.destroy();
      }
    },
    close: async () => {},
    onEvent(type, listener) {
      listeners.push({ type, listener });
    },
    nextEvent(type, timeoutMs) {
      return new Promise((resolve) => {
        const t = setTimeout(() => {
          waiters.delete(w);
          resolve(null);
        }, timeoutMs);
        const w = {
          type,
          resolve: (e: Record<string, unknown>) => {
            clearTimeout(t);
            resolve(e);
          },
        };
        waiters.add(w);
      });
    },
  };

  const cut = (req: IncomingMessage) => req.socket.destroy();

  async function handleApi(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = req.url!.replace(/^\/api/, '') || '/';
    let entry: PushLogEntry | undefined;
    if (req.method === 'POST' && path.startsWith('/sync/push')) {
      entry = { at: Date.now(), pushId: null, bytes: body.length, lastPulledAt: 0, records: [] };
      try {
        // Bodies over 10 KB arrive gzip-compressed (RFC 0006 §5.2); the log holds what they say.
        const raw = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
        const p = JSON.parse(raw.toString('utf8'));
        entry.pushId = p.pushId ?? null;
        entry.lastPulledAt = p.lastPulledAt;
        for (const [table, tc] of Object.entries<any>(p.changes ?? {})) {
          for (const r of tc.created ?? []) entry.records.push({ table, id: r.id, kind: 'created', values: r });
          for (const r of tc.updated ?? []) entry.records.push({ table, id: r.id, kind: 'updated', values: r });
          for (const id of tc.deleted ?? []) entry.records.push({ table, id, kind: 'deleted' });
        }
      } catch {
        /* logged as is; the server will answer 400 */
      }
      self.pushes.push(entry);
    }
    const target = new URL(path, self.upstream.replace(/\/?$/, '/'));
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    delete headers.connection;
    const up = httpRequest(target, { method: req.method, headers, agent: upstreamAgent });
    upstreamReqs.add(up);
    up.on('close', () => upstreamReqs.delete(up));
    up.on('error', (e) => {
      // Mirror a direct connection: the page sees a network failure, not a made-up HTTP status.
      if (entry) entry.error = e.message;
      cut(req);
    });
    up.on('response', async (ur) => {
      if (entry) {
        const parts: Buffer[] = [];
        try {
          for await (const c of ur) parts.push(c as Buffer);
        } catch (e) {
          entry.error = (e as Error).message;
          return cut(req);
        }
        const buf = Buffer.concat(parts);
        entry.status = ur.statusCode;
        try {
          const text = ur.headers['content-encoding'] === 'gzip' ? gunzipSync(buf) : buf;
          entry.conflicts = JSON.parse(text.toString('utf8')).conflictedRecords?.length;
        } catch {
          /* not JSON */
        }
        if (self.beforePushResponse) await self.beforePushResponse(entry);
        if (blocked || req.socket.destroyed) {
          entry.error ??= 'response not delivered (device offline or page gone)';
          return cut(req);
        }
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        res.end(buf);
        return;
      }
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
      ur.on('error', () => cut(req));
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    up.end(body);
  }

  /**
   * The upload relay: the page PUTs to its own origin and the relay forwards the body as it comes
   * (no buffering: the device's bandwidth limit holds the page's upload back) to the presigned URL,
   * which points at the device's object-store proxy. A browser would need CORS on the bucket to PUT
   * there itself; the relay sends exactly the headers the URL was signed for, as the phone does.
   */
  function relayUpload(req: IncomingMessage, res: ServerResponse, to: string | null) {
    let target: URL;
    try {
      target = new URL(to ?? '');
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(target.protocol);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' });
      return res.end(`upload relay: "to" must be an http(s) URL, got ${JSON.stringify(to)}`);
    }
    const entry: UploadRelayEntry = { at: Date.now(), target: `${target.origin}${target.pathname}`, bytesIn: 0 };
    self.uploads.push(entry);
    const headers: Record<string, string> = { host: target.host };
    for (const h of ['content-type', 'content-length']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const up = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, {
      method: 'PUT',
      headers,
      agent: false,
    });
    upstreamReqs.add(up);
    up.on('close', () => upstreamReqs.delete(up));
    up.on('error', (e) => {
      entry.error ??= e.message;
      cut(req);
    });
    req.on('data', (c: Buffer) => {
      entry.bytesIn += c.length;
    });
    // A page that goes away mid-body (reload, crash, abort) must not leave the store a short object.
    req.on('close', () => {
      if (!req.complete) {
        entry.error ??= 'the page went away mid-body';
        up.destroy();
      }
    });
    req.pipe(up);
    up.on('response', async (ur) => {
      const parts: Buffer[] = [];
      try {
        for await (const c of ur) parts.push(c as Buffer);
      } catch (e) {
        entry.error ??= (e as Error).message;
        return cut(req);
      }
      entry.status = ur.statusCode;
      if (self.beforeUploadResponse) await self.beforeUploadResponse(entry);
      if (blocked || req.socket.destroyed) {
        entry.error ??= 'response not delivered (device offline or page gone)';
        return cut(req);
      }
      const h = ur.headers;
      res.writeHead(ur.statusCode ?? 502, {
        ...(h['content-type'] ? { 'content-type': h['content-type'] } : {}),
        ...(h.etag ? { etag: h.etag } : {}),
      });
      res.end(Buffer.concat(parts));
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    try {
      if (url.pathname.startsWith('/api/')) {
        if (blocked) return cut(req);
        return await handleApi(req, res);
      }
      if (url.pathname === '/harness/upload' && req.method === 'PUT') {
        if (blocked) return cut(req);
        return relayUpload(req, res, url.searchParams.get('to'));
      }
      if (url.pathname === '/harness/token') {
        if (blocked) return cut(req);
        const token = await opts.getToken({ refresh: url.searchParams.get('refresh') === '1' });
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        return res.end(JSON.stringify({ token }));
      }
      if (url.pathname === '/harness/event' && req.method === 'POST') {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        for (const l of listeners) if (l.type === event.type) l.listener(event);
        for (const w of [...waiters]) {
          if (w.type === event.type) {
            waiters.delete(w);
            w.resolve(event);
          }
        }
        res.writeHead(204);
        return res.end();
      }
      if (url.pathname === '/config.json') {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        return res.end(JSON.stringify(self.config));
      }
      const name = url.pathname === '/' || url.pathname === '/index.html' ? 'index.html' : url.pathname.slice(1);
      const file = files.get(name);
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        return res.end('not found');
      }
      res.writeHead(200, {
        'content-type': TYPES[extname(name)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
      });
      res.end(file);
    } catch (e) {
      if (!res.headersSent) res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'HRN_ERR_WEB_APP_SERVER', message: (e as Error).message } }));
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.keepAliveTimeout = 5_000;

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const onErr = (e: Error) => reject(e);
      server.once('error', onErr);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', onErr);
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  let port: number;
  try {
    port = await listen(opts.port ?? 0);
  } catch {
    port = await listen(0);
  }
  Object.assign(self, { url: `http://127.0.0.1:${port}`, port });
  self.close = () =>
    new Promise<void>((resolve) => {
      for (const r of upstreamReqs) r.destroy();
      upstreamAgent.destroy();
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return self;
}
