/**
 * The load generator's transports against a real node:http server (and a raw TCP one where node:http
 * cannot misbehave on purpose): framing, keep-alive, failures and the bytes on the wire.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeSocketTransports, socketFetchFrom, socketTransportCounts } from './socket-transport';
import { closeTransports, fetchFrom } from './transport';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;
const routes = new Map<string, Handler>();
let server: Server;
let base: string;
/** Requests the server has seen, in order. */
const seen: Array<{ url: string; method: string; port: number; address: string; rawHeaders: string[] }> = [];

const MB = Buffer.alloc(1024 * 1024);
for (let i = 0; i < MB.length; i++) MB[i] = (i * 7919) & 0xff;

beforeAll(async () => {
  routes.set('/json', (_q, res) => {
    res.setHeader('x-multi', ['a', 'b']);
    res.setHeader('Content-Type', 'application/json');
    res.end('{"ok":true}');
  });
  routes.set('/chunked', (_q, res) => {
    res.write('alpha,');
    res.write('beta,');
    res.end('gamma');
  });
  routes.set('/gzip', (_q, res) => {
    res.setHeader('content-encoding', 'gzip');
    res.end(gzipSync('inflated text'));
  });
  routes.set('/gzip-chunked', (_q, res) => {
    res.setHeader('content-encoding', 'gzip');
    const gz = gzipSync('x'.repeat(50_000));
    res.write(gz.subarray(0, 10));
    res.end(gz.subarray(10));
  });
  routes.set('/close', (_q, res) => {
    res.setHeader('connection', 'close');
    res.end('bye');
  });
  routes.set('/204', (_q, res) => {
    res.statusCode = 204;
    res.end();
  });
  routes.set('/304', (_q, res) => {
    res.statusCode = 304;
    res.end();
  });
  routes.set('/head', (_q, res) => {
    res.setHeader('content-length', '5');
    res.end();
  });
  routes.set('/1mb', (_q, res) => res.end(MB));
  routes.set('/1mb-chunked', (_q, res) => {
    for (let i = 0; i < 16; i++) res.write(MB.subarray(i * 65536, (i + 1) * 65536));
    res.end();
  });
  routes.set('/echo', (_q, res, body) => {
    res.setHeader('content-type', 'application/octet-stream');
    res.end(body);
  });
  routes.set('/404', (_q, res) => {
    res.statusCode = 404;
    res.end('{"error":{"code":"not_found","message":"no"}}');
  });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        url: req.url!,
        method: req.method!,
        port: req.socket.remotePort!,
        address: req.socket.remoteAddress!,
        rawHeaders: req.rawHeaders,
      });
      const h = routes.get(req.url!.split('?')[0]!);
      if (h) h(req, res, Buffer.concat(chunks));
      else {
        res.statusCode = 500;
        res.end('no route');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  closeSocketTransports();
  closeTransports();
  seen.length = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const lastPort = () => seen[seen.length - 1]!.port;

describe('socket transport (raw net.Socket HTTP/1.1)', () => {
  it('a Content-Length body, its status and headers (names lower-cased, repeats joined)', async () => {
    const f = socketFetchFrom();
    const res = await f(`${base}/json`);
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(res.headers.get('x-multi')).toBe('a, b');
    expect(res.headers.get('content-length')).toBe('11');
    expect(await res.json()).toEqual({ ok: true });
    const nf = await f(`${base}/404`);
    expect(nf.status).toBe(404);
    expect(nf.ok).toBe(false);
    expect(await nf.text()).toContain('not_found');
  });

  it('puts exactly the request line, Host, the given headers and Content-Length on the wire', async () => {
    const f = socketFetchFrom();
    const body = new TextEncoder().encode('{"a":1}');
    const res = await f(`${base}/echo?q=1`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'x-schema-version': '2', 'content-type': 'application/json' },
      body,
    });
    expect(Buffer.from(await res.arrayBuffer()).toString()).toBe('{"a":1}');
    await f(`${base}/json`, { headers: { 'accept-encoding': 'gzip' } });
    const [post, get] = seen;
    expect(post!.method).toBe('POST');
    expect(post!.url).toBe('/echo?q=1');
    const host = new URL(base).host;
    expect(post!.rawHeaders).toEqual([
      'Host',
      host,
      'authorization',
      'Bearer t',
      'x-schema-version',
      '2',
      'content-type',
      'application/json',
      'Content-Length',
      '7',
    ]);
    expect(get!.rawHeaders).toEqual(['Host', host, 'accept-encoding', 'gzip']);
  });

  it('a chunked body', async () => {
    const res = await socketFetchFrom()(`${base}/chunked`);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(await res.text()).toBe('alpha,beta,gamma');
  });

  it('gzip: the body inflated, content-encoding kept (as the node:http transport)', async () => {
    for (const path of ['/gzip', '/gzip-chunked']) {
      const a = await socketFetchFrom()(`${base}${path}`);
      const b = await fetchFrom()(`${base}${path}`);
      expect(a.headers.get('content-encoding')).toBe('gzip');
      expect(await a.text()).toBe(await b.text());
    }
    expect(await (await socketFetchFrom()(`${base}/gzip`)).text()).toBe('inflated text');
  });

  it('keeps one socket alive for sequential requests, bodiless answers included', async () => {
    const f = socketFetchFrom();
    const ports: number[] = [];
    for (const path of ['/json', '/chunked', '/204', '/304', '/gzip', '/json']) {
      const res = await f(`${base}${path}`);
      await res.arrayBuffer();
      ports.push(lastPort());
    }
    const head = await f(`${base}/head`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe('5');
    expect(await head.text()).toBe('');
    ports.push(lastPort());
    const after = await f(`${base}/json`);
    expect(await after.json()).toEqual({ ok: true });
    ports.push(lastPort());
    expect(new Set(ports).size).toBe(1);
    expect(socketTransportCounts()).toEqual({ open: 1, idle: 1 });
  });

  it('ownConnections over node:http: an agent dropped while idle is closed at the end once it is used again', async () => {
    const connections = () => new Promise<number>((r) => server.getConnections((_, n) => r(n)));
    const first = fetchFrom(undefined, { ownConnections: true });
    // Many devices that never sent anything: their idle agents are pruned, the first one with them.
    for (let i = 0; i < 200; i++) fetchFrom(undefined, { ownConnections: true });
    await (await first(`${base}/json`)).arrayBuffer();
    expect(await connections()).toBeGreaterThan(0);
    closeTransports();
    await vi.waitFor(async () => expect(await connections()).toBe(0));
  });

  it('ownConnections: each fetch keeps its own sockets; without it, fetches of one address share them', async () => {
    for (const [transport, make] of [
      ['socket', socketFetchFrom],
      ['http', fetchFrom],
    ] as const) {
      const ports = async (f: typeof fetch) => {
        await (await f(`${base}/json`)).arrayBuffer();
        return lastPort();
      };
      // Sequential requests: a shared pool hands the second fetch the first one's idle socket.
      const a = make(undefined, { ownConnections: true });
      const b = make(undefined, { ownConnections: true });
      const own = [await ports(a), await ports(b), await ports(a), await ports(b)];
      expect(new Set(own).size, transport).toBe(2);
      expect(own[0], transport).toBe(own[2]);
      expect(own[1], transport).toBe(own[3]);
      const c = make();
      const d = make();
      expect(await ports(c), transport).toBe(await ports(d));
      closeSocketTransports();
      closeTransports();
    }
  });
  it('Connection: close ends the socket; the next request opens a new one', async () => {
    const f = socketFetchFrom();
    await f(`${base}/json`);
    const first = lastPort();
    expect(await (await f(`${base}/close`)).text()).toBe('bye');
    expect(lastPort()).toBe(first);
    await f(`${base}/json`);
    expect(lastPort()).not.toBe(first);
  });

  it('a socket the server closes while idle leaves the pool; the next request opens a new one', async () => {
    const f = socketFetchFrom();
    await f(`${base}/json`);
    const first = lastPort();
    server.closeIdleConnections();
    await vi.waitFor(() => expect(socketTransportCounts().idle).toBe(0));
    expect(await (await f(`${base}/json`)).json()).toEqual({ ok: true });
    expect(lastPort()).not.toBe(first);
  });

  it('retires an idle socket before the server’s Keep-Alive timeout would close it', async () => {
    const f = socketFetchFrom();
    const now = Date.now();
    const spy = vi.spyOn(Date, 'now').mockReturnValue(now);
    try {
      await f(`${base}/json`); // node:http says "Keep-Alive: timeout=5"
      const first = lastPort();
      spy.mockReturnValue(now + 3_900);
      await f(`${base}/json`);
      expect(lastPort()).toBe(first);
      spy.mockReturnValue(now + 3_900 + 4_000);
      await f(`${base}/json`);
      expect(lastPort()).not.toBe(first);
    } finally {
      spy.mockRestore();
    }
  });

  it('aborting mid-response rejects with the signal’s reason and closes the socket', async () => {
    const ctrl = new AbortController();
    let serverSocket: Socket | undefined;
    routes.set('/slow', (req, res) => {
      serverSocket = req.socket;
      res.setHeader('content-length', '100');
      res.write('partial', () => ctrl.abort(new Error('timeout')));
    });
    const f = socketFetchFrom();
    await expect(f(`${base}/slow`, { signal: ctrl.signal })).rejects.toThrow('timeout');
    await new Promise((r) => (serverSocket!.destroyed ? r(null) : serverSocket!.once('close', r)));
    // An already aborted signal never sends.
    const n = seen.length;
    await expect(f(`${base}/json`, { signal: ctrl.signal })).rejects.toThrow('timeout');
    expect(seen.length).toBe(n);
    expect(await (await f(`${base}/json`)).json()).toEqual({ ok: true });
  });

  it('a 1 MB body, Content-Length and chunked, byte for byte', async () => {
    const f = socketFetchFrom();
    for (const path of ['/1mb', '/1mb-chunked']) {
      const res = await f(`${base}${path}`);
      expect(Buffer.from(await res.arrayBuffer()).equals(MB)).toBe(true);
    }
    const up = await f(`${base}/echo`, { method: 'POST', body: MB });
    expect(Buffer.from(await up.arrayBuffer()).equals(MB)).toBe(true);
    expect(new Set(seen.map((s) => s.port)).size).toBe(1);
  });

  it('leaves from the given source address', async () => {
    await socketFetchFrom('127.0.3.7')(`${base}/json`);
    expect(seen[0]!.address).toBe('127.0.3.7');
    await socketFetchFrom('127.0.3.8')(`${base}/json`);
    expect(seen[1]!.address).toBe('127.0.3.8');
    expect(socketTransportCounts().open).toBe(2);
  });

  it('a refused connection is a TypeError "fetch failed" whose cause says ECONNREFUSED', async () => {
    const tcp = createTcpServer();
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const port = (tcp.address() as AddressInfo).port;
    await new Promise((r) => tcp.close(r));
    const err = await socketFetchFrom()(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as TypeError).message).toBe('fetch failed');
    expect(((err as TypeError).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });
});

describe('socket transport against a raw TCP server', () => {
  let tcp: TcpServer;
  let tcpBase: string;
  let onConn: (s: Socket) => void;
  let connections = 0;
  beforeAll(async () => {
    tcp = createTcpServer((s) => {
      connections++;
      onConn(s);
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    tcpBase = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => tcp.close(r)));

  /** Calls `answer` with each request's bytes as they come (a request per data event here: small), n-th on its socket. */
  const serve = (answer: (s: Socket, req: string, n: number) => void) => {
    connections = 0;
    onConn = (s) => {
      let n = 0;
      s.on('data', (d) => answer(s, d.toString('latin1'), n++));
    };
  };

  it('parses a response that arrives a few bytes at a time (head, chunk sizes, CRLFs split)', async () => {
    const wire =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n';
    serve(async (s) => {
      for (let i = 0; i < wire.length; i += 3) {
        await new Promise((r) => s.write(wire.slice(i, i + 3), r));
        await new Promise((r) => setImmediate(r));
      }
    });
    const f = socketFetchFrom();
    const res = await f(`${tcpBase}/`);
    expect(res.headers.get('x-a')).toBe('1, 2');
    expect(await res.text()).toBe('hello world');
    const again = await f(`${tcpBase}/`);
    expect(await again.text()).toBe('hello world');
    expect(connections).toBe(1);
  });

  it('skips a 100 Continue; reads a body without length until the server closes', async () => {
    serve((s) => {
      s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ');
      s.end('close');
    });
    const res = await socketFetchFrom()(`${tcpBase}/`);
    expect(await res.text()).toBe('until close');
  });

  it('a kept-alive socket closed before any byte of the answer fails the request, like node: no replay', async () => {
    serve((s, _req, n) => {
      if (n === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else s.destroy();
    });
    const f = socketFetchFrom();
    expect(await (await f(`${tcpBase}/`)).text()).toBe('ok');
    const body = new TextEncoder().encode('{}');
    const mine = await f(`${tcpBase}/sync/push`, { method: 'POST', body }).catch((e: unknown) => e);
    // node:http over a kept-alive Agent socket, the same server: the same failure.
    const agent = fetchFrom();
    await agent(`${tcpBase}/`);
    const nodes = await agent(`${tcpBase}/sync/push`, { method: 'POST', body }).catch((e: unknown) => e);
    for (const err of [mine, nodes]) {
      expect(err).toBeInstanceOf(TypeError);
      expect((err as TypeError).message).toBe('fetch failed');
      expect(((err as TypeError).cause as Error).message).toBe('socket hang up');
      expect(((err as TypeError).cause as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    }
    expect(connections).toBe(2); // one per transport: neither opened another to send the POST again
  });

  it('a body cut short fails with "aborted"; a malformed status line is a parse error', async () => {
    serve((s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      s.destroy();
    });
    const cut = await socketFetchFrom()(`${tcpBase}/`).catch((e: unknown) => e);
    expect((cut as TypeError).message).toBe('fetch failed');
    expect(((cut as TypeError).cause as Error).message).toBe('aborted');
    serve((s) => s.write('HTP/1.1 200 OK\r\n\r\n'));
    const bad = await socketFetchFrom()(`${tcpBase}/`).catch((e: unknown) => e);
    expect((bad as TypeError).message).toBe('fetch failed');
    expect(((bad as TypeError).cause as NodeJS.ErrnoException).code).toMatch(/^HPE_/);
  });
});
