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

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return typeof v === 'string'
    ? `a string (${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)})`
    : `a ${typeof v}`;
}

export function validateRecord(table: TableName, raw: unknown, path: string, version: SchemaVersion): SyncRecord {
  if (!isPlainObject(raw))
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`${path} must be an object, got ${describe(raw)}`]);
  const id = raw.id;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new SyncApiError('SYNC_ERR_WRONG_TYPE', [
      `${path}.id must be a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${describe(id)}`,
    ]);
  }
  const out: SyncRecord = { id };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'id' || CLIENT_BOOKKEEPING.has(key)) continue;
    const spec = columnSpec(table, key);
    if (!spec || spec.since > version) {
      const why = spec
        ? ` (column "${key}" exists only from schema version ${spec.since}; this client declared ${version})`
        : '';
      throw new SyncApiError('SYNC_ERR_UNKNOWN_COLUMN', [
        `${path} has unknown column "${key}" for table "${table}"${why}`,
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
        `${path} has unexpected key "${key}"; expected created, updated, deleted`,
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
  const deleted = arr('deleted').map((id, i) => {
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
      throw new SyncApiError('SYNC_ERR_WRONG_TYPE', [
        `${path}.deleted[${i}] must be a non-empty record id string, got ${describe(id)}`,
      ]);
    }
    return id;
  });
  // The same id twice in one change set is ambiguous (which version wins?) and breaks WatermelonDB.
  const seen = new Map<string, string>();
  const note = (id: string, where: string) => {
    const prev = seen.get(id);
    if (prev)
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
        `${path}: record id "${id}" appears twice (${prev} and ${where})`,
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
    if (!isTableName(table)) throw new SyncApiError('SYNC_ERR_UNKNOWN_TABLE', [table, TABLE_NAMES.join(', ')]);
    out[table] = validateTableChanges(table, tc, `${path}.${table}`, version);
  }
  return out;
}

export function parseSchemaVersion(raw: unknown): SchemaVersion {
  const v = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`schemaVersion must be an integer, got ${describe(raw)}`]);
  }
  if (!isSupportedSchemaVersion(v)) {
    throw new SyncApiError('SYNC_ERR_SCHEMA_VERSION', [
      `Schema version ${v} is not supported (supported: ${SUPPORTED_SCHEMA_VERSIONS.join(', ')}, current ${CURRENT_SCHEMA_VERSION}). Please update the app.`,
    ]);
  }
  return v;
}

export function parseTimestamp(raw: unknown, name: string): number {
  const v = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
  if (v === null || v === undefined || v === 'null') return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      `${name} must be a non-negative integer of milliseconds, got ${describe(raw)}`,
    ]);
  }
  return v;
}

export function parseDeviceId(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_ID_LENGTH) {
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      `deviceId must be a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${describe(raw)}`,
    ]);
  }
  return raw;
}

/** The contract's push body, and nothing else (a strict server rejects any other key). */
const PUSH_BODY_FIELDS: ReadonlySet<string> = new Set(['changes', 'lastPulledAt', 'deviceId', 'pushId']);

export function validatePushBody(raw: unknown, version: SchemaVersion): PushRequest {
  if (!isPlainObject(raw))
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`push body must be a JSON object, got ${describe(raw)}`]);
  for (const k of Object.keys(raw)) {
    if (!PUSH_BODY_FIELDS.has(k))
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
        `push body has unexpected field "${k}"; expected ${[...PUSH_BODY_FIELDS].join(', ')}`,
      ]);
  }
  if (raw.lastPulledAt === undefined)
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      'push body is missing lastPulledAt (the timestamp of the pull just made)',
    ]);
  const pushId = raw.pushId;
  if (pushId !== undefined && (typeof pushId !== 'string' || pushId.length === 0 || pushId.length > MAX_ID_LENGTH)) {
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      `pushId must be a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${describe(pushId)}`,
    ]);
  }
  return {
    changes: validateChanges(raw.changes, version),
    lastPulledAt: parseTimestamp(raw.lastPulledAt, 'lastPulledAt'),
    deviceId: parseDeviceId(raw.deviceId),
    ...(pushId !== undefined ? { pushId: pushId as string } : {}),
  };
}
