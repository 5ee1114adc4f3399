/**
 * Test plumbing for the device suites: the real sync server on embedded PostgreSQL (through the
 * harness's own providers, so devices/ never imports server/), device contexts, and a TCP gate that
 * takes a device "offline" by cutting its connections (a pass-through, not a mock of the server).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, ScaledClock } from '../../protocol/clock';
import type { DeviceContext } from '../../protocol/device';
import type { Platform } from '../../protocol/records';
import type { SchemaVersion } from '../../protocol/tables';

export interface Gate {
  url: string;
  setOnline(online: boolean): void;
  close(): Promise<void>;
}

/**
 * Forwards TCP to `target`. Offline, it stops listening (new connections are refused, as with no
 * network) and resets the open ones; online again, it listens on the same port.
 */
export async function startGate(target: string): Promise<Gate> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(Number(t.port), t.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  let online = true;
  return {
    url: `http://127.0.0.1:${port}`,
    setOnline(v) {
      if (v === online) return;
      online = v;
      if (v) server.listen(port, '127.0.0.1');
      else {
        server.close();
        for (const s of sockets) s.destroy();
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        if (!online) return r();
        server.close(() => r());
      }),
  };
}

export interface TestEnv {
  serverUrl: string;
  /** A context for a device of `userId`, through `serverUrl` (default the server itself). */
  ctx(o: {
    userId: string;
    deviceId: string;
    schemaVersion?: SchemaVersion;
    serverUrl?: string;
    clock?: Clock;
    platform?: Platform;
  }): DeviceContext;
  /** With `objectStore`: every object in the store, with its sha256 and how many PUTs wrote it. */
  objects(): Promise<Array<{ key: string; size: number; sha256: string; writes?: number }>>;
  close(): Promise<void>;
}

/**
 * Embedded PostgreSQL by default; HARNESS_PG_URL selects `url` mode (e.g. postgres://127.0.0.1:5432/test).
 * `objectStore`: an embedded S3-compatible store behind /files/* (FIT uploads).
 */
export async function startTestEnv(opts: { objectStore?: boolean } = {}): Promise<TestEnv> {
  const { resolvePostgres } = await import('../../harness/services/postgres/index');
  const { startInProcessServer } = await import('../../harness/runner/server-process');
  const { tokenProvider } = await import('../../harness/runner/tokens');
  const root = mkdtempSync(join(tmpdir(), 'phone-test-'));
  const pgUrl = process.env.HARNESS_PG_URL;
  const pgRes = await resolvePostgres({
    mode: pgUrl ? 'url' : 'embedded',
    url: pgUrl,
    log: () => {},
  });
  const os = opts.objectStore ? await import('../../harness/services/object-store/index') : undefined;
  const store = os && (await os.resolveObjectStore('embedded', { log: () => {} }));
  const server = await startInProcessServer({
    databaseUrl: pgRes.url,
    ...(store && os ? { objectStore: os.serverObjectStoreConfig(store) } : {}),
  });
  const clock = new ScaledClock(1);
  let n = 0;
  return {
    serverUrl: server.url,
    ctx: (o) => ({
      userId: o.userId,
      deviceId: o.deviceId,
      platform: o.platform ?? 'ANDROID',
      serverUrl: o.serverUrl ?? server.url,
      getToken: tokenProvider(server.url, o.userId, o.deviceId, o.platform ?? 'ANDROID'),
      schemaVersion: o.schemaVersion ?? 2,
      clock: o.clock ?? clock,
      dataDir: join(root, `dev-${o.deviceId}-${n++}`),
      log: () => {},
    }),
    async objects() {
      if (!store || !os) throw new Error('startTestEnv({ objectStore: true }) has the store');
      return os.objectStoreView(store).list();
    },
    async close() {
      await server.close().catch(() => {});
      await store?.stop().catch(() => {});
      await pgRes.stop().catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
  };
}
