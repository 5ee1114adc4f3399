/**
 * The per-table conflict rules, stated again from sync-contract.md's table and deliberately NOT
 * through protocol/conflicts.ts: the probes judge a server by an oracle that does not share the code
 * the reference server and devices resolve with, so a mistake there cannot vouch for itself.
 */
import type { SyncRecord } from '../../../protocol/records';
import type { TableName } from '../../../protocol/tables';

/** activities: the user-entered columns the client owns (contract table). */
const SUBJECTIVE = ['rpe', 'notes', 'feeling'];

/** What the server must hold after a stale update `client` met a newer server row `server`. */
export function expectedResolution(table: TableName, server: SyncRecord, client: SyncRecord): SyncRecord {
  switch (table) {
    case 'users': // client wins
      return { ...server, ...client };
    case 'training_plans':
    case 'scheduled_workouts': // server wins
      return { ...server };
    case 'activities': {
      // objective columns from the server, subjective from the client where the client's is not null
      const out: SyncRecord = { ...server };
      for (const c of SUBJECTIVE) if (client[c] !== null && client[c] !== undefined) out[c] = client[c];
      return out;
    }
    case 'daily_metrics': {
      // every non-null client column wins, the others from the server
      const out: SyncRecord = { ...server };
      for (const [c, v] of Object.entries(client)) if (v !== null && v !== undefined) out[c] = v;
      return out;
    }
    case 'goals': {
      // last write wins by updated_at, a tie goes to the server
      const cu = Number(client.updated_at ?? 0);
      const su = Number(server.updated_at ?? 0);
      return cu > su ? { ...server, ...client } : { ...server };
    }
  }
}

export const RULE_IN_WORDS: Record<TableName, string> = {
  users: 'client wins',
  activities: 'merge: objective columns from the server, rpe/notes/feeling from the client',
  training_plans: 'server wins',
  scheduled_workouts: 'server wins',
  daily_metrics: 'merge: non-null client columns win',
  goals: 'last write wins by updated_at (tie: server)',
};

/** Columns where two records differ, ignoring `updated_at` (a server may restamp it) and bookkeeping. */
export function differingColumns(a: SyncRecord | undefined, b: SyncRecord, ignore = ['updated_at']): string[] {
  if (!a) return ['(row missing)'];
  const out: string[] = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (k.startsWith('_') || ignore.includes(k)) continue;
    if ((a[k] ?? null) !== (b[k] ?? null)) out.push(k);
  }
  return out;
}
