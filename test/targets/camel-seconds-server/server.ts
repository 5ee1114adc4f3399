/**
 * The contract's semantics behind another wire, like a hand-written WatermelonDB backend: /api paths,
 * snake_case query parameters, sync stamps in seconds, camelCase columns, 201 on push, a login endpoint, and only
 * three tables. Record time columns (updatedAt, startedAt, targetDate) stay in ms; only the sync stamps are seconds.
 */
import type { IncomingMessage } from 'node:http';
import { type ConflictRecord, Engine } from '../common/engine';
import { badRequest, SyncError } from '../common/errors';
import { listen, type RunningServer, readJson, type StartOptions, sendJson, Tokens } from '../common/http';
import { type Row, SCHEMA_VERSIONS, type SchemaVersion, TABLES } from '../common/tables';
import { isPlainObject, type NameMap, validateChanges } from '../common/validate';

const SERVED = ['activities', 'daily_metrics', 'goals'];
const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
const snakeOf = new Map(SERVED.map((t) => [t, new Map(Object.keys(TABLES[t].columns).map((c) => [camel(c), c]))]));

const CAMEL_NAMES: NameMap = {
  table: (w) => (SERVED.includes(w) ? w : undefined),
  // WatermelonDB's bookkeeping fields are dropped, as typical backends do.
  column: (t, w) => (w === '_status' || w === '_changed' ? null : snakeOf.get(t)?.get(w)),
  wireTable: (t) => t,
  wireColumn: (_t, c) => camel(c),
};

const toWire = (row: Row | null): Row | null =>
  row === null ? null : Object.fromEntries(Object.entries(row).map(([k, v]) => [camel(k), v]));

export async function startCamelSecondsServer(opts: StartOptions = {}): Promise<RunningServer> {
  const engine = new Engine({ bug: opts.bug ?? 'none', mode: 'settle', perSecond: 1 });
  const tokens = new Tokens();
  const auth = (req: IncomingMessage) => tokens.verify(req.headers.authorization).sub;
  const seconds = (v: string | null, name: string, allowNull: boolean) => {
    if (allowNull && v === 'null') return 0;
    if (v === null || !/^(0|[1-9]\d{0,12})$/.test(v)) {
      throw badRequest(`${name} must be whole seconds${allowNull ? ' or null' : ''}, got ${JSON.stringify(v)}`);
    }
    return Number(v);
  };
  const device = (v: string | null) => {
    if (!v) throw badRequest('device_id must be a non-empty string');
    return v;
  };

  return listen(
    opts.port ?? 0,
    async (req, res, url) => {
      const route = `${req.method} ${url.pathname}`;
      const q = url.searchParams;
      switch (route) {
        case 'GET /api/health':
          return sendJson(res, 200, { status: 'ok' });
        case 'POST /api/login': {
          const body = await readJson(req);
          if (!isPlainObject(body) || Object.keys(body).some((k) => k !== 'username' && k !== 'device')) {
            throw badRequest('body must be { username, device }');
          }
          if (typeof body.username !== 'string' || !body.username)
            throw badRequest('username must be a non-empty string');
          if (typeof body.device !== 'string' || !body.device) throw badRequest('device must be a non-empty string');
          engine.claimDevice(body.username, body.device);
          return sendJson(res, 200, { accessToken: tokens.sign({ sub: body.username, deviceId: body.device }, 3600) });
        }
        case 'GET /api/sync/pull': {
          const userId = auth(req);
          const lastPulledAt = seconds(q.get('last_pulled_at'), 'last_pulled_at', true);
          const v = q.get('schema_version');
          if (v === null || !/^\d{1,6}$/.test(v)) throw badRequest('schema_version must be a whole number');
          if (!(SCHEMA_VERSIONS as readonly number[]).includes(Number(v))) {
            throw new SyncError(
              412,
              'SCHEMA_UNSUPPORTED',
              `schema version ${v} is not supported (1, 2); update the app`,
            );
          }
          const deviceId = device(q.get('device_id'));
          engine.claimDevice(userId, deviceId);
          const r = await engine.pull({
            userId,
            deviceId,
            lastPulledAt,
            schemaVersion: Number(v) as SchemaVersion,
            tables: SERVED,
          });
          const changes = Object.fromEntries(
            Object.entries(r.changes).map(([t, c]) => [
              t,
              { created: [], updated: c.updated.map(toWire), deleted: c.deleted },
            ]),
          );
          return sendJson(res, 200, { changes, lastPulledAt: r.timestamp });
        }
        case 'POST /api/sync/push': {
          const userId = auth(req);
          const lastPulledAt = seconds(q.get('last_pulled_at'), 'last_pulled_at', false);
          const deviceId = device(q.get('device_id'));
          const body = await readJson(req);
          if (!isPlainObject(body) || Object.keys(body).some((k) => k !== 'changes') || !('changes' in body)) {
            throw badRequest('body must be exactly { changes }');
          }
          engine.claimDevice(userId, deviceId);
          const changes = validateChanges(body.changes, CAMEL_NAMES, engine.schemaOf(userId, deviceId));
          const r = engine.push({ userId, deviceId, lastPulledAt, changes });
          const conflicts = r.conflicts.map((c: ConflictRecord) => ({
            ...c,
            clientRecord: toWire(c.clientRecord),
            serverRecord: toWire(c.serverRecord),
            resolvedRecord: toWire(c.resolvedRecord),
          }));
          return sendJson(res, 201, { conflicts });
        }
        default:
          throw new SyncError(404, 'NOT_FOUND', `no route ${route}`);
      }
    },
    (e) => ({ message: e.message, code: e.code }),
  );
}
