/**
 * Test support for the server suites: one PostgreSQL cluster per test file (embedded by default, or
 * the cluster at SYNC_TEST_DATABASE_URL), a fresh database per test, and a small typed client that
 * drives an app through `app.inject` (or real HTTP when given a base URL).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import type {
  ApiErrorBody,
  DatabaseChanges,
  PullResponse,
  PushResponse,
  SyncRecord,
  TableChanges,
} from '../protocol/records';
import type { TableName } from '../protocol/tables';
import { buildApp, type SyncServerOptions } from './app';
import { createDatabase, type PostgresMode, resolvePostgres } from './services/postgres';

export interface TestCluster {
  mode: PostgresMode;
  adminUrl: string;
  stop(): Promise<void>;
}

/** Embedded unless SYNC_TEST_DATABASE_URL names a cluster (url mode). */
export async function startCluster(mode?: 'embedded' | 'url', url?: string): Promise<TestCluster> {
  const want = mode ?? (process.env.SYNC_TEST_DATABASE_URL ? 'url' : 'embedded');
  const pg = await resolvePostgres({ mode: want, url: url ?? process.env.SYNC_TEST_DATABASE_URL, log: () => {} });
  return { mode: pg.mode, adminUrl: pg.url, stop: pg.stop };
}

export interface TestServer {
  app: FastifyInstance;
  databaseUrl: string;
  close(): Promise<void>;
}

/** One PostgreSQL cluster for the whole test file (started in beforeAll, stopped in afterAll). */
export function clusterPerFile(): Pick<TestCluster, 'adminUrl'> {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  return {
    get adminUrl() {
      if (!cluster) throw new Error('clusterPerFile: the cluster starts in beforeAll; use it inside a test');
      return cluster.adminUrl;
    },
  };
}

/**
 * One cluster, one database and one app for the whole test file, started in beforeAll and closed in
 * afterAll; tests isolate by user id (the server is multi-tenant), which keeps a small CI box fast.
 */
export function serverPerFile(opts: Partial<SyncServerOptions> = {}): TestServer {
  let cluster: TestCluster | undefined;
  let server: TestServer | undefined;
  beforeAll(async () => {
    cluster = await startCluster();
    server = await newServer(cluster, opts);
  });
  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });
  const started = () => {
    if (!server) throw new Error('serverPerFile: the server starts in beforeAll; use it inside a test');
    return server;
  };
  return {
    get app() {
      return started().app;
    },
    get databaseUrl() {
      return started().databaseUrl;
    },
    close: () => started().close(),
  };
}

export async function newServer(cluster: TestCluster, opts: Partial<SyncServerOptions> = {}): Promise<TestServer> {
  const db = await createDatabase(cluster.adminUrl);
  const app = await buildApp({ databaseUrl: db.url, logLevel: 'silent', ...opts });
  return {
    app,
    databaseUrl: db.url,
    close: async () => {
      await app.close();
      await db.drop().catch(() => {});
    },
  };
}

export interface ApiResult<T = any> {
  status: number;
  /** The parsed body: T on success, an ApiErrorBody otherwise. */
  body: T & ApiErrorBody;
  headers: Record<string, unknown>;
}

/** One device of one user talking to the server. */
export class TestDevice {
  token = '';
  lastPulledAt = 0;
  constructor(
    readonly app: FastifyInstance,
    readonly userId: string,
    readonly deviceId: string,
    readonly schemaVersion: 1 | 2 = 2,
    readonly platform = 'IOS',
  ) {}

  static async create(app: FastifyInstance, userId: string, deviceId: string, schemaVersion: 1 | 2 = 2) {
    const d = new TestDevice(app, userId, deviceId, schemaVersion);
    d.token = await issueToken(app, userId, deviceId);
    return d;
  }

  async pullRaw(lastPulledAt = this.lastPulledAt, extra = ''): Promise<ApiResult<PullResponse>> {
    const r = await this.app.inject({
      method: 'GET',
      url: `/sync/pull?lastPulledAt=${lastPulledAt}&schemaVersion=${this.schemaVersion}&deviceId=${encodeURIComponent(this.deviceId)}${extra}`,
      headers: { authorization: `Bearer ${this.token}` },
    });
    return { status: r.statusCode, body: r.json(), headers: r.headers };
  }

  /** Pulls since the last pull and advances lastPulledAt; throws on a non-200. */
  async pull(extra = ''): Promise<PullResponse> {
    const r = await this.pullRaw(this.lastPulledAt, extra);
    if (r.status !== 200) throw new Error(`pull ${r.status}: ${JSON.stringify(r.body)}`);
    this.lastPulledAt = r.body.timestamp;
    return r.body;
  }

  /** The schema version goes in the x-schema-version header, as the contract's body has no such field. */
  async pushRaw(body: Record<string, unknown>, schemaVersion?: number): Promise<ApiResult<PushResponse>> {
    const r = await this.app.inject({
      method: 'POST',
      url: '/sync/push',
      headers: {
        authorization: `Bearer ${this.token}`,
        'content-type': 'application/json',
        ...(schemaVersion !== undefined ? { 'x-schema-version': String(schemaVersion) } : {}),
      },
      payload: JSON.stringify(body),
    });
    return { status: r.statusCode, body: r.json(), headers: r.headers };
  }

  async push(changes: DatabaseChanges, extra: Record<string, unknown> = {}): Promise<PushResponse> {
    const r = await this.pushRaw(
      {
        changes,
        lastPulledAt: this.lastPulledAt,
        deviceId: this.deviceId,
        ...extra,
      },
      this.schemaVersion,
    );
    if (r.status !== 200) throw new Error(`push ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** Pull then push, as WatermelonDB's synchronize() does. */
  async sync(changes?: DatabaseChanges): Promise<{ pulled: PullResponse; pushed?: PushResponse }> {
    const pulled = await this.pull();
    const pushed = changes ? await this.push(changes) : undefined;
    return { pulled, pushed };
  }
}

export async function issueToken(
  app: FastifyInstance,
  userId: string,
  deviceId: string,
  platform = 'IOS',
  expiresInSeconds?: number,
): Promise<string> {
  const r = await app.inject({
    method: 'POST',
    url: '/auth/test-token',
    payload: { userId, deviceId, platform, ...(expiresInSeconds !== undefined ? { expiresInSeconds } : {}) },
  });
  if (r.statusCode !== 200) throw new Error(`test-token ${r.statusCode}: ${r.body}`);
  return r.json().token;
}

export function changes(table: TableName, tc: Partial<TableChanges>): DatabaseChanges {
  return { [table]: { created: tc.created ?? [], updated: tc.updated ?? [], deleted: tc.deleted ?? [] } };
}

/** Finds a record by id in a pull's `updated` list. */
export function pulledRow(p: PullResponse, table: TableName, id: string): SyncRecord | undefined {
  return p.changes[table]?.updated.find((r) => r.id === id);
}
