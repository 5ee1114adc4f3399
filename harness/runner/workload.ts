/**
 * The seeded random workload (Jepsen's generator). Each device's operation list is drawn up front
 * from its own fork of the seed, so the same seed gives the same operations whatever the timing;
 * only their interleaving across devices depends on the machine.
 */
import type { SyncRecord } from '../../protocol/records';
import { columnsFor, type SchemaVersion, TABLE_NAMES, type TableName } from '../../protocol/tables';
import type { Rng } from './rng';
import type { RandomWorkload } from './scenario';

export type PlannedOp =
  | { kind: 'create'; table: TableName; id: string; values: Omit<SyncRecord, 'id'> }
  | { kind: 'update'; table: TableName; id: string; values: Omit<SyncRecord, 'id'> }
  | { kind: 'delete'; table: TableName; id: string }
  | { kind: 'sync' }
  | { kind: 'think'; ms: number };

const WORDS = ['easy', 'tempo', 'long', 'hill', 'recovery', 'interval', 'race', 'base', 'threshold', 'fartlek'];

/** A value of the right type for a column (updated_at is set by the device clock at write time). */
export function randomValue(
  rng: Rng,
  table: TableName,
  column: string,
  type: 'number' | 'string',
): string | number | null {
  if (column === 'date')
    return `2026-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`;
  if (column === 'hr_zones' || column === 'pace_zones')
    return JSON.stringify([rng.int(100, 120), rng.int(121, 140), rng.int(141, 160), rng.int(161, 180)]);
  if (type === 'number') {
    if (column === 'rpe' || column === 'readiness' || column === 'soreness') return rng.int(1, 10);
    if (column.endsWith('_at') || column.endsWith('_date')) return 1_760_000_000_000 + rng.int(0, 10_000_000) * 1000;
    return rng.int(0, 100_000);
  }
  if (column === 'sport') return rng.pick(['run', 'ride', 'swim', 'strength']);
  if (column === 'status') return rng.pick(['active', 'done', 'paused']);
  return `${rng.pick(WORDS)} ${rng.pick(WORDS)} ${rng.int(1, 999)}`;
}

export function randomRecordValues(
  rng: Rng,
  table: TableName,
  version: SchemaVersion,
  partial: boolean,
): Omit<SyncRecord, 'id'> {
  const cols = columnsFor(table, version).filter((c) => c.name !== 'updated_at');
  const chosen = partial ? rng.shuffle(cols).slice(0, rng.int(1, Math.min(3, cols.length))) : cols;
  const out: Record<string, string | number | null> = {};
  for (const c of chosen) {
    // Some nulls, so the merge strategies' "non-null wins" paths are exercised.
    out[c.name] = !partial && rng.chance(0.1) ? null : randomValue(rng, table, c.name, c.type);
  }
  return out;
}

/** The shared pool of record ids of one user: seeded before the random phase so every device knows them. */
export function seedIds(
  rng: Rng,
  user: string,
  perTable: number,
  tables: readonly TableName[] = TABLE_NAMES,
): Array<{ table: TableName; id: string }> {
  const out: Array<{ table: TableName; id: string }> = [];
  for (const table of tables)
    for (let i = 0; i < perTable; i++)
      out.push({ table, id: `${table.slice(0, 3)}-${user}-s${i}-${rng.int(0, 1e6).toString(36)}` });
  return out;
}

export function planDeviceOps(
  rng: Rng,
  deviceId: string,
  version: SchemaVersion,
  w: RandomWorkload,
  pool: Array<{ table: TableName; id: string }>,
): PlannedOp[] {
  const tables = w.tables ?? Object.fromEntries(TABLE_NAMES.map((t) => [t, 1]));
  const mix = { create: 3, update: 5, delete: 1, ...w.mix };
  const known = [...pool];
  const ops: PlannedOp[] = [];
  let n = 0;
  for (let i = 0; i < w.opsPerDevice; i++) {
    const table = rng.weighted(tables as Record<TableName, number>);
    const candidates = known.filter((k) => k.table === table);
    const kind =
      candidates.length === 0 ? 'create' : rng.weighted(mix as Record<'create' | 'update' | 'delete', number>);
    if (kind === 'create') {
      const id = `${table.slice(0, 3)}-${deviceId}-${++n}-${rng.int(0, 1e9).toString(36)}`;
      ops.push({ kind, table, id, values: randomRecordValues(rng, table, version, false) });
      known.push({ table, id });
    } else if (kind === 'update') {
      ops.push({ kind, table, id: rng.pick(candidates).id, values: randomRecordValues(rng, table, version, true) });
    } else {
      ops.push({ kind, table, id: rng.pick(candidates).id });
    }
    if (rng.chance(w.syncProbability ?? 0.2)) ops.push({ kind: 'sync' });
    const [lo, hi] = w.thinkMs ?? [0, 50];
    if (hi > 0) ops.push({ kind: 'think', ms: rng.int(lo, hi) });
  }
  ops.push({ kind: 'sync' });
  return ops;
}
