/**
 * Splitting a push that would exceed the server's body limit (RFC 0006 §5.2, 10 MB) into several
 * contract pushes. Each batch is a complete `{ changes, lastPulledAt, deviceId, pushId? }` body with
 * the same lastPulledAt: the server judges conflicts per row against it, and a row is in exactly one
 * batch, so an earlier batch never makes a later one stale. A record is never split.
 */
import { type DatabaseChanges, SYNC_BODY_LIMIT_BYTES, type TableChanges } from '../../protocol/records';
import type { TableName } from '../../protocol/tables';

const encoder = new TextEncoder();
const size = (v: unknown) => encoder.encode(JSON.stringify(v)).byteLength;

/**
 * Room for the envelope (lastPulledAt, deviceId, pushId, table keys and brackets) below the limit;
 * a batch's changes are kept under `limit - ENVELOPE_BYTES`.
 */
const ENVELOPE_BYTES = 64 * 1024;

export const PUSH_BATCH_BYTES = SYNC_BODY_LIMIT_BYTES - ENVELOPE_BYTES;

/** The changes in order (tables, then created, updated, deleted), cut before a batch would pass `maxBytes`. */
export function splitChanges(changes: DatabaseChanges, maxBytes = PUSH_BATCH_BYTES): DatabaseChanges[] {
  if (size(changes) <= maxBytes) return [changes];
  const batches: DatabaseChanges[] = [];
  let cur: DatabaseChanges = {};
  let curBytes = 2;
  // Each item costs its JSON and a comma; the first of a table in a batch also its key and arrays.
  const cost = (table: TableName, item: unknown) => size(item) + 1 + (cur[table] ? 0 : size(table) + 40);
  const put = (table: TableName, kind: keyof TableChanges, item: unknown) => {
    if (curBytes > 2 && curBytes + cost(table, item) > maxBytes) {
      batches.push(cur);
      cur = {};
      curBytes = 2;
    }
    curBytes += cost(table, item);
    cur[table] ??= { created: [], updated: [], deleted: [] };
    (cur[table][kind] as unknown[]).push(item);
  };
  for (const [table, tc] of Object.entries(changes) as Array<[TableName, TableChanges | undefined]>) {
    if (!tc) continue;
    for (const kind of ['created', 'updated', 'deleted'] as const) for (const item of tc[kind]) put(table, kind, item);
  }
  if (curBytes > 2) batches.push(cur);
  return batches;
}

/**
 * The idempotency key of batch `i` of `n`: derived from the push's own key, so a retry of the same
 * changes (split the same way) replays each batch the server already applied.
 */
export function batchPushId(pushId: string | undefined, i: number, n: number): string | undefined {
  return pushId === undefined || n === 1 ? pushId : `${pushId}#${i + 1}/${n}`;
}
