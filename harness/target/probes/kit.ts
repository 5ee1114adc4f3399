/** What every probe shares: a stale/fresh pair of clients, sample rows per table, reading a user's server view. */
import type { DatabaseChanges, SyncRecord, TableChanges } from '../../../protocol/records';
import { columnsFor, type TableName } from '../../../protocol/tables';
import type { ScenarioContext } from '../../runner/scenario';
import type { ProbeAnswer, ProbeClient } from '../probe-client';

/** Ids unique per run on a target (its data outlives runs), deterministic per seed on ours. */
export function probeId(ctx: ScenarioContext, prefix: string): string {
  return ctx.id(`${prefix}${ctx.target ? `-${Date.now().toString(36)}` : ''}`);
}

/** A complete valid row of `table`, every column set, values derived from `n`. */
export function sampleRow(table: TableName, id: string, n = 1): SyncRecord {
  const r: SyncRecord = { id };
  for (const c of columnsFor(table)) {
    if (c.name === 'updated_at') r[c.name] = 1_000 + n;
    else if (c.name === 'date') r[c.name] = `2026-11-${String(10 + (n % 18)).padStart(2, '0')}`;
    else if (c.name.endsWith('_zones')) r[c.name] = JSON.stringify([n, n + 1]);
    else r[c.name] = c.type === 'number' ? 10 + n : `${c.name}-${n}`;
  }
  return r;
}

export const created = (rows: SyncRecord[]): TableChanges => ({ created: rows, updated: [], deleted: [] });
export const updated = (rows: SyncRecord[]): TableChanges => ({ created: [], updated: rows, deleted: [] });
export const deleted = (ids: string[]): TableChanges => ({ created: [], updated: [], deleted: ids });

/** The row as the user sees it on the server now (a full pull), or undefined. */
export async function serverRow(c: ProbeClient, table: TableName, id: string): Promise<SyncRecord | undefined> {
  const p = await c.pull(0, { tables: [table] });
  const tc = p.body?.changes?.[table];
  return [...(tc?.updated ?? []), ...(tc?.created ?? [])].find((r) => r.id === id);
}

export async function fullView(
  c: ProbeClient,
): Promise<{ answer: ProbeAnswer<unknown>; rows: Map<string, SyncRecord> }> {
  const p = await c.pull(0);
  const rows = new Map<string, SyncRecord>();
  for (const [t, tc] of Object.entries((p.body?.changes ?? {}) as DatabaseChanges))
    for (const r of [...(tc?.updated ?? []), ...(tc?.created ?? [])]) rows.set(`${t}/${r.id}`, r);
  return { answer: p, rows };
}

/** "answered 500: …" for a finding. */
export const said = (a: ProbeAnswer<unknown>) =>
  a.status ? `answered ${a.status}${a.error ? `: ${a.error}` : ''}` : `failed: ${a.error}`;
