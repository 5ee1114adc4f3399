/**
 * Validation of incoming change sets. Every message names the exact path of the offending value and
 * what was expected, because the person reading it is debugging a client they did not write.
 * Wrong types are rejected, never coerced (coercion is one of the WatermelonDB pitfalls that loses data).
 */
import { SyncApiError } from './errors';
import type { DatabaseChanges, PushRequest, SyncRecord, TableChanges } from './records';
import {
  CURRENT_SCHEMA_VERSION,
  columnSpec,
  isSupportedSchemaVersion,
  isTableName,
  type SchemaVersion,
  SUPPORTED_SCHEMA_VERSIONS,
  TABLE_NAMES,
  type TableName,
} from './tables';

/** WatermelonDB sends these bookkeeping fields with every pushed raw record; they are not data. */
const CLIENT_BOOKKEEPING = new Set(['_status', '_changed']);
export const MAX_ID_LENGTH = 128;
export const MAX_STRING_LENGTH = 1_000_000;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string as it appears in a message: quoted and escaped, so NULs and control characters stay visible. */
export function quoted(s: string, max = 40): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why PostgreSQL's text type could not store `s` (and UTF-8 cannot encode it), or undefined when it
 * can: text holds no NUL, and a lone UTF-16 surrogate has no UTF-8 form. Checked up front so such a
 * value is a 400 naming its field, never a database error halfway through a push.
 */
export function textProblem(s: string): string | undefined {
  const nul = s.indexOf('\u0000');
  if (nul >= 0) return `contains a NUL character (\\u0000) at position ${nul}; text cannot hold NUL`;
  const m = LONE_SURROGATE.exec(s);
  if (m)
    return `contains a lone UTF-16 surrogate (\\u${m[0].charCodeAt(0).toString(16)}) at position ${m.index}; send well-formed Unicode`;
  return undefined;
}

/** A non-empty id of at most MAX_ID_LENGTH storable characters; `what` names the field in the message. */
function checkId(v: unknown, what: string, code: 'SYNC_ERR_BAD_REQUEST' | 'SYNC_ERR_WRONG_TYPE'): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_LENGTH)
    throw new SyncApiError(code, [
      `${what} must be a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${describe(v)}`,
    ]);
  const bad = textProblem(v);
  if (bad) throw new SyncApiError(code, [`${what} ${quoted(v)} ${bad}`]);
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return typeof v === 'string' ? `a string (${quoted(v)})` : `a ${typeof v}`;
}

export function validateRecord(table: TableName, raw: unknown, path: string, version: SchemaVersion): SyncRecord {
  if (!isPlainObject(raw))
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`${path} must be an object, got ${describe(raw)}`]);
  const id = checkId(raw.id, `${path}.id`, 'SYNC_ERR_WRONG_TYPE');
  const out: SyncRecord = { id };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'id' || CLIENT_BOOKKEEPING.has(key)) continue;
    const spec = columnSpec(table, key);
    if (!spec || spec.since > version) {
      const why = spec
        ? ` (column "${key}" exists only from schema version ${spec.since}; this client declared ${version})`
        : '';
      throw new SyncApiError('SYNC_ERR_UNKNOWN_COLUMN', [
        `${path} has unknown column ${quoted(key)} for table "${table}"${why}`,
      ]);
    }
    if (value === null) {
      out[key] = null;
      continue;
    }
    if (spec.type === 'number') {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new SyncApiError('SYNC_ERR_WRONG_TYPE', [
          `${path}.${key} must be a finite number or null, got ${describe(value)}`,
        ]);
      }
    } else if (typeof value !== 'string') {
      throw new SyncApiError('SYNC_ERR_WRONG_TYPE', [
        `${path}.${key} must be a string or null, got ${describe(value)}`,
      ]);
    } else if (value.length > MAX_STRING_LENGTH) {
      throw new SyncApiError('SYNC_ERR_WRONG_TYPE', [`${path}.${key} is longer than ${MAX_STRING_LENGTH} characters`]);
    } else {
      const bad = textProblem(value);
      if (bad) throw new SyncApiError('SYNC_ERR_WRONG_TYPE', [`${path}.${key} ${bad}`]);
    }
    out[key] = value;
  }
  return out;
}

function validateTableChanges(table: TableName, raw: unknown, path: string, version: SchemaVersion): TableChanges {
  if (!isPlainObject(raw))
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      `${path} must be an object with created, updated and deleted arrays, got ${describe(raw)}`,
    ]);
  for (const key of Object.keys(raw)) {
    if (key !== 'created' && key !== 'updated' && key !== 'deleted') {
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
        `${path} has unexpected key ${quoted(key)}; expected created, updated, deleted`,
      ]);
    }
  }
  const arr = (k: 'created' | 'updated' | 'deleted'): unknown[] => {
    const v = raw[k];
    if (!Array.isArray(v))
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`${path}.${k} must be an array, got ${describe(v)}`]);
    return v;
  };
  const created = arr('created').map((r, i) => validateRecord(table, r, `${path}.created[${i}]`, version));
  const updated = arr('updated').map((r, i) => validateRecord(table, r, `${path}.updated[${i}]`, version));
  const deleted = arr('deleted').map((id, i) =>
    checkId(id, `${path}.deleted[${i}] (a record id)`, 'SYNC_ERR_WRONG_TYPE'),
  );
  // The same id twice in one change set is ambiguous (which version wins?) and breaks WatermelonDB.
  const seen = new Map<string, string>();
  const note = (id: string, where: string) => {
    const prev = seen.get(id);
    if (prev)
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
        `${path}: record id ${quoted(id)} appears twice (${prev} and ${where})`,
      ]);
    seen.set(id, where);
  };
  for (const [i, r] of created.entries()) note(r.id, `created[${i}]`);
  for (const [i, r] of updated.entries()) note(r.id, `updated[${i}]`);
  for (const [i, id] of deleted.entries()) note(id, `deleted[${i}]`);
  return { created, updated, deleted };
}

export function validateChanges(raw: unknown, version: SchemaVersion, path = 'changes'): DatabaseChanges {
  if (!isPlainObject(raw))
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      `${path} must be an object keyed by table name, got ${describe(raw)}`,
    ]);
  const out: DatabaseChanges = {};
  for (const [table, tc] of Object.entries(raw)) {
    if (!isTableName(table)) throw unknownTable(table);
    out[table] = validateTableChanges(table, tc, `${path}.${table}`, version);
  }
  return out;
}

export function unknownTable(name: string): SyncApiError {
  return new SyncApiError('SYNC_ERR_UNKNOWN_TABLE', [JSON.stringify(name).slice(1, -1), TABLE_NAMES.join(', ')]);
}

/** A whole non-negative decimal integer as text: no sign, point, exponent, spaces or hex. */
const DECIMAL = /^\d{1,16}$/;

/**
 * The schema version, from a JSON number or a query/header text of digits only. A value that is
 * no integer is a 400 (the client sent garbage); an integer this server does not speak is a 412.
 */
export function parseSchemaVersion(raw: unknown, where = 'schemaVersion'): SchemaVersion {
  const v = typeof raw === 'string' && DECIMAL.test(raw) ? Number(raw) : raw;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      `${where} must be an integer (${SUPPORTED_SCHEMA_VERSIONS.join(' or ')}), got ${describe(raw)}`,
    ]);
  }
  if (!isSupportedSchemaVersion(v)) {
    throw new SyncApiError('SYNC_ERR_SCHEMA_VERSION', [
      `Schema version ${v} is not supported (supported: ${SUPPORTED_SCHEMA_VERSIONS.join(', ')}, current ${CURRENT_SCHEMA_VERSION}). Please update the app.`,
    ]);
  }
  return v;
}

const TIMESTAMP_RULE = `a non-negative integer of milliseconds no larger than ${Number.MAX_SAFE_INTEGER}`;

/** A timestamp in a JSON body: a JSON number, never a string that looks like one. */
export function parseTimestamp(raw: unknown, name: string): number {
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0) {
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      `${name} must be ${TIMESTAMP_RULE} (a JSON number: the timestamp of the last pull, 0 before the first), got ${describe(raw)}`,
    ]);
  }
  return raw;
}

/** A timestamp in the query string: required, digits only ("null", "1.5", "-1", "1e3" are errors). */
export function parseTimestampParam(raw: string | undefined, name: string): number {
  const v = raw !== undefined && DECIMAL.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(v)) {
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      raw === undefined
        ? `query parameter ${name} is required: ${TIMESTAMP_RULE} (0 for a first sync)`
        : `query parameter ${name} must be ${TIMESTAMP_RULE} (0 for a first sync), got ${quoted(raw)}`,
    ]);
  }
  return v;
}

export function parseDeviceId(raw: unknown): string {
  return checkId(raw, 'deviceId', 'SYNC_ERR_BAD_REQUEST');
}

/** The `tables` query parameter: comma-separated table names, each one known; absent = every table. */
export function parseTablesParam(raw: string | undefined): TableName[] {
  if (raw === undefined) return [...TABLE_NAMES];
  if (raw === '')
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      `query parameter tables is empty; omit it for every table or list some of: ${TABLE_NAMES.join(', ')}`,
    ]);
  const out: TableName[] = [];
  for (const t of raw.split(',')) {
    if (!isTableName(t)) throw unknownTable(t);
    if (!out.includes(t)) out.push(t);
  }
  return out;
}

/** The contract's push body, and nothing else (a strict server rejects any other key). */
const PUSH_BODY_FIELDS: ReadonlySet<string> = new Set(['changes', 'lastPulledAt', 'deviceId', 'pushId']);

export function validatePushBody(raw: unknown, version: SchemaVersion): PushRequest {
  if (!isPlainObject(raw))
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`push body must be a JSON object, got ${describe(raw)}`]);
  for (const k of Object.keys(raw)) {
    if (!PUSH_BODY_FIELDS.has(k))
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
        `push body has unexpected field ${quoted(k)}; expected ${[...PUSH_BODY_FIELDS].join(', ')}`,
      ]);
  }
  if (raw.lastPulledAt === undefined)
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      'push body is missing lastPulledAt (the timestamp of the pull just made)',
    ]);
  const pushId = raw.pushId === undefined ? undefined : checkId(raw.pushId, 'pushId', 'SYNC_ERR_BAD_REQUEST');
  return {
    changes: validateChanges(raw.changes, version),
    lastPulledAt: parseTimestamp(raw.lastPulledAt, 'lastPulledAt'),
    deviceId: parseDeviceId(raw.deviceId),
    ...(pushId !== undefined ? { pushId } : {}),
  };
}
