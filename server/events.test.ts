/**
 * Pokes over SSE fanned out through LISTEN/NOTIFY: a push on one server process reaches subscribers
 * on another process of the same database. The second server is a child process started the way the
 * harness starts it (server/main.ts --database-url), which also covers its kill -9 / restart path.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../harness/services/postgres/index';
import { type StartedSyncServer, startSyncServer } from './app';
import { startCluster, type TestCluster } from './test-helpers';

const here = dirname(fileURLToPath(import.meta.url));
let cluster: TestCluster;
let db: { url: string; drop(): Promise<void> };
let s1: StartedSyncServer;
let child: { proc: ChildProcess; url: string; port: number } | undefined;

/** Starts server/main.ts as a child process and waits for its listening line. */
function spawnServer(databaseUrl: string, port = 0): Promise<{ proc: ChildProcess; url: string; port: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(here, 'main.ts'),
        '--port',
        String(port),
        '--database-url',
        databaseUrl,
        '--log-level',
        'warn',
      ],
      { cwd: join(here, '..'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`child server did not start: ${err}`)), 60_000);
    proc.stderr!.on('data', (d) => {
      err += d;
    });
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1]!, port: Number(m[2]) });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child server exited with ${code}: ${err}`));
    });
  });
}

function killChild(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const c = child;
  child = undefined;
  if (!c || c.proc.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    c.proc.once('exit', () => resolve());
    c.proc.kill(signal);
  });
}

async function token(base: string, userId: string, deviceId: string): Promise<string> {
  const r = await fetch(`${base}/auth/test-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, deviceId, platform: 'WEB' }),
  });
  return ((await r.json()) as { token: string }).token;
}

/** Opens an SSE stream and collects its raw frames. */
async function subscribe(base: string, tok: string, deviceId: string) {
  const ctrl = new AbortController();
  const res = await fetch(`${base}/sync/events?deviceId=${deviceId}`, {
    headers: { authorization: `Bearer ${tok}`, accept: 'text/event-stream' },
    signal: ctrl.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const frames: string[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let i = buf.indexOf('\n\n');
        while (i >= 0) {
          frames.push(buf.slice(0, i));
          buf = buf.slice(i + 2);
          i = buf.indexOf('\n\n');
        }
      }
    } catch {
      /* aborted */
    }
  })();
  const pokes = () =>
    frames
      .filter((f) => f.includes('data:'))
      .map((f) =>
        JSON.parse(
          f
            .split('\n')
            .find((l) => l.startsWith('data:'))!
            .slice(5),
        ),
      );
  return { frames, pokes, close: () => ctrl.abort() };
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function push(base: string, tok: string, body: unknown) {
  const r = await fetch(`${base}/sync/push`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as any };
}

async function pull(base: string, tok: string, deviceId: string, since = 0) {
  const r = await fetch(`${base}/sync/pull?lastPulledAt=${since}&schemaVersion=2&deviceId=${deviceId}`, {
    headers: { authorization: `Bearer ${tok}` },
  });
  return (await r.json()) as any;
}

beforeAll(async () => {
  cluster = await startCluster();
  db = await createDatabase(cluster.adminUrl);
  s1 = await startSyncServer({ databaseUrl: db.url, logLevel: 'silent', heartbeatMs: 200 });
  child = await spawnServer(db.url);
});
afterAll(async () => {
  await killChild();
  await s1?.close();
  await db?.drop();
  await cluster?.stop();
});

describe('events', () => {
  it('a push on server 2 pokes the user’s other devices subscribed on server 1, not the pusher or other users', async () => {
    const tA = await token(s1.url, 'ev-user', 'ev-a');
    const tB = await token(s1.url, 'ev-user', 'ev-b');
    const tX = await token(s1.url, 'ev-other', 'ev-x');
    const b = await subscribe(s1.url, tB, 'ev-b');
    const a = await subscribe(s1.url, tA, 'ev-a');
    const x = await subscribe(s1.url, tX, 'ev-x');
    await waitFor(() => s1.app.sync.hub.subscriberCount() === 3);
    const p = await pull(child!.url, tA, 'ev-a');
    const res = await push(child!.url, tA, {
      changes: { goals: { created: [{ id: 'g1', title: 't' }], updated: [], deleted: [] } },
      lastPulledAt: p.timestamp,
      deviceId: 'ev-a',
    });
    expect(res.status).toBe(200);
    await waitFor(() => b.pokes().length === 1);
    expect(b.pokes()[0]).toEqual({ tables: ['goals'], timestamp: res.body.timestamp, sourceDeviceId: 'ev-a' });
    // heartbeats keep the stream alive
    await waitFor(() => b.frames.some((f) => f.startsWith(': heartbeat')));
    await new Promise((r) => setTimeout(r, 300));
    expect(a.pokes()).toEqual([]);
    expect(x.pokes()).toEqual([]);
    // listeners are removed when clients disconnect
    a.close();
    b.close();
    x.close();
    await waitFor(() => s1.app.sync.hub.subscriberCount() === 0);
  });

  it('the child server survives kill -9 and restarts on the same port and database', async () => {
    const port = child!.port;
    const tA = await token(child!.url, 'crash-user', 'crash-a');
    const p = await pull(child!.url, tA, 'crash-a');
    await push(child!.url, tA, {
      changes: { goals: { created: [{ id: 'keep', title: 'k' }], updated: [], deleted: [] } },
      lastPulledAt: p.timestamp,
      deviceId: 'crash-a',
    });
    await killChild('SIGKILL');
    child = await spawnServer(db.url, port);
    expect(child.port).toBe(port);
    const after = await pull(child.url, tA, 'crash-a');
    expect(after.changes.goals.updated.map((r: { id: string }) => r.id)).toEqual(['keep']);
  });
});
