/**
 * `startCluster`: N real reference-server processes on one PostgreSQL behind the front. Writes made
 * through any instance are visible through every other, a poke crosses instances, and killing one
 * instance keeps the service answering with nothing acknowledged lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, resolvePostgres } from '../services/postgres/index';
import { type RunningCluster, startCluster } from './server-cluster';

let pg: Awaited<ReturnType<typeof resolvePostgres>>;
let db: { url: string; drop(): Promise<void> };
let cluster: RunningCluster;

beforeAll(async () => {
  const url = process.env.SYNC_TEST_DATABASE_URL;
  pg = await resolvePostgres({ mode: url ? 'url' : 'embedded', url, log: () => {} });
  db = await createDatabase(pg.url);
  cluster = await startCluster({ databaseUrl: db.url, instances: 2 });
}, 120_000);

afterAll(async () => {
  await cluster?.close();
  await db?.drop().catch(() => {});
  await pg?.stop();
});

async function token(userId: string, deviceId: string): Promise<string> {
  const r = await fetch(`${cluster.url}/auth/test-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, deviceId, platform: 'IOS' }),
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { token: string }).token;
}

class Client {
  lastPulledAt = 0;
  constructor(
    readonly deviceId: string,
    readonly tok: string,
  ) {}
  /** One request; a 502 (instance died mid-request, outcome unknown) is re-sent once, as a device would. */
  private async send(path: string, init?: RequestInit): Promise<Response> {
    const go = () =>
      fetch(`${cluster.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${this.tok}`, 'content-type': 'application/json' },
      });
    const r = await go();
    return r.status === 502 ? go() : r;
  }
  async pull(): Promise<Record<string, { updated: Array<{ id: string }> }>> {
    const r = await this.send(`/sync/pull?lastPulledAt=${this.lastPulledAt}&schemaVersion=2&deviceId=${this.deviceId}`);
    expect(r.status).toBe(200);
    const j = (await r.json()) as { changes: Record<string, { updated: Array<{ id: string }> }>; timestamp: number };
    this.lastPulledAt = j.timestamp;
    return j.changes;
  }
  async pushGoal(id: string, pushId: string): Promise<void> {
    const changes = {
      goals: {
        created: [
          {
            id,
            kind: 'distance',
            title: id,
            target_value: 1,
            target_date: null,
            status: 'active',
            updated_at: Date.now(),
          },
        ],
        updated: [],
        deleted: [],
      },
    };
    const r = await this.send('/sync/push', {
      method: 'POST',
      body: JSON.stringify({ changes, lastPulledAt: this.lastPulledAt, deviceId: this.deviceId, pushId }),
    });
    expect(r.status, await r.clone().text()).toBe(200);
  }
}

describe('a cluster of reference servers', () => {
  it('serves one consistent dataset through every instance', async () => {
    const a = new Client('cl-a', await token('cl-u1', 'cl-a'));
    const b = new Client('cl-b', await token('cl-u1', 'cl-b'));
    await a.pull();
    await b.pull();
    for (let i = 0; i < 6; i++) {
      await a.pull();
      await a.pushGoal(`g-${i}`, `cl-a-${i}`);
    }
    const seen = (await b.pull()).goals!.updated.map((r) => r.id).sort();
    expect(seen).toEqual(['g-0', 'g-1', 'g-2', 'g-3', 'g-4', 'g-5']);
    const per = cluster.frontStats().perUpstream;
    expect(per.every((n) => n > 0)).toBe(true);
  });

  it('pokes a subscriber whichever instance took the push', async () => {
    const tok = await token('cl-u2', 'cl-sub');
    const pusher = new Client('cl-pusher', await token('cl-u2', 'cl-pusher'));
    await pusher.pull();
    const ctrl = new AbortController();
    const res = await fetch(`${cluster.url}/sync/events?deviceId=cl-sub`, {
      headers: { authorization: `Bearer ${tok}` },
      signal: ctrl.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const poked = (async () => {
      let text = '';
      while (!/"tables"/.test(text)) {
        const c = await reader.read();
        if (c.done) break;
        text += new TextDecoder().decode(c.value);
      }
      return text;
    })();
    // Two pushes go to two different instances (round-robin): at least one is not the subscriber's.
    await pusher.pushGoal('poke-1', 'cl-p-1');
    await pusher.pull();
    await pusher.pushGoal('poke-2', 'cl-p-2');
    expect(await poked).toMatch(/goals/);
    ctrl.abort();
  });

  it('keeps answering while one instance is killed, and loses no acknowledged write', async () => {
    const a = new Client('cl-k', await token('cl-u3', 'cl-k'));
    await a.pull();
    const before = cluster.frontStats().perUpstream[1]!;
    await cluster.crash(0);
    const acked: string[] = [];
    for (let i = 0; i < 8; i++) {
      await a.pull();
      await a.pushGoal(`k-${i}`, `cl-k-${i}`);
      acked.push(`k-${i}`);
    }
    expect(cluster.frontStats().perUpstream[1]! - before).toBeGreaterThanOrEqual(16);
    await cluster.restart(0);
    const fresh = new Client('cl-k2', await token('cl-u3', 'cl-k2'));
    const ids = (await fresh.pull()).goals!.updated.map((r) => r.id).sort();
    expect(ids).toEqual(acked.sort());
  });
});

describe('harness serve --instances', () => {
  it('prints the front URL and serves health through it until stopped', async () => {
    const { runClusterServe } = await import('./serve-cluster');
    const lines: string[] = [];
    const ctrl = new AbortController();
    let serving!: Promise<void>;
    const ready = new Promise<string>((resolve) => {
      serving = runClusterServe({
        instances: 2,
        services: 'url',
        databaseUrl: db.url,
        print: (l) => lines.push(l),
        signal: ctrl.signal,
        onReady: (c) => resolve(c.url),
      });
    });
    const url = await ready;
    expect(lines[0]).toBe(`listening on ${url}`);
    expect(lines[1]).toMatch(/2 instances: http:\/\/127\.0\.0\.1:\d+, http:\/\/127\.0\.0\.1:\d+/);
    for (let i = 0; i < 2; i++) expect((await fetch(`${url}/healthz`)).status).toBe(200);
    ctrl.abort();
    await serving;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
