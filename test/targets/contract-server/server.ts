/**
 * A sync server that speaks sync-contract.md byte for byte, written from the contract alone (not from the
 * reference server), in memory. Strict where the contract is: unknown fields and query parameters, wrong JSON
 * types, unknown tables and columns all get 400; nothing is coerced.
 */
import type { IncomingMessage } from 'node:http';
import { Engine } from '../common/engine';
import { badRequest, SyncError } from '../common/errors';
import { listen, type RunningServer, readJson, type StartOptions, sendJson, Tokens } from '../common/http';
import { ALL_TABLES, SCHEMA_VERSIONS, type SchemaVersion, TABLES } from '../common/tables';
import { IDENTITY_NAMES, isPlainObject, validateChanges } from '../common/validate';

export type ContractServerOptions = StartOptions;

const PLATFORMS = ['IOS', 'ANDROID', 'WEB', 'WATCH_APPLE', 'WATCH_GARMIN'];
const PUSH_FIELDS = ['changes', 'lastPulledAt', 'deviceId', 'pushId'];
const TOKEN_FIELDS = ['userId', 'deviceId', 'platform', 'expiresInSeconds'];
const PULL_PARAMS = ['lastPulledAt', 'schemaVersion', 'deviceId', 'tables'];

export async function startContractServer(opts: ContractServerOptions = {}): Promise<RunningServer> {
  const bug = opts.bug ?? 'none';
  const engine = new Engine({ bug, mode: 'increment', perSecond: 1000 });
  const tokens = new Tokens();

  const auth = (req: IncomingMessage) => tokens.verify(req.headers.authorization).sub;

  return listen(
    opts.port ?? 0,
    async (req, res, url) => {
      const route = `${req.method} ${url.pathname}`;
      switch (route) {
        case 'GET /healthz':
          return sendJson(res, 200, { status: 'ok' });
        case 'GET /metrics': {
          const c = engine.counters;
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
          res.end(
            `sync_pulls_total ${c.pulls}\nsync_pushes_total ${c.pushes}\nsync_conflicts_total ${c.conflicts}\nsync_errors_total ${c.errors}\n`,
          );
          return;
        }
        case 'POST /auth/test-token': {
          const body = await readJson(req);
          if (!isPlainObject(body))
            throw badRequest('body must be an object { userId, deviceId, platform, expiresInSeconds? }');
          onlyFields(body, TOKEN_FIELDS, 'body');
          const userId = nonEmpty(body.userId, 'userId');
          const deviceId = nonEmpty(body.deviceId, 'deviceId');
          if (typeof body.platform !== 'string' || !PLATFORMS.includes(body.platform)) {
            throw badRequest(`platform must be one of ${PLATFORMS.join(', ')}`);
          }
          const expires = body.expiresInSeconds ?? 3600;
          if (typeof expires !== 'number' || !Number.isSafeInteger(expires)) {
            throw badRequest('expiresInSeconds must be an integer number of seconds');
          }
          engine.claimDevice(userId, deviceId);
          return sendJson(res, 200, {
            token: tokens.sign({ sub: userId, deviceId, platform: body.platform }, expires),
          });
        }
        case 'GET /sync/pull': {
          const userId = auth(req);
          const q = url.searchParams;
          for (const key of new Set(q.keys())) {
            if (!PULL_PARAMS.includes(key))
              throw badRequest(`unknown query parameter "${key}"; expected ${PULL_PARAMS.join(', ')}`);
            if (q.getAll(key).length > 1) throw badRequest(`query parameter "${key}" given twice`);
          }
          const lastPulledAt = q.get('lastPulledAt');
          if (lastPulledAt === null || !/^(0|[1-9]\d{0,15})$/.test(lastPulledAt)) {
            throw badRequest(
              `lastPulledAt must be a whole number of ms (0 for a first pull), got ${JSON.stringify(lastPulledAt)}`,
            );
          }
          const schemaVersion = schemaParam(q.get('schemaVersion'));
          const deviceId = nonEmpty(q.get('deviceId'), 'deviceId');
          const tablesParam = q.get('tables');
          let tables = ALL_TABLES;
          if (tablesParam !== null) {
            tables = tablesParam.split(',');
            for (const t of tables) if (!Object.hasOwn(TABLES, t)) throw badRequest(`unknown table "${t}" in tables`);
            if (new Set(tables).size !== tables.length) throw badRequest('a table is named twice in tables');
          }
          engine.claimDevice(userId, deviceId);
          const result = await engine.pull({
            userId,
            deviceId,
            lastPulledAt: Number(lastPulledAt),
            schemaVersion,
            tables,
          });
          return sendJson(res, 200, result);
        }
        case 'POST /sync/push': {
          const userId = auth(req);
          // The schema version is not part of the push body; a client may state it in this header.
          const header = req.headers['x-schema-version'];
          const headerVersion = header === undefined ? undefined : schemaParam(String(header));
          const body = await readJson(req);
          if (!isPlainObject(body))
            throw badRequest('body must be an object { changes, lastPulledAt, deviceId, pushId? }');
          onlyFields(body, PUSH_FIELDS, 'push body');
          if (!Object.hasOwn(body, 'changes')) throw badRequest('push body lacks "changes"');
          const { lastPulledAt, pushId } = body;
          if (typeof lastPulledAt !== 'number' || !Number.isSafeInteger(lastPulledAt) || lastPulledAt < 0) {
            throw badRequest(`lastPulledAt must be a whole number of ms, got ${JSON.stringify(lastPulledAt)}`);
          }
          const deviceId = nonEmpty(body.deviceId, 'deviceId');
          if (pushId !== undefined && (typeof pushId !== 'string' || pushId === '')) {
            throw badRequest('pushId, when given, must be a non-empty string');
          }
          engine.claimDevice(userId, deviceId);
          const version = headerVersion ?? engine.schemaOf(userId, deviceId);
          const changes = validateChanges(body.changes, IDENTITY_NAMES, version);
          const result = engine.push({ userId, deviceId, lastPulledAt, changes, pushId });
          return sendJson(res, 200, {
            success: true,
            conflictedRecords: result.conflicts,
            timestamp: result.timestamp,
          });
        }
        default:
          throw new SyncError(404, 'NOT_FOUND', `no route ${route}; see sync-contract.md "Endpoints"`);
      }
    },
    (e) => ({ error: { code: e.code, message: e.message } }),
    () => engine.counters.errors++,
  );
}

function onlyFields(body: Record<string, unknown>, allowed: string[], what: string): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw badRequest(`unknown field "${key}" in ${what}; expected ${allowed.join(', ')}`);
  }
}

function nonEmpty(v: unknown, name: string): string {
  if (typeof v !== 'string' || v === '') throw badRequest(`${name} must be a non-empty string`);
  return v;
}

function schemaParam(v: string | null): SchemaVersion {
  if (v === null || !/^\d{1,6}$/.test(v))
    throw badRequest(`schemaVersion must be a whole number, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (!(SCHEMA_VERSIONS as readonly number[]).includes(n)) {
    throw new SyncError(
      412,
      'PRECONDITION_FAILED',
      `schema version ${n} is not supported (this server accepts ${SCHEMA_VERSIONS.join(' and ')}); update the app`,
    );
  }
  return n as SchemaVersion;
}
