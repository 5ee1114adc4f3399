/**
 * Embedded-proxy behaviour beyond the compat checklist: Go JSON decoding rules, start-up proxies,
 * close() releasing everything, bounded buffering for a slow reader, seeded draws.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createRng } from './clock';
import { type EmbeddedToxiproxy, startEmbeddedToxiproxy } from './index';
import { parseFirstValue } from './json';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(opts: Parameters<typeof startEmbeddedToxiproxy>[0] = {}): Promise<EmbeddedToxiproxy> {
  const tp = await startEmbeddedToxiproxy(opts);
  cleanups.push(() => tp.close());
  return tp;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as { port: number }).port;
}

function echoServer(): Server {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
  });
  return server;
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
    cleanups.push(() => {
      s.destroy();
    });
  });
}

const post = (url: string, body: string, method = 'POST') => fetch(url, { method, body });

describe('Go JSON decoding rules', () => {
  it('parses only the first value and keeps number literals', () => {
    expect(parseFirstValue('{"a":1} trailing')).toBeTruthy();
    expect(() => parseFirstValue('')).toThrow('EOF');
    expect(() => parseFirstValue('{')).toThrow('unexpected EOF');
    expect(() => parseFirstValue('{"a":}')).toThrow(/invalid character/);
  });

  it('matches Toxiproxy on field types, case and trailing bytes', async () => {
    const tp = await start();
    const up = await listen(echoServer());
    let res = await post(`${tp.url}/proxies`, `{"NAME":"a","Upstream":"127.0.0.1:${up}","listen":"127.0.0.1:0"} xyz`);
    expect(res.status).toBe(201);
    expect((await res.json()).name).toBe('a');
    res = await post(`${tp.url}/proxies`, '{"name":"b","upstream":"x:1","enabled":"true"}');
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/^bad request body: /);
    for (const attrs of ['{"latency":1.0}', '{"latency":1e3}', '{"latency":"5"}']) {
      res = await post(`${tp.url}/proxies/a/toxics`, `{"type":"latency","attributes":${attrs}}`);
      expect(res.status, attrs).toBe(400);
    }
    res = await post(`${tp.url}/proxies/a/toxics`, '{"type":"latency","toxicity":"1"}');
    expect(res.status).toBe(400);
    res = await post(
      `${tp.url}/proxies/a/toxics`,
      '{"type":"latency","stream":"UpStream","attributes":{"LATENCY":-5}}',
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      attributes: { latency: -5, jitter: 0 },
      name: 'latency_UpStream',
      type: 'latency',
      stream: 'UpStream',
      toxicity: 1,
    });
    // Negative latency acts like none, on the upstream stream as parsed case-insensitively. The bug this
    // guards against is a negative delay read as unsigned (an endless hold), so the ceiling is generous:
    // a loaded runner can take hundreds of ms for one echo.
    const sock = await dial(Number((await (await fetch(`${tp.url}/proxies/a`)).json()).listen.split(':').pop()));
    const t0 = performance.now();
    sock.write('x');
    await new Promise((r) => sock.once('data', r));
    expect(performance.now() - t0).toBeLessThan(5000);
    res = await post(`${tp.url}/populate`, '{}');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ status: 400, proxies: null });
  });

  it('populate failure after a success reports the created proxies', async () => {
    const tp = await start();
    const busy = await listen(echoServer());
    const res = await post(
      `${tp.url}/populate`,
      JSON.stringify([
        { name: 'ok', listen: '127.0.0.1:0', upstream: '127.0.0.1:1' },
        { name: 'clash', listen: `127.0.0.1:${busy}`, upstream: '127.0.0.1:1' },
      ]),
    );
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body.error).toMatch(/address already in use/);
    expect(body.proxies.map((p: { name: string }) => p.name)).toEqual(['ok']);
  });
});

describe('lifecycle', () => {
  it('creates start-up proxies and close() releases ports and connections', async () => {
    const upPort = await listen(echoServer());
    const tp = await startEmbeddedToxiproxy({
      proxies: [{ name: 'boot', listen: '127.0.0.1:0', upstream: `127.0.0.1:${upPort}` }],
    });
    const client = new Toxiproxy(tp.url);
    const proxy = await client.get('boot');
    const port = Number(proxy.listen.split(':').pop());
    const sock = await dial(port);
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.on('error', () => {});
    sock.write('hi');
    await new Promise((r) => sock.once('data', r));
    await tp.close();
    await closed;
    await expect(dial(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(fetch(`${tp.url}/version`)).rejects.toThrow();
  });

  it('serves /metrics only when enabled, counting bytes per direction when connections end', async () => {
    const off = await start();
    expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
    const tp = await start({ metrics: true });
    const upPort = await listen(echoServer());
    const proxy = await new Toxiproxy(tp.url).createProxy({
      name: 'm',
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${upPort}`,
    });
    const sock = await dial(Number(proxy.listen.split(':').pop()));
    sock.write('hello');
    await new Promise((r) => sock.once('data', r));
    const closed = new Promise((r) => sock.once('close', r));
    sock.end();
    await closed;
    const labels = `listener="${proxy.listen}",proxy="m",upstream="127.0.0.1:${upPort}"`;
    // The counters may trail the client's close on a loaded machine: poll until they settle.
    let text = '';
    for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
      text = await (await fetch(`${tp.url}/metrics`)).text();
      if (text.includes(`toxiproxy_proxy_sent_bytes_total{direction="downstream",${labels}} 5`)) break;
    }
    expect(text).toContain(`toxiproxy_proxy_received_bytes_total{direction="upstream",${labels}} 5`);
    expect(text).toContain(`toxiproxy_proxy_sent_bytes_total{direction="downstream",${labels}} 5`);
  });

  it('seeded draws repeat', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('backpressure', () => {
  for (const withToxic of [false, true]) {
    it(`a client that does not read holds back the upstream (${withToxic ? 'toxic chain' : 'direct pipe'})`, async () => {
      const tp = await start();
      let accepted = 0;
      let stop = false;
      const upstream = createServer((s) => {
        s.on('error', () => {});
        const chunk = randomBytes(64 * 1024);
        const pump = () => {
          while (!stop && accepted < 256 * 1024 * 1024) {
            accepted += chunk.length;
            if (!s.write(chunk)) return void s.once('drain', pump);
          }
        };
        pump();
      });
      cleanups.push(() => {
        stop = true;
      });
      const upPort = await listen(upstream);
      const client = new Toxiproxy(tp.url);
      const proxy = await client.createProxy({ name: 'bp', listen: '127.0.0.1:0', upstream: `127.0.0.1:${upPort}` });
      if (withToxic) await proxy.addToxic({ type: 'latency', name: 'l', attributes: { latency: 1 } } as any);
      const sock = await dial(Number(proxy.listen.split(':').pop()));
      sock.pause();
      await new Promise((r) => setTimeout(r, 1500));
      // Kernel buffers on both hops plus the proxy's bounded queue; far below the 256 MiB on offer.
      expect(accepted).toBeLessThan(24 * 1024 * 1024);
      stop = true;
      sock.destroy();
    });
  }
});

describe('timer granularity', () => {
  it('a slicer with a sub-millisecond delay keeps its pace (pieces already due go out together)', async () => {
    const tp = await start();
    let received = 0;
    let last = 0;
    const upstream = createServer((s) => {
      s.on('error', () => {});
      s.on('data', (d) => {
        received += d.length;
        last = performance.now();
      });
    });
    const upPort = await listen(upstream);
    const proxy = await new Toxiproxy(tp.url).createProxy({
      name: 's',
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${upPort}`,
    });
    await proxy.addToxic({
      type: 'slicer',
      stream: 'upstream',
      name: 's',
      attributes: { average_size: 10, size_variation: 0, delay: 100 },
    } as any);
    const sock = await dial(Number(proxy.listen.split(':').pop()));
    const t0 = performance.now();
    sock.write(randomBytes(10_000)); // about 1000 pieces of 10 bytes, 0.1 ms apart: about 100 ms
    while (received < 10_000 && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    expect(received).toBe(10_000);
    expect(last - t0).toBeGreaterThanOrEqual(99);
    // Delay read as ms instead of µs would take 100 s; a loaded runner may stretch 100 ms several-fold.
    expect(last - t0).toBeLessThan(5000);
  });
});

describe('corrupt (the harness toxic, RFC 0006 §5.4)', () => {
  /** Two bodies and a GET on one kept-alive connection, written in small pieces. */
  const message = (path: string, body: string, extra = '') =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\n${extra}Content-Length: ${body.length}\r\n\r\n${body}`;
  const wire = (digestOnFirst: boolean) =>
    message('/a?lastPulledAt=123', 'a'.repeat(3000), digestOnFirst ? 'Content-Digest: sha-256=:AAAA:\r\n' : '') +
    'GET /b?lastPulledAt=456 HTTP/1.1\r\nHost: x\r\n\r\n' +
    message('/c', 'b'.repeat(700)) +
    'GET /chunked HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nccccc\r\n0\r\n\r\n' +
    message('/after-chunked', 'd'.repeat(500));

  async function through(attributes: Record<string, number>, sent: string): Promise<string> {
    const tp = await start({ seed: 7 });
    const upPort = await listen(echoServer());
    const proxy = await new Toxiproxy(tp.url).createProxy({
      name: 'c',
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${upPort}`,
    });
    await proxy.addToxic({ type: 'corrupt', stream: 'upstream', toxicity: 1, attributes } as never);
    const sock = await dial(Number(proxy.listen.split(':').pop()));
    const got: Buffer[] = [];
    let n = 0;
    const all = new Promise<void>((r) =>
      sock.on('data', (d: Buffer) => {
        got.push(d);
        n += d.length;
        if (n >= sent.length) r();
      }),
    );
    for (let i = 0; i < sent.length; i += 333) sock.write(sent.slice(i, i + 333));
    await all;
    return Buffer.concat(got).toString('latin1');
  }

  const differences = (a: string, b: string) => [...a].flatMap((c, i) => (c === b[i] ? [] : [i]));

  it('flips one byte per Content-Length body, never a start line or header; stops at a chunked body', async () => {
    const sent = wire(false);
    const got = await through({ percent: 100 }, sent);
    expect(got.length).toBe(sent.length);
    const diff = differences(sent, got);
    const body1 = sent.indexOf('a'.repeat(3000));
    const body2 = sent.indexOf('b'.repeat(700));
    expect(diff).toHaveLength(2);
    expect(diff[0]).toBeGreaterThanOrEqual(body1);
    expect(diff[0]).toBeLessThan(body1 + 3000);
    expect(diff[1]).toBeGreaterThanOrEqual(body2);
    expect(diff[1]).toBeLessThan(body2 + 700);
    // Everything from the chunked message on passes untouched (the toxic no longer knows the framing).
    expect(got.slice(sent.indexOf('GET /chunked'))).toBe(sent.slice(sent.indexOf('GET /chunked')));
  });

  it('protected_only touches only bodies a receiver can check (Content-Digest or Content-Encoding); percent 0 nothing', async () => {
    const sent = wire(true);
    const got = await through({ percent: 100, protected_only: 1 }, sent);
    const diff = differences(sent, got);
    const body1 = sent.indexOf('a'.repeat(3000));
    expect(diff).toHaveLength(1);
    expect(diff[0]).toBeGreaterThanOrEqual(body1);
    expect(diff[0]).toBeLessThan(body1 + 3000);
    expect(await through({ percent: 0 }, sent)).toBe(sent);
  });
});
