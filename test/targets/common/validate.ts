/**
 * Strict checks of pushed changes, shared by both wires: JSON types are checked, never coerced, and every name
 * must be known. A wire that renames tables or columns passes its name map, so messages quote the names the
 * client actually sent.
 */
import { badRequest } from './errors';
import { columnsFor, type Row, type SchemaVersion, TABLES } from './tables';

export interface TableChanges {
  created: Row[];
  updated: Row[];
  deleted: string[];
}

/** Contract table name → its changes, in the order the client sent the tables. */
export type Changes = Record<string, TableChanges>;

export interface NameMap {
  /** Wire table name → contract table name; undefined when the wire does not serve it. */
  table(wire: string): string | undefined;
  /** Wire column name → contract column name; undefined when unknown; null for bookkeeping fields to drop. */
  column(table: string, wire: string): string | null | undefined;
  /** Contract table name → wire name (for messages and answers). */
  wireTable(table: string): string;
  /** Contract column name → wire name. */
  wireColumn(table: string, column: string): string;
}

export const IDENTITY_NAMES: NameMap = {
  table: (w) => (Object.hasOwn(TABLES, w) ? w : undefined),
  column: (t, w) => (Object.hasOwn(TABLES[t].columns, w) ? w : undefined),
  wireTable: (t) => t,
  wireColumn: (_t, c) => c,
};

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const BUCKETS = ['created', 'updated', 'deleted'] as const;

export function validateChanges(raw: unknown, names: NameMap, version: SchemaVersion): Changes {
  if (!isPlainObject(raw)) throw badRequest('"changes" must be an object of tables');
  const out: Changes = {};
  for (const [wireTable, value] of Object.entries(raw)) {
    const table = names.table(wireTable);
    if (table === undefined) throw badRequest(`unknown table "${wireTable}"`);
    if (!isPlainObject(value)) throw badRequest(`changes.${wireTable} must be an object { created, updated, deleted }`);
    for (const key of Object.keys(value)) {
      if (!(BUCKETS as readonly string[]).includes(key)) {
        throw badRequest(`changes.${wireTable} has an unknown field "${key}"; expected created, updated, deleted`);
      }
    }
    for (const key of BUCKETS) {
      if (!Array.isArray(value[key])) throw badRequest(`changes.${wireTable}.${key} must be an array`);
    }
    const known = new Set(columnsFor(table, version));
    const seen = new Set<string>();
    const once = (id: string, where: string) => {
      if (seen.has(id)) throw badRequest(`id "${id}" appears twice in changes.${wireTable} (${where})`);
      seen.add(id);
    };
    const records = (bucket: 'created' | 'updated'): Row[] =>
      (value[bucket] as unknown[]).map((rec, i) => {
        const where = `changes.${wireTable}.${bucket}[${i}]`;
        if (!isPlainObject(rec)) throw badRequest(`${where} must be an object`);
        if (typeof rec.id !== 'string' || rec.id === '') throw badRequest(`${where}.id must be a non-empty string`);
        once(rec.id, bucket);
        const row: Row = { id: rec.id };
        for (const [wireCol, v] of Object.entries(rec)) {
          if (wireCol === 'id') continue;
          const col = names.column(table, wireCol);
          if (col === null) continue;
          if (col === undefined || !known.has(col)) {
            const hint = col !== undefined ? ` (not in schema version ${version})` : '';
            throw badRequest(`${where} has an unknown column "${wireCol}"${hint}`);
          }
          const type = TABLES[table].columns[col];
          const ok =
            v === null || (type === 'number' ? typeof v === 'number' && Number.isFinite(v) : typeof v === 'string');
          if (!ok) throw badRequest(`${where}.${wireCol} must be a ${type} or null, got ${JSON.stringify(v)}`);
          row[col] = v as string | number | null;
        }
        return row;
      });
    const created = records('created');
    const updated = records('updated');
    const deleted = (value.deleted as unknown[]).map((id, i) => {
      if (typeof id !== 'string' || id === '') {
        throw badRequest(`changes.${wireTable}.deleted[${i}] must be a non-empty string id`);
      }
      once(id, 'deleted');
      return id;
    });
    if (Object.hasOwn(out, table)) throw badRequest(`table "${wireTable}" appears twice`);
    out[table] = { created, updated, deleted };
  }
  return out;
}
