/**
 * The real backend for web tests and the web bench: embedded PostgreSQL plus the sync server in
 * process, and DeviceContexts pointing web devices at it. Imported only by tests and bench/ (the
 * driver itself never reaches into server/: it only knows ctx.serverUrl).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScaledClock } from '../../protocol/clock';
import type { DeviceContext } from '../../protocol/device';
import type { PullResponse } from '../../protocol/records';
import { SyncHttpClient } from '../common/sync-http';

export interface Backend {
  serverUrl: string;
  root: string;
  token(userId: string, deviceId: string): Promise<string>;
  context(userId: string, deviceId: string, opts?: { timeScale?: number; serverUrl?: string }): DeviceContext;
  /** What the server holds for a user (a fresh full pull by an observer device). */
  serverView(userId: string): Promise<PullResponse>;
  /** With `objectStore`: every object in the store, with its sha256 and how many PUTs wrote it. */
  objects(): Promise<Array<{ key: string; size: number; sha256: string; writes?: number }>>;
  close(): Promise<void>;
}

/** `objectStore`: an embedded S3-compatible store behind /files/* (FIT uploads). */
export async function startBackend(opts: { objectStore?: boolean } = {}): Promise<Backend> {
  const root = await mkdtemp(join(tmpdir(), 'sync-harness-webtest-'));
  const { resolvePostgres } = await import('../../harness/services/postgres/index');
  const pg = await resolvePostgres({ mode: 'embedded', log: () => {} });
  const { startSyncServer } = await import('../../server/index');
  const os = opts.objectStore ? await import('../../harness/services/object-store/index') : undefined;
  const store = os && (await os.resolveObjectStore('embedded', { log: () => {} }));
  let server: Awaited<ReturnType<typeof startSyncServer>>;
  try {
    server = await startSyncServer({
      databaseUrl: pg.url,
      port: 0,
      logLevel: 'silent',
      heartbeatMs: 5_000,
      ...(store && os ? { objectStore: os.serverObjectStoreConfig(store) } : {}),
    });
  } catch (e) {
    await store?.stop();
    await pg.stop();
    throw e;
  }
  const token = async (userId: string, deviceId: string) => {
    const res = await fetch(`${server.url}/auth/test-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId, deviceId, platform: 'WEB' }),
    });
    if (!res.ok) throw new Error(`test-token answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  };
  let observers = 0;
  return {
    serverUrl: server.url,
    root,
    token,
    context(userId, deviceId, opts = {}) {
      let cached: { token: string; at: number } | null = null;
      return {
        userId,
        deviceId,
        platform: 'WEB',
        serverUrl: opts.serverUrl ?? server.url,
        getToken: async () => {
          if (!cached || Date.now() - cached.at > 10 * 60_000)
            cached = { token: await token(userId, deviceId), at: Date.now() };
          return cached.token;
        },
        schemaVersion: 2,
        clock: new ScaledClock(opts.timeScale ?? 10),
        dataDir: join(root, 'devices', deviceId),
        log: (line) => {
          if (process.env.HARNESS_WEB_DEBUG) console.log(line);
        },
      };
    },
    async serverView(userId) {
      const deviceId = `observer-${userId}-${++observers}`;
      const tok = await token(userId, deviceId);
      const http = new SyncHttpClient({ baseUrl: server.url, deviceId, schemaVersion: 2, getToken: async () => tok });
      return (await http.pull(null)).body;
    },
    async objects() {
      if (!store || !os) throw new Error('startBackend({ objectStore: true }) has the store');
      return os.objectStoreView(store).list();
    },
    async close() {
      await server.close().catch(() => {});
      await store?.stop().catch(() => {});
      await pg.stop().catch(() => {});
      await rm(root, { recursive: true, force: true }).catch(() => {});
    },
  };
}
