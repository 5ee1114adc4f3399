/**
 * Slow and stalled clients over real sockets (issue #18): stalled requests are closed within the
 * configured deadlines while normal syncs go on, one address cannot take every connection, and
 * client mistakes are logged below error level in lines with a single `msg`.
 */
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { startSyncServer } from './app';
import { createDatabase } from './services/postgres';
import { clusterPerFile } from './test-helpers';

const cluster = clusterPerFile();

function open(port: number, first: string): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      if (first) socket.write(first);
      // Flowing, so the server's FIN is read and 'close' follows (a paused socket never sees it).
      socket.resume();
      const t0 = performance.now();
      const closed = new Promise<number>((r) => socket.once('close', () => r(performance.now() - t0)));
      resolve({ socket, closed });
    });
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

async function token(url: string, userId: string, deviceId: string): Promise<string> {
  const r = await fetch(`${url}/auth/test-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, deviceId, platform: 'IOS' }),
  });
  return ((await r.json()) as { token: string }).token;
}

async function syncOnce(url: string, tok: string, deviceId: string, id: string): Promise<void> {
  const h = { authorization: `Bearer ${tok}` };
  const pull = await fetch(`${url}/sync/pull?lastPulledAt=0&schemaVersion=2&deviceId=${deviceId}`, { headers: h });
  expect(pull.status).toBe(200);
  const { timestamp } = (await pull.json()) as { timestamp: number };
  const push = await fetch(`${url}/sync/push`, {
    method: 'POST',
    headers: { ...h, 'content-type': 'application/json', 'x-schema-version': '2' },
    body: JSON.stringify({
      changes: { goals: { created: [{ id, title: id }], updated: [], deleted: [] } },
      lastPulledAt: timestamp,
      deviceId,
    }),
  });
  expect(push.status, await push.clone().text()).toBe(200);
}

it('50 stalled connections are closed within the configured deadlines while a normal sync works', async () => {
  const db = await createDatabase(cluster.adminUrl);
  const limits = { headersTimeoutMs: 800, requestTimeoutMs: 1200, idleTimeoutMs: 1500, keepAliveTimeoutMs: 500 };
  const server = await startSyncServer({ databaseUrl: db.url, logLevel: 'silent', limits });
  try {
    const stalls = [
      '', // connects, sends nothing
      'POST /sync/push HTTP/1.1\r\nHost: x\r\nContent-Ty', // half the headers
      'POST /sync/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"chan', // headers, then part of the body
    ];
    const conns = await Promise.all(Array.from({ length: 50 }, (_, i) => open(server.port, stalls[i % 3]!)));
    const tok = await token(server.url, 'stall-user', 'stall-dev');
    await syncOnce(server.url, tok, 'stall-dev', 'during-stall');
    const waited = await Promise.all(conns.map((c) => c.closed));
    // Generous ceiling: the longest deadline plus Node's checking interval and a loaded CI box.
    expect(Math.max(...waited)).toBeLessThan(limits.idleTimeoutMs + 5_000);
    await syncOnce(server.url, tok, 'stall-dev', 'after-stall');
  } finally {
    await server.close();
    await db.drop().catch(() => {});
  }
});

it('a body trickled byte by byte is cut at the request deadline', async () => {
  const db = await createDatabase(cluster.adminUrl);
  const limits = { headersTimeoutMs: 500, requestTimeoutMs: 1000, idleTimeoutMs: 60_000 };
  const server = await startSyncServer({ databaseUrl: db.url, logLevel: 'silent', limits });
  try {
    const c = await open(
      server.port,
      'POST /sync/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n',
    );
    let answer = '';
    c.socket.on('data', (d) => {
      answer += d.toString();
    });
    const drip = setInterval(() => c.socket.writable && c.socket.write(' '), 100);
    const took = await c.closed;
    clearInterval(drip);
    expect(took).toBeLessThan(limits.requestTimeoutMs + 5_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  } finally {
    await server.close();
    await db.drop().catch(() => {});
  }
});

it('connections beyond maxConnectionsPerIp are closed at once, and the slots free up again', async () => {
  const db = await createDatabase(cluster.adminUrl);
  const server = await startSyncServer({
    databaseUrl: db.url,
    logLevel: 'silent',
    limits: { maxConnectionsPerIp: 5, idleTimeoutMs: 60_000, requestTimeoutMs: 60_000, headersTimeoutMs: 60_000 },
  });
  try {
    const held = await Promise.all(Array.from({ length: 5 }, () => open(server.port, '')));
    const extra = await open(server.port, '');
    await extra.closed; // refused: closed by the server although the deadlines are a minute away
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    const h = await fetch(`${server.url}/healthz`);
    expect(h.status).toBe(200);
  } finally {
    await server.close();
    await db.drop().catch(() => {});
  }
});

it('client mistakes and 501s are logged at info with the reason; no line has two msg keys', async () => {
  const db = await createDatabase(cluster.adminUrl);
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const server = await startSyncServer({ databaseUrl: db.url, logLevel: 'info', logStream });
  try {
    const tok = await token(server.url, 'log-user', 'log-dev');
    const h = { authorization: `Bearer ${tok}` };
    expect((await fetch(`${server.url}/sync/pull?lastPulledAt=null&deviceId=log-dev`, { headers: h })).status).toBe(
      400,
    );
    expect((await fetch(`${server.url}/sync/pull?lastPulledAt=0`)).status).toBe(401);
    const f = await fetch(`${server.url}/files/upload-url`, {
      method: 'POST',
      headers: { ...h, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(f.status).toBe(501);
  } finally {
    await server.close();
    await db.drop().catch(() => {});
  }
  const rejected = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request rejected');
  expect(rejected.map((l) => l.status).sort()).toEqual([400, 401, 501]);
  for (const l of rejected) expect(l.level).toBe(30);
  expect(rejected.find((l) => l.status === 400)?.reason).toMatch(/lastPulledAt must be/);
  for (const l of lines) expect(l.match(/"msg":/g)?.length ?? 0, l).toBeLessThanOrEqual(1);
  expect(lines.some((l) => JSON.parse(l).level >= 50)).toBe(false);
});
