/**
 * `defineAdapter` (the adapter file's default export) and `resolveAdapter`, which validates a
 * user's adapter field by field and fills the contract's defaults, so a mistake is reported as
 * "adapter.pull.path must start with /" before anything runs.
 */
import { SUPPORTED_SCHEMA_VERSIONS, TABLE_NAMES, type TableName } from '../../protocol/tables';
import { HarnessError } from '../config/errors';
import type { Capabilities, ParamSpec, ResolvedAdapter, TargetAdapter } from './types';

export function defineAdapter(a: TargetAdapter): TargetAdapter {
  resolveAdapter(a); // fail at definition time too, with the same messages
  return a;
}

const fail = (field: string, expected: string, got: unknown): never => {
  throw new HarnessError(
    'HRN_ERR_CONFIG',
    `adapter.${field} must be ${expected}; got ${JSON.stringify(got) ?? String(got)}`,
    'Fix the adapter file (see "Testing your own server" in the README), or run `harness probe --target URL` to write a starter one.',
  );
};

const PLACES = ['query', 'body', 'header', 'omit'];

function param(
  field: string,
  p: ParamSpec | undefined,
  dflt: Required<ParamSpec>,
  allowBody = true,
): Required<ParamSpec> {
  if (p === undefined) return dflt;
  if (!p || typeof p !== 'object') return fail(field, '{ in: "query" | "body" | "header" | "omit", name? }', p);
  if (!PLACES.includes(p.in) || (!allowBody && p.in === 'body'))
    return fail(`${field}.in`, allowBody ? 'query, body, header or omit' : 'query, header or omit', p.in);
  if (p.name !== undefined && (typeof p.name !== 'string' || !p.name))
    return fail(`${field}.name`, 'a non-empty string', p.name);
  return { in: p.in, name: p.name ?? dflt.name };
}

function statuses(field: string, s: number[] | undefined, dflt: number[]): number[] {
  if (s === undefined) return dflt;
  if (!Array.isArray(s) || !s.length || !s.every((c) => Number.isInteger(c) && c >= 200 && c < 300))
    return fail(field, 'a non-empty array of 2xx status codes', s);
  return s;
}

function path(field: string, p: string | undefined, dflt: string): string {
  if (p === undefined) return dflt;
  if (typeof p !== 'string' || !p.startsWith('/')) return fail(field, 'a path starting with /', p);
  return p;
}

const KNOWN_KEYS = [
  'name',
  'health',
  'timeUnit',
  'pull',
  'push',
  'auth',
  'tables',
  'tableNames',
  'columns',
  'capabilities',
];

export function resolveAdapter(a: TargetAdapter): ResolvedAdapter {
  if (!a || typeof a !== 'object') fail('', 'an object from defineAdapter({ … })', a);
  for (const k of Object.keys(a))
    if (!KNOWN_KEYS.includes(k)) fail(k, `one of the known fields (${KNOWN_KEYS.join(', ')})`, k);
  if (typeof a.name !== 'string' || !a.name) fail('name', 'a non-empty string', a.name);
  if (a.timeUnit !== undefined && a.timeUnit !== 'ms' && a.timeUnit !== 's')
    fail('timeUnit', '"ms" or "s"', a.timeUnit);
  const pu = a.pull ?? {};
  const ps = a.push ?? {};
  if (pu.method !== undefined && pu.method !== 'GET' && pu.method !== 'POST')
    fail('pull.method', 'GET or POST', pu.method);
  if (ps.method !== undefined && ps.method !== 'POST' && ps.method !== 'PUT')
    fail('push.method', 'POST or PUT', ps.method);
  if (pu.firstPull !== undefined && !['zero', 'null', 'absent'].includes(pu.firstPull))
    fail('pull.firstPull', '"zero", "null" or "absent"', pu.firstPull);
  if (ps.body !== undefined && ps.body !== 'envelope' && ps.body !== 'changes')
    fail('push.body', '"envelope" or "changes"', ps.body);
  if (ps.bookkeeping !== undefined && ps.bookkeeping !== 'keep' && ps.bookkeeping !== 'strip')
    fail('push.bookkeeping', '"keep" or "strip"', ps.bookkeeping);
  const pullBody = (pu.method ?? 'GET') === 'POST';
  const pushBody = ps.body !== 'changes';
  const tables = a.tables ?? [...TABLE_NAMES];
  if (!Array.isArray(tables) || !tables.length || !tables.every((t) => (TABLE_NAMES as readonly string[]).includes(t)))
    fail('tables', `a non-empty list of contract tables (${TABLE_NAMES.join(', ')})`, a.tables);
  for (const [t, n] of Object.entries(a.tableNames ?? {})) {
    if (!(TABLE_NAMES as readonly string[]).includes(t)) fail(`tableNames.${t}`, 'keyed by a contract table', t);
    if (typeof n !== 'string' || !n) fail(`tableNames.${t}`, 'a non-empty string', n);
  }
  const cols = a.columns ?? 'identity';
  if (typeof cols === 'string') {
    if (cols !== 'identity' && cols !== 'camelCase')
      fail('columns', '"identity", "camelCase", a map per table or { toTarget, fromTarget }', cols);
  } else if (!cols || typeof cols !== 'object') fail('columns', 'a map per table or { toTarget, fromTarget }', cols);
  else if ('toTarget' in cols || 'fromTarget' in cols) {
    const fns = cols as { toTarget?: unknown; fromTarget?: unknown };
    if (typeof fns.toTarget !== 'function' || typeof fns.fromTarget !== 'function')
      fail('columns', 'both toTarget(table, column) and fromTarget(table, column) functions', Object.keys(cols));
  } else {
    for (const [t, m] of Object.entries(cols)) {
      if (!(TABLE_NAMES as readonly string[]).includes(t)) fail(`columns.${t}`, 'keyed by a contract table', t);
      if (!m || typeof m !== 'object') fail(`columns.${t}`, 'a map { contractColumn: targetColumn }', m);
    }
  }
  const auth = a.auth ?? { kind: 'test-token' };
  switch (auth.kind) {
    case 'test-token':
    case 'none':
      break;
    case 'bearer':
      if (typeof auth.token !== 'string' || !auth.token)
        fail('auth.token', 'a non-empty string (or "$ENV_NAME")', auth.token);
      break;
    case 'login':
      path('auth.path', auth.path, '/');
      if (typeof auth.body !== 'function')
        fail('auth.body', 'a function ({ userId, deviceId, platform }) => body', auth.body);
      if (typeof auth.tokenField !== 'string' || !auth.tokenField)
        fail('auth.tokenField', 'a dot path like "accessToken"', auth.tokenField);
      break;
    case 'command':
      if (typeof auth.command !== 'string' || !auth.command)
        fail('auth.command', 'a shell command printing the token', auth.command);
      break;
    default:
      fail('auth.kind', '"test-token", "none", "bearer", "login" or "command"', (auth as { kind: unknown }).kind);
  }
  const multiUser = auth.kind === 'test-token' || auth.kind === 'login' || auth.kind === 'command';
  const caps: Capabilities = {
    deletes: true,
    // Reported unless the adapter says the answer has no conflicts field.
    conflictsReported: ps.conflictsField !== null,
    pokes: false,
    idempotentPush: true,
    schemaVersions: [...SUPPORTED_SCHEMA_VERSIONS],
    multiUser,
    files: false,
    ...(a.capabilities ?? {}),
  };
  for (const [k, v] of Object.entries(a.capabilities ?? {})) {
    if (k === 'schemaVersions') {
      if (!Array.isArray(v) || !v.every((n) => Number.isInteger(n)))
        fail('capabilities.schemaVersions', 'a list of integers', v);
    } else if (!(k in caps)) fail(`capabilities.${k}`, `one of ${Object.keys(caps).join(', ')}`, k);
    else if (typeof v !== 'boolean') fail(`capabilities.${k}`, 'true or false', v);
  }
  const q = (name: string) => ({ in: 'query' as const, name });
  const r: ResolvedAdapter = {
    name: a.name,
    health: { path: path('health.path', a.health?.path, '/healthz') },
    timeUnit: a.timeUnit ?? 'ms',
    pull: {
      method: pu.method ?? 'GET',
      path: path('pull.path', pu.path, '/sync/pull'),
      lastPulledAt: param('pull.lastPulledAt', pu.lastPulledAt, q('lastPulledAt'), pullBody),
      schemaVersion: param('pull.schemaVersion', pu.schemaVersion, q('schemaVersion'), pullBody),
      deviceId: param('pull.deviceId', pu.deviceId, q('deviceId'), pullBody),
      tables: param('pull.tables', pu.tables, q('tables'), pullBody),
      firstPull: pu.firstPull ?? 'zero',
      timestampField: pu.timestampField ?? 'timestamp',
      changesField: pu.changesField ?? 'changes',
      okStatus: statuses('pull.okStatus', pu.okStatus, [200]),
    },
    push: {
      method: ps.method ?? 'POST',
      path: path('push.path', ps.path, '/sync/push'),
      lastPulledAt: param('push.lastPulledAt', ps.lastPulledAt, { in: 'body', name: 'lastPulledAt' }, pushBody),
      schemaVersion: param(
        'push.schemaVersion',
        ps.schemaVersion,
        { in: 'header', name: 'x-schema-version' },
        pushBody,
      ),
      deviceId: param('push.deviceId', ps.deviceId, { in: 'body', name: 'deviceId' }, pushBody),
      pushId: param('push.pushId', ps.pushId, { in: 'body', name: 'pushId' }, pushBody),
      body: ps.body ?? 'envelope',
      okStatus: statuses('push.okStatus', ps.okStatus, [200]),
      conflictsField: ps.conflictsField === undefined ? 'conflictedRecords' : ps.conflictsField,
      timestampField: ps.timestampField === undefined ? 'timestamp' : ps.timestampField,
      bookkeeping: ps.bookkeeping ?? 'strip',
    },
    auth,
    tables: tables as TableName[],
    tableNames: a.tableNames ?? {},
    columns: cols,
    capabilities: caps,
    isContract: false,
  };
  r.isContract = isContractShape(a) || sameWire(r, resolveAdapter({ name: r.name }));
  return r;
}

/** Two resolved adapters put the same bytes on the wire (functions in auth/columns never do). */
function sameWire(x: ResolvedAdapter, y: ResolvedAdapter): boolean {
  const wire = (r: ResolvedAdapter) =>
    JSON.stringify([r.health, r.timeUnit, r.pull, r.push, r.auth, r.tables, r.tableNames, r.columns]);
  return typeof x.columns === 'string' && wire(x) === wire(y);
}

/** Only the name (and capabilities, which do not change bytes) may be set for the gateway to pass requests through untouched. */
function isContractShape(a: TargetAdapter): boolean {
  return Object.keys(a).every((k) => k === 'name' || k === 'capabilities' || k === 'health');
}
