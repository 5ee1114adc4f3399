/**
 * The round-robin front over real HTTP: upstreams are plain node:http servers that say who answered,
 * so each rule of the front (spread, re-send only what was never delivered, stream, fail clearly)
 * is observable from the client.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../postgres/index';
import { type RunningFront, startFront } from './front';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function upstream(name: string, handler?: Handler): Promise<{ host: string; port: number; seen: string[] }> {
  const seen: string[] = [];
  const s = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body}`);
      if (handler) return handler(req, res, body);
      res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': name });
      res.end(JSON.stringify({ name, body, auth: req.headers.authorization ?? null }));
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  closers.push(
    () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  );
  return { host: '127.0.0.1', port: (s.address() as AddressInfo).port, seen };
}

async function front(upstreams: Array<{ host: string; port: number }>): Promise<RunningFront> {
  const f = await startFront({ upstreams });
  closers.push(() => f.close());
  return f;
}

describe('round-robin front', () => {
  it('spreads requests over every instance and forwards method, path, headers, body and status', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const f = await front([a, b]);
    const names: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${f.url}/sync/push?i=${i}`, {
        method: 'POST',
        headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
        body: `{"n":${i}}`,
      });
      expect(r.status).toBe(201);
      const j = (await r.json()) as { name: string; body: string; auth: string };
      expect(j.body).toBe(`{"n":${i}}`);
      expect(j.auth).toBe('Bearer t');
      names.push(j.name);
    }
    expect(names.filter((n) => n === 'a')).toHaveLength(3);
    expect(names.filter((n) => n === 'b')).toHaveLength(3);
    expect(a.seen[0]).toBe('POST /sync/push?i=0 {"n":0}');
    expect(f.stats().perUpstream).toEqual([3, 3]);
  });

  it('re-sends a request to the next instance only when the connection was refused', async () => {
    const a = await upstream('a');
    const deadPort = await freePort(); // nothing listens there
    const f = await front([{ host: '127.0.0.1', port: deadPort }, a]);
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${f.url}/x`, { method: 'POST', body: `p${i}` });
      expect(r.status).toBe(201);
    }
    expect(a.seen).toHaveLength(4);
    expect(f.stats().retried).toBeGreaterThanOrEqual(1);
    expect(f.stats().failed).toBe(0);
  });

  it('answers 502 and never re-sends a request an instance received and then dropped', async () => {
    // The dropping instance may have applied the push: re-sending it elsewhere could apply it twice.
    const dropper = await upstream('drop', (_req, res) => res.socket?.destroy());
    const b = await upstream('b');
    const f = await front([dropper, b]);
    const r = await fetch(`${f.url}/sync/push`, { method: 'POST', body: 'once' });
    expect(r.status).toBe(502);
    const j = (await r.json()) as { error: { code: string; message: string } };
    expect(j.error.message).toMatch(/failed mid-request/);
    expect(dropper.seen).toEqual(['POST /sync/push once']);
    expect(b.seen).toEqual([]);
  });

  it('streams responses (SSE) chunk by chunk instead of buffering them', async () => {
    let sendSecond!: () => void;
    const second = new Promise<void>((r) => {
      sendSecond = r;
    });
    const a = await upstream('a', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      void second.then(() => res.end('data: two\n\n'));
    });
    const f = await front([a]);
    const r = await fetch(`${f.url}/sync/events`);
    const reader = r.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    // The upstream has not written its second event yet: the first arrived through the front alone.
    expect(first).toBe('data: one\n\n');
    sendSecond();
    let rest = '';
    for (;;) {
      const c = await reader.read();
      if (c.done) break;
      rest += new TextDecoder().decode(c.value);
    }
    expect(rest).toBe('data: two\n\n');
  });

  it('answers 503 with the reason when no instance accepts connections', async () => {
    const f = await front([{ host: '127.0.0.1', port: await freePort() }]);
    const r = await fetch(`${f.url}/sync/pull`);
    expect(r.status).toBe(503);
    const j = (await r.json()) as { error: { code: string; message: string } };
    expect(j.error.code).toBe('SYNC_ERR_UNAVAILABLE');
    expect(j.error.message).toMatch(/no sync server instance accepted the connection.*ECONNREFUSED/);
  });
});
