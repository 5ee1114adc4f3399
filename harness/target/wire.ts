/**
 * Translation between the contract's wire and a target's, through a ResolvedAdapter. Pure and
 * without Node APIs: the gateway runs it per request, `harness export k6` runs the same functions
 * inside the k6 script, and the probe uses it to try candidate shapes.
 */
import type {
  ConflictRecord,
  DatabaseChanges,
  PullResponse,
  PushRequest,
  PushResponse,
  SyncRecord,
} from '../../protocol/records';
import { TABLE_NAMES, type TableName } from '../../protocol/tables';
import type { ParamSpec, ResolvedAdapter } from './types';

/** Header telling the gateway a request breaks the contract on purpose (a probe's edge case, not a harness deviation). */
export const DELIBERATE_HEADER = 'x-harness-deliberate';

/** A target answered in a way its adapter does not describe; the message names the adapter field to set. */
export class AdapterMismatch extends Error {
  readonly code = 'HRN_ERR_ADAPTER';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

export interface OutRequest {
  method: string;
  /** Path with query string. */
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

const camel = (s: string) => (s.startsWith('_') ? s : s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
const snake = (s: string) => (s.startsWith('_') ? s : s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));

export function columnToTarget(a: ResolvedAdapter, table: TableName, column: string): string {
  if (column === 'id') return column;
  const m = a.columns;
  if (m === 'identity') return column;
  if (m === 'camelCase') return camel(column);
  if ('toTarget' in m && typeof m.toTarget === 'function') return m.toTarget(table, column);
  return (m as Partial<Record<TableName, Record<string, string>>>)[table]?.[column] ?? column;
}

export function columnFromTarget(a: ResolvedAdapter, table: TableName, column: string): string {
  if (column === 'id') return column;
  const m = a.columns;
  if (m === 'identity') return column;
  if (m === 'camelCase') return snake(column);
  if ('fromTarget' in m && typeof m.fromTarget === 'function') return m.fromTarget(table, column);
  const map = (m as Partial<Record<TableName, Record<string, string>>>)[table];
  if (map) for (const [c, t] of Object.entries(map)) if (t === column) return c;
  return column;
}

export const tableToTarget = (a: ResolvedAdapter, t: TableName): string => a.tableNames[t] ?? t;
export function tableFromTarget(a: ResolvedAdapter, name: string): TableName | undefined {
  for (const t of TABLE_NAMES) if (tableToTarget(a, t) === name) return t;
  return undefined;
}

function recordTo(a: ResolvedAdapter, table: TableName, r: SyncRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (a.push.bookkeeping === 'strip' && (k === '_status' || k === '_changed')) continue;
    out[columnToTarget(a, table, k)] = v;
  }
  return out;
}

function recordFrom(a: ResolvedAdapter, table: TableName, r: unknown): SyncRecord {
  if (!r || typeof r !== 'object') return r as SyncRecord; // the device's own checks report it
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) out[columnFromTarget(a, table, k)] = v;
  return out as SyncRecord;
}

/** Contract stamp (ms) → the target's unit. Floor: an earlier lastPulledAt can only pull more or conflict more, never miss. */
export const stampToTarget = (a: ResolvedAdapter, ms: number): number =>
  a.timeUnit === 's' ? Math.floor(ms / 1000) : ms;
export const stampFromTarget = (a: ResolvedAdapter, v: number): number => (a.timeUnit === 's' ? v * 1000 : v);

class Params {
  readonly query = new URLSearchParams();
  readonly headers: Record<string, string> = {};
  readonly body: Record<string, unknown> = {};
  set(p: Required<ParamSpec>, value: unknown) {
    if (value === undefined || p.in === 'omit') return;
    if (p.in === 'query') this.query.set(p.name, String(value));
    else if (p.in === 'header') this.headers[p.name.toLowerCase()] = String(value);
    else this.body[p.name] = value;
  }
  url(path: string) {
    const q = this.query.toString();
    return q ? `${path}?${q}` : path;
  }
}

export function changesToTarget(a: ResolvedAdapter, changes: DatabaseChanges): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [t, tc] of Object.entries(changes) as Array<[TableName, NonNullable<DatabaseChanges[TableName]>]>) {
    if (!tc) continue;
    out[tableToTarget(a, t)] = {
      created: tc.created.map((r) => recordTo(a, t, r)),
      updated: tc.updated.map((r) => recordTo(a, t, r)),
      deleted: tc.deleted,
    };
  }
  return out;
}

export function changesFromTarget(a: ResolvedAdapter, raw: unknown): DatabaseChanges {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw as DatabaseChanges;
  const out: Record<string, unknown> = {};
  for (const [name, tc] of Object.entries(raw as Record<string, unknown>)) {
    const t = tableFromTarget(a, name);
    if (!t || !tc || typeof tc !== 'object') {
      out[name] = tc; // an unknown table: passed on, so the device's pull checks name it
      continue;
    }
    const c = tc as { created?: unknown; updated?: unknown; deleted?: unknown };
    out[t] = {
      created: Array.isArray(c.created) ? c.created.map((r) => recordFrom(a, t, r)) : c.created,
      updated: Array.isArray(c.updated) ? c.updated.map((r) => recordFrom(a, t, r)) : c.updated,
      deleted: c.deleted,
    };
  }
  return out as DatabaseChanges;
}

export interface PullInput {
  lastPulledAt: number | null;
  schemaVersion: number;
  deviceId: string;
  tables?: TableName[];
}

export function pullRequest(a: ResolvedAdapter, p: PullInput): OutRequest {
  const params = new Params();
  const first = p.lastPulledAt === null || p.lastPulledAt === 0;
  if (!first) params.set(a.pull.lastPulledAt, stampToTarget(a, p.lastPulledAt as number));
  else if (a.pull.firstPull === 'zero') params.set(a.pull.lastPulledAt, 0);
  else if (a.pull.firstPull === 'null')
    params.set(a.pull.lastPulledAt, a.pull.lastPulledAt.in === 'body' ? null : 'null');
  params.set(a.pull.schemaVersion, p.schemaVersion);
  params.set(a.pull.deviceId, p.deviceId);
  // Tables the target lacks are never asked for; a pull of only those is answered locally (gateway).
  const tables = (p.tables ?? []).filter((t) => a.tables.includes(t));
  if (p.tables?.length) params.set(a.pull.tables, tables.map((t) => tableToTarget(a, t)).join(','));
  const hasBody = a.pull.method === 'POST';
  return {
    method: a.pull.method,
    url: params.url(a.pull.path),
    headers: { ...params.headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
    ...(hasBody ? { body: params.body } : {}),
  };
}

function okOrExplain(a: ResolvedAdapter, which: 'pull' | 'push', status: number, body: unknown): void {
  const spec = which === 'pull' ? a.pull : a.push;
  if (spec.okStatus.includes(status)) return;
  const at = `${spec.method} ${spec.path}`;
  if (status >= 200 && status < 300)
    throw new AdapterMismatch(
      `${which} answered ${status} at ${at} (expected ${spec.okStatus.join('/')}): set adapter.${which}.okStatus: [${[...new Set([...spec.okStatus, status])].join(', ')}]`,
      `${which}.okStatus`,
    );
  if (status === 404 || status === 405)
    throw new AdapterMismatch(
      `${which} answered ${status} at ${at}: set adapter.${which}.path${status === 405 ? ` or adapter.${which}.method` : ''}`,
      `${which}.path`,
    );
  void body;
}

/** Field of an object by dot path (`data.timestamp`). */
export function field(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/**
 * The target's pull answer as the contract's. Non-2xx answers other than a wrong path or code are
 * returned as `undefined`: the gateway passes them to the device as they are (a 409 or a 500 is the
 * target's answer, not a translation problem).
 */
export function pullAnswer(
  a: ResolvedAdapter,
  status: number,
  json: unknown,
  asked?: TableName[],
): PullResponse | undefined {
  okOrExplain(a, 'pull', status, json);
  if (!a.pull.okStatus.includes(status)) return undefined;
  const keys = json && typeof json === 'object' ? Object.keys(json).join(', ') : typeof json;
  const ts = field(json, a.pull.timestampField);
  if (typeof ts !== 'number')
    throw new AdapterMismatch(
      `pull answer has no number at "${a.pull.timestampField}" (it has: ${keys}): set adapter.pull.timestampField${a.timeUnit === 'ms' ? ' (and adapter.timeUnit if it counts seconds)' : ''}`,
      'pull.timestampField',
    );
  const raw = field(json, a.pull.changesField);
  if (!raw || typeof raw !== 'object')
    throw new AdapterMismatch(
      `pull answer has no object at "${a.pull.changesField}" (it has: ${keys}): set adapter.pull.changesField`,
      'pull.changesField',
    );
  const changes = changesFromTarget(a, raw);
  // Tables the target does not serve are part of the contract's answer, empty, so clients see every table they asked for.
  for (const t of asked ?? TABLE_NAMES)
    if (!a.tables.includes(t) && !(t in changes)) changes[t] = { created: [], updated: [], deleted: [] };
  return { changes, timestamp: stampFromTarget(a, ts) };
}

export function pushRequest(a: ResolvedAdapter, req: PushRequest, schemaVersion: number): OutRequest {
  const params = new Params();
  params.set(a.push.lastPulledAt, stampToTarget(a, req.lastPulledAt));
  params.set(a.push.schemaVersion, schemaVersion);
  params.set(a.push.deviceId, req.deviceId);
  params.set(a.push.pushId, req.pushId);
  const changes = changesToTarget(a, req.changes);
  const body = a.push.body === 'changes' ? changes : { changes, ...params.body };
  return {
    method: a.push.method,
    url: params.url(a.push.path),
    headers: { ...params.headers, 'content-type': 'application/json' },
    body,
  };
}

export function pushAnswer(
  a: ResolvedAdapter,
  status: number,
  json: unknown,
  fallbackTimestamp: number,
): PushResponse | undefined {
  okOrExplain(a, 'push', status, json);
  if (!a.push.okStatus.includes(status)) return undefined;
  let conflicts: ConflictRecord[] = [];
  if (a.push.conflictsField) {
    const raw = field(json, a.push.conflictsField);
    if (raw !== undefined && raw !== null) {
      if (!Array.isArray(raw))
        throw new AdapterMismatch(
          `push answer's "${a.push.conflictsField}" is not a list of conflicts: set adapter.push.conflictsField (or null when the target does not report them)`,
          'push.conflictsField',
        );
      conflicts = raw.map((c: Record<string, unknown>) => {
        const t = tableFromTarget(a, String(c.tableName)) ?? (c.tableName as TableName);
        return {
          ...(c as unknown as ConflictRecord),
          tableName: t,
          clientRecord: recordFrom(a, t, c.clientRecord),
          serverRecord: recordFrom(a, t, c.serverRecord),
          resolvedRecord: recordFrom(a, t, c.resolvedRecord),
        };
      });
    }
  }
  const ts = a.push.timestampField ? field(json, a.push.timestampField) : undefined;
  return {
    success: true,
    conflictedRecords: conflicts,
    timestamp: typeof ts === 'number' ? stampFromTarget(a, ts) : fallbackTimestamp,
  };
}
