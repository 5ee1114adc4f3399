/**
 * The Fastify sync server (sync-contract.md). `buildApp` gives an app for `app.inject` tests;
 * `startSyncServer` also listens. Everything a request can get wrong maps to one entry of
 * protocol/errors.ts, so clients always see `{ error: { code, message } }`, never a bare 500.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import compress from '@fastify/compress';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type pg from 'pg';
import { SYNC_ERRORS, SyncApiError, type SyncErrorCode } from '../protocol/errors';
import { SYNC_BODY_LIMIT_BYTES, SYNC_COMPRESS_THRESHOLD_BYTES, type TableChanges } from '../protocol/records';
import { CURRENT_SCHEMA_VERSION, isTableName, type SchemaVersion, type TableName } from '../protocol/tables';
import {
  parseDeviceId,
  parseSchemaVersion,
  parseTablesParam,
  parseTimestampParam,
  unknownTable,
  validateChanges,
  validatePushBody,
} from '../protocol/validate';
import { Maintenance } from './admin/maintenance';
import { registerAdminRoutes } from './admin/routes';
import { Auth, DEFAULT_TEST_SECRET, parseTokenRequest, type TokenClaims } from './auth';
import { type BrokenMode, carriesPoison, parseBrokenModes } from './broken';
import { boundConnectionsPerIp, type ConnectionLimits, checkingIntervalMs, resolveLimits } from './connection-limits';
import { registerRequestDigest, registerResponseDigest } from './content-digest';
import { createPool, databaseUnavailable, untilDatabaseAnswers } from './db';
import { PokeHub } from './events';
import type { ObjectStoreConfig } from './files/object-store';
import { registerFileRoutes } from './files/routes';
import { createMetrics, type SyncMetrics, type SyncPhase } from './metrics';
import { PoolGate } from './pool-gate';
import { normaliseContentEncoding, registerStrictJson, strictQuery } from './request-parsing';
import { RetryWatch } from './retry-watch';
import { migrate } from './schema';
import { type Actor, SyncStore } from './store';

export type { BrokenMode } from './broken';
export { type ConnectionLimits, DEFAULT_LIMITS } from './connection-limits';

export interface SyncServerOptions {
  databaseUrl: string;
  host?: string;
  /** 0 = a random free port. */
  port?: number;
  jwtSecret?: string;
  /** Enables POST /auth/test-token and broken modes. Default true (the harness always runs in test mode). */
  testMode?: boolean;
  /** Deliberate rule violations for checker tests (test mode only); also env SYNC_SERVER_BROKEN=a,b. */
  broken?: BrokenMode[];
  /** pino level; default env SYNC_SERVER_LOG_LEVEL or 'info'. */
  logLevel?: string;
  /** S3-compatible store for FIT uploads (server/files); without one the /files endpoints answer 501. */
  objectStore?: ObjectStoreConfig;
  /** SSE heartbeat period (ms), default 15000. */
  heartbeatMs?: number;
  /** Max pool connections, default env SYNC_SERVER_POOL_SIZE or DEFAULT_POOL_SIZE. */
  poolSize?: number;
  /**
   * Under overload, a sync's push gets the next free connection before new pulls (server/pool-gate.ts);
   * default true unless env SYNC_SERVER_PUSH_FIRST=0 (one FIFO queue).
   */
  pushFirst?: boolean;
  /** Where pino writes (default stdout): a stream, or a pino destination. */
  logStream?: { write(line: string): unknown };
  /** Timeouts and the per-address connection bound (server/connection-limits.ts DEFAULT_LIMITS). */
  limits?: Partial<ConnectionLimits>;
  /** sync_log retention in days (RFC §7; default 90): an hourly job deletes older rows. */
  retentionDays?: number;
  /** Start in maintenance mode (RFC §3.4): sync routes answer 503 with Retry-After until switched off. */
  maintenance?: { retryAfterSeconds?: number };
  /** How long start-up waits for a database that is down or recovering (ms, default 60000). */
  databaseWaitMs?: number;
}

/**
 * Max pool connections unless poolSize or env SYNC_SERVER_POOL_SIZE says otherwise: 4 per core,
 * 4..20. More backends than the cores can run only queue inside PostgreSQL, and every round trip of
 * a push (under the user's lock) waits behind them: on 2 cores, 20 connections held the lock 11.4 ms
 * per push, 8 held it 4.0 ms at the same throughput (bench/README.md). Sized for a database on the
 * same machine; one elsewhere may want more.
 */
export const DEFAULT_POOL_SIZE = Math.min(20, Math.max(4, 4 * availableParallelism()));

function poolSizeFromEnv(): number | undefined {
  const v = process.env.SYNC_SERVER_POOL_SIZE;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new Error(`SYNC_SERVER_POOL_SIZE must be an integer 1..1000, got "${v}"`);
  return n;
}

export const BODY_LIMIT = SYNC_BODY_LIMIT_BYTES;
export const LISTEN_BACKLOG = 4096;
export const DEFAULT_RETENTION_DAYS = 90;
export const DEFAULT_DATABASE_WAIT_MS = 60_000;
export const COMPRESS_THRESHOLD = SYNC_COMPRESS_THRESHOLD_BYTES;

declare module 'fastify' {
  interface FastifyInstance {
    sync: {
      pool: pg.Pool;
      store: SyncStore;
      auth: Auth;
      hub: PokeHub;
      metrics: SyncMetrics;
      broken: ReadonlySet<BrokenMode>;
      maintenance: Maintenance;
    };
  }
}

/** Trace id: the caller's x-request-id, else the trace-id part of a W3C traceparent, else a new one. */
function traceIdOf(req: { headers: Record<string, string | string[] | undefined> }): string {
  const rid = req.headers['x-request-id'];
  if (typeof rid === 'string' && /^[\w.:-]{1,128}$/.test(rid)) return rid;
  const tp = req.headers.traceparent;
  if (typeof tp === 'string') {
    const m = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/i.exec(tp.trim());
    if (m) return m[1]!.toLowerCase();
  }
  return randomUUID().replace(/-/g, '');
}

/** Maps anything thrown during a request to a SyncApiError (the single error table). */
export function toSyncError(err: unknown, traceId: string, contentType?: string): SyncApiError {
  if (err instanceof SyncApiError) return err;
  const e = err as FastifyError & { decompressError?: unknown; status?: number };
  const code = typeof e?.code === 'string' ? e.code : '';
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SyncApiError('SYNC_ERR_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new SyncApiError('SYNC_ERR_UNSUPPORTED_MEDIA', [
        `Content-Type ${contentType ? `"${contentType}"` : '(missing)'} is not supported; send the body as JSON with "Content-Type: application/json".`,
      ]);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new SyncApiError('SYNC_ERR_BAD_JSON', ['the body is empty but Content-Type is application/json']);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new SyncApiError('SYNC_ERR_BAD_JSON', [msg]);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new SyncApiError('SYNC_ERR_BAD_REQUEST', ['Content-Length does not match the body that was sent']);
    case 'FST_ERR_BAD_URL':
      return new SyncApiError('SYNC_ERR_BAD_REQUEST', [`the URL is not valid: ${msg}`]);
    case 'FST_CP_ERR_INVALID_CONTENT_ENCODING':
      return new SyncApiError('SYNC_ERR_UNSUPPORTED_MEDIA', [
        `${msg}; send gzip, deflate, identity or an uncompressed body`,
      ]);
    case 'FST_CP_ERR_INVALID_CONTENT':
      return new SyncApiError('SYNC_ERR_BAD_ENCODING', [
        `${msg} (Content-Encoding says it is compressed, but it is not valid)`,
      ]);
  }
  if (e?.decompressError || /^Z_/.test(code)) return new SyncApiError('SYNC_ERR_BAD_ENCODING', [msg]);
  if (err instanceof SyntaxError && (e as { statusCode?: number }).statusCode === 400) {
    return new SyncApiError('SYNC_ERR_BAD_JSON', [msg]);
  }
  if (e?.validation) return new SyncApiError('SYNC_ERR_BAD_REQUEST', [msg]);
  const status = e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return new SyncApiError('SYNC_ERR_TOO_LARGE');
    if (status === 415) return new SyncApiError('SYNC_ERR_UNSUPPORTED_MEDIA', [msg]);
    return new SyncApiError('SYNC_ERR_BAD_REQUEST', [msg]);
  }
  // A database that is down or restarting is a 503 the client retries, not an internal error. Its
  // SQLSTATE says so whatever the wording: crash recovery after an immediate shutdown refuses with
  // 57P03 "not yet accepting connections", which no message pattern below matched (it answered 500).
  if (
    databaseUnavailable(err) ||
    /ECONNREFUSED|ECONNRESET|terminating connection|Connection terminated|timeout exceeded when trying to connect|the database system is (starting up|shutting down)/i.test(
      msg,
    )
  ) {
    return new SyncApiError('SYNC_ERR_UNAVAILABLE', ['The database is unavailable; retry with backoff.']);
  }
  return new SyncApiError('SYNC_ERR_INTERNAL', [traceId]);
}

/** The query parameters each endpoint takes (sync-contract.md); any other is a 400. */
const PULL_PARAMS = ['lastPulledAt', 'schemaVersion', 'deviceId', 'tables'] as const;
const PUSH_PARAMS = ['schemaVersion'] as const;
const EVENTS_PARAMS = ['deviceId'] as const;

export async function buildApp(opts: SyncServerOptions): Promise<FastifyInstance> {
  const testMode = opts.testMode ?? true;
  const broken = new Set<BrokenMode>([...(opts.broken ?? []), ...parseBrokenModes(process.env.SYNC_SERVER_BROKEN)]);
  if (broken.size > 0 && !testMode) {
    throw new Error(`broken modes (${[...broken].join(', ')}) are only allowed in test mode`);
  }
  const secret = opts.jwtSecret ?? process.env.SYNC_JWT_SECRET ?? (testMode ? DEFAULT_TEST_SECRET : undefined);
  if (!secret) throw new Error('jwtSecret (or SYNC_JWT_SECRET) is required when testMode is false');

  const limits = resolveLimits(opts.limits);
  const app = Fastify({
    logger: {
      level: opts.logLevel ?? process.env.SYNC_SERVER_LOG_LEVEL ?? 'info',
      base: { service: 'sync-server' },
      ...(opts.logStream ? { stream: opts.logStream } : {}),
    },
    bodyLimit: BODY_LIMIT,
    genReqId: (req) => traceIdOf(req),
    logController: new LogController({ requestIdLogLabel: 'traceId', disableRequestLogging: true }),
    forceCloseConnections: true,
    connectionTimeout: limits.idleTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(limits),
    },
    // No route may coerce: a schema added later validates types, it never turns "123" into 123.
    ajv: { customOptions: { coerceTypes: false } },
  });
  boundConnectionsPerIp(app.server, limits.maxConnectionsPerIp, (address) =>
    app.log.warn({ address, max: limits.maxConnectionsPerIp }, 'connection refused: too many from this address'),
  );

  const pool = createPool(opts.databaseUrl, opts.poolSize ?? poolSizeFromEnv() ?? DEFAULT_POOL_SIZE);
  try {
    await untilDatabaseAnswers(
      () => migrate(pool),
      opts.databaseWaitMs ?? DEFAULT_DATABASE_WAIT_MS,
      (e, attempt) => app.log.warn({ reason: e.message, attempt }, 'database not reachable at start; retrying'),
    );
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }
  const metrics = createMetrics();
  const phase = (p: SyncPhase, ms: number) => metrics.phase.observe({ phase: p }, ms / 1000);
  const gate = new PoolGate(pool.options.max, opts.pushFirst ?? process.env.SYNC_SERVER_PUSH_FIRST !== '0');
  const store = new SyncStore(pool, { broken, phase, gate });
  const auth = new Auth(secret, pool);
  const hub = new PokeHub(opts.databaseUrl, app.log, opts.heartbeatMs ?? 15_000);
  await hub.start();
  const retries = new RetryWatch();
  // Retention job (RFC §7: sync history kept 90 days): hourly, and once at start; unref'd timers.
  const retentionDays = opts.retentionDays ?? DEFAULT_RETENTION_DAYS;
  const prune = () =>
    Promise.all([store.pruneSyncLog(retentionDays), store.prunePushResults()])
      .then(
        ([n, p]) =>
          (n || p) && app.log.info({ deleted: n, retentionDays, pushResultsDeleted: p }, 'retention: old rows deleted'),
      )
      .catch((e) => app.log.warn({ reason: (e as Error).message }, 'retention failed; retried next hour'));
  const retention = setInterval(prune, 3_600_000);
  retention.unref();
  const firstRun = setTimeout(prune, 1_000);
  firstRun.unref();
  app.addHook('onClose', async () => {
    clearInterval(retention);
    clearTimeout(firstRun);
  });
  const maintenance = new Maintenance();
  if (opts.maintenance) maintenance.set(true, opts.maintenance.retryAfterSeconds);
  app.decorate('sync', { pool, store, auth, hub, metrics, broken, maintenance });
  app.addHook('onClose', async () => {
    await hub.close();
    await store.flush();
    await pool.end().catch(() => {});
  });
  if (broken.size > 0)
    app.log.warn({ broken: [...broken] }, 'BROKEN MODES ENABLED: this server violates the sync contract on purpose');

  // --- cross-cutting hooks -------------------------------------------------------------------
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-trace-id', req.id);
    normaliseContentEncoding(req.headers);
    const closed = maintenance.refusal(req.url.split('?')[0]!);
    if (closed) {
      metrics.errors.inc({ code: closed.code });
      req.log.warn({ code: closed.code, url: req.url.split('?')[0] }, 'request refused: maintenance');
      return reply
        .code(closed.status)
        .header('retry-after', String(maintenance.get().retryAfterSeconds))
        .send(closed.toBody());
    }
  });
  // Registered before compress so it sees the uncompressed payload size.
  app.addHook('onSend', async (req, _reply, payload) => {
    const route = req.routeOptions.url ?? 'unknown';
    const size =
      typeof payload === 'string' ? Buffer.byteLength(payload) : Buffer.isBuffer(payload) ? payload.length : 0;
    if (size) metrics.bytes.inc({ route, direction: 'out' }, size);
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    metrics.duration.observe({ route, method: req.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    const len = Number(req.headers['content-length']);
    if (len > 0) metrics.bytes.inc({ route, direction: 'in' }, len);
    req.log.info(
      {
        method: req.method,
        url: req.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  // Before compress: its preParsing (route level) inflates, and the digest is over the bytes as sent.
  registerRequestDigest(app, BODY_LIMIT);
  await app.register(compress, {
    global: true,
    threshold: COMPRESS_THRESHOLD,
    // Level 1: a 100 KB pull compresses in 0.8 ms instead of 1.9 ms (level 6), 7.1 KB instead of
    // 5.9 KB on the wire (bench/README.md); the CPU is the server's, the kilobyte the phone's.
    zlibOptions: { level: 1 },
    // Up to 1 MB in one gzipSync call, answered with its Content-Length. The plugin's default on 2
    // cores is 8 KB, so every pull above the 10 KB threshold went through a gzip stream (a Readable
    // over the string, a zlib stream on the threadpool, a chunked reply): more JS than the
    // compression itself (86 KB takes 0.2 ms at level 1). A bigger body still streams, so one huge
    // first sync never holds the event loop for long.
    syncThreshold: 1024 * 1024,
    encodings: ['gzip', 'deflate'],
    requestEncodings: ['gzip', 'deflate'],
  });
  registerResponseDigest(app);

  // The API speaks JSON only: a text/plain body gets 415 with a hint instead of a confusing 400.
  app.removeContentTypeParser('text/plain');
  registerStrictJson(app, BODY_LIMIT);

  app.setErrorHandler((err, req, reply) => {
    const e = toSyncError(err, String(req.id), req.headers['content-type']);
    metrics.errors.inc({ code: e.code });
    // Only a bug of ours is an error; a client's mistake (4xx), a route this server lacks (501) and
    // a database restart (503) are not. The reason is `reason`, never a second `msg` key.
    if (e.code === 'SYNC_ERR_INTERNAL') req.log.error({ err }, 'request failed');
    else if (e.code === 'SYNC_ERR_UNAVAILABLE') req.log.warn({ code: e.code, reason: e.message }, 'request failed');
    else req.log.info({ code: e.code, status: e.status, reason: e.message }, 'request rejected');
    void reply.code(e.status).send(e.toBody());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new SyncApiError('SYNC_ERR_NOT_FOUND', [
      `No route ${req.method} ${req.url.split('?')[0]}; see server/README.md for the endpoints.`,
    ]);
    metrics.errors.inc({ code: e.code });
    void reply.code(404).send(e.toBody());
  });

  // --- auth ------------------------------------------------------------------------------------
  /** Verifies the token, checks the request's device id against it, binds the device to the user. */
  async function authenticate(req: FastifyRequest, deviceIdOf?: () => string | undefined): Promise<Actor> {
    const started = performance.now();
    const claims: TokenClaims = await auth.verify(req.headers.authorization);
    const requestDeviceId = deviceIdOf?.();
    if (requestDeviceId !== undefined && requestDeviceId !== claims.deviceId) {
      throw new SyncApiError('SYNC_ERR_FORBIDDEN', [
        `deviceId "${requestDeviceId}" does not match the token's device "${claims.deviceId}"; use the token issued for this device.`,
      ]);
    }
    await auth.bindDevice(claims);
    phase('auth', performance.now() - started);
    return { userId: claims.userId, deviceId: claims.deviceId, platform: claims.platform, traceId: String(req.id) };
  }

  /** From the query, else the x-schema-version header, else the device's last one, else the current. */
  async function schemaVersionOf(req: FastifyRequest, query: Record<string, string>, actor: Actor) {
    if (query.schemaVersion !== undefined)
      return parseSchemaVersion(query.schemaVersion, 'query parameter schemaVersion');
    const h = req.headers['x-schema-version'];
    if (h !== undefined) return parseSchemaVersion(h, 'header x-schema-version');
    return parseSchemaVersion((await store.deviceSchemaVersion(actor)) ?? CURRENT_SCHEMA_VERSION);
  }

  // --- routes ------------------------------------------------------------------------------------
  app.get('/healthz', async (_req, reply) => {
    try {
      await pool.query('SELECT 1');
      return {
        status: 'ok',
        db: 'ok',
        events: hub.listening ? 'listening' : 'reconnecting',
        subscribers: hub.subscriberCount(),
      };
    } catch (e) {
      return reply
        .code(503)
        .send(
          new SyncApiError('SYNC_ERR_UNAVAILABLE', [
            `database check failed: ${e instanceof Error ? e.message : String(e)}`,
          ]).toBody(),
        );
    }
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  if (testMode) {
    registerAdminRoutes(app, { maintenance, store, retentionDays });
    app.post('/auth/test-token', async (req) => {
      const t = parseTokenRequest(req.body);
      // The contract binds the device when its token is issued: a device id already owned by
      // another user gets no token at all (403), rather than a token that fails on first use.
      await auth.bindDevice(t);
      return { token: await auth.issue(t, t.expiresInSeconds) };
    });
  }

  app.get('/sync/pull', async (req, reply) => {
    const query = strictQuery(req.url, PULL_PARAMS);
    const actor = await authenticate(req, () =>
      query.deviceId === undefined ? undefined : parseDeviceId(query.deviceId),
    );
    const started = performance.now();
    try {
      const lastPulledAt = parseTimestampParam(query.lastPulledAt, 'lastPulledAt');
      const version = await schemaVersionOf(req, query, actor);
      const tables = parseTablesParam(query.tables);
      const { body, recordCount } = await store.pull(actor, { lastPulledAt, version, tables });
      metrics.records.inc({ route: 'pull' }, recordCount);
      retries.pulled(req.log, actor, lastPulledAt, recordCount);
      reply.header('content-type', 'application/json; charset=utf-8');
      return body;
    } catch (e) {
      await store.logFailure(actor, 'PULL', e instanceof Error ? e.message : String(e), performance.now() - started);
      retries.failed(req.log, actor, 'PULL', e instanceof SyncApiError ? e.code : 'error');
      throw e;
    }
  });

  app.post('/sync/push', async (req) => {
    const query = strictQuery(req.url, PUSH_PARAMS);
    const raw = req.body;
    const body = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
    const actor = await authenticate(req, () =>
      body.deviceId === undefined ? undefined : parseDeviceId(body.deviceId),
    );
    const started = performance.now();
    try {
      const version: SchemaVersion = await schemaVersionOf(req, query, actor);
      let result: Awaited<ReturnType<SyncStore['push']>>;
      if (broken.has('split-push-transactions') && typeof body.changes === 'object' && body.changes !== null) {
        // Broken: validate the envelope now and each table only when its turn comes.
        const env = validatePushBody({ ...body, changes: {} }, version);
        const rawChanges = body.changes as Record<string, unknown>;
        for (const t of Object.keys(rawChanges)) {
          if (!isTableName(t)) throw unknownTable(t);
        }
        const validateTable = (t: TableName, tc: unknown): TableChanges => validateChanges({ [t]: tc }, version)[t]!;
        result = await store.push(actor, { ...env, changes: {}, version, rawChanges, validateTable });
      } else {
        const tValidate = performance.now();
        const push = validatePushBody(raw, version);
        phase('push_validate', performance.now() - tValidate);
        // Broken: a valid push fails as a server bug would, on every retry of it.
        if (broken.has('poison-push') && carriesPoison(push.changes))
          throw new Error('broken mode poison-push: a record carries "poison"');
        result = await store.push(actor, {
          changes: push.changes,
          lastPulledAt: push.lastPulledAt,
          version,
          pushId: push.pushId,
        });
      }
      if (!result.replayed) {
        for (const c of result.response.conflictedRecords)
          metrics.conflicts.inc({ table: c.tableName, resolution: c.resolution });
      }
      retries.pushed(actor);
      return result.response;
    } catch (e) {
      await store.logFailure(actor, 'PUSH', e instanceof Error ? e.message : String(e), performance.now() - started);
      retries.failed(req.log, actor, 'PUSH', e instanceof SyncApiError ? e.code : 'error');
      throw e;
    }
  });

  app.get('/sync/events', async (req, reply: FastifyReply) => {
    const query = strictQuery(req.url, EVENTS_PARAMS);
    const actor = await authenticate(req, () =>
      query.deviceId === undefined ? undefined : parseDeviceId(query.deviceId),
    );
    reply.hijack();
    // A stream is quiet between heartbeats by design; the idle timeout is for stalled requests.
    req.raw.socket.setTimeout(0);
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-trace-id': String(req.id),
    });
    res.write(': connected\n\n');
    hub.subscribe(actor.userId, actor.deviceId, res);
    req.log.info({ userId: actor.userId, deviceId: actor.deviceId }, 'events: subscribed');
  });

  await registerFileRoutes(app, { pool, objectStore: opts.objectStore, authenticate: (req) => authenticate(req) });

  return app;
}

export interface StartedSyncServer {
  url: string;
  port: number;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startSyncServer(opts: SyncServerOptions): Promise<StartedSyncServer> {
  const app = await buildApp(opts);
  const host = opts.host ?? '127.0.0.1';
  try {
    // Node's default accept backlog is 511: when 900 devices connect at once (a reconnect storm at
    // 1000 VUs) the accept queue reached 833 (ss -ltn) while a loaded event loop drained it, and past
    // 511 the kernel drops the SYNs (TcpExtListenDrops), so each of those clients waits 1 s, then
    // 3 s, for its retransmission. The kernel caps this at net.core.somaxconn.
    await app.listen({ host, port: opts.port ?? 0, backlog: LISTEN_BACKLOG });
  } catch (e) {
    await app.close().catch(() => {});
    throw e;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    app,
    close: () => {
      closed ??= app.close();
      return closed;
    },
  };
}

/** Exposed for tests and docs: every code the API can answer with. */
export const ERROR_CODES = Object.keys(SYNC_ERRORS) as SyncErrorCode[];
