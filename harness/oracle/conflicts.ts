/**
 * The per-table conflict rules, stated again from RFC 0006 §2.6's table and sync-contract.md, and
 * deliberately NOT through protocol/conflicts.ts (nor the `strategy` field of protocol/tables.ts):
 * the server, the phone, the web client and the virtual users all resolve with that shared code, so
 * a checker or probe judging with it would let a mistake there vouch for itself. The conflict-rules
 * checker and the @target conflict probes judge by this oracle instead. Only the schema (which
 * columns exist at which schema version) is taken from protocol/tables.ts.
 */
import type { Resolution, SyncRecord, Value } from '../../protocol/records';
import { columnNames, type SchemaVersion, type TableName } from '../../protocol/tables';

/** activities: the user-entered columns the client owns (contract table: rpe, notes, feeling). */
const SUBJECTIVE = ['rpe', 'notes', 'feeling'];

export interface OracleOutcome {
  resolution: Resolution;
  /** What the server must hold after the conflict (every column of the server row, resolved). */
  record: SyncRecord;
}

const present = (v: unknown) => v !== null && v !== undefined;

/**
 * The conflict outcome when a stale update `client` (pushed by a client of schema `version`) met a
 * newer server row `server`. A v1 client never touches v2 columns (contract: "its pushes leave v2
 * columns untouched"), so only the columns its version knows count as sent.
 */
export function expectedOutcome(
  table: TableName,
  server: SyncRecord,
  client: SyncRecord,
  version: SchemaVersion = 2,
): OracleOutcome {
  const known = new Set(columnNames(table, version));
  const sent = Object.entries(client).filter(([c]) => known.has(c));
  const withClient = (cols: Array<[string, unknown]>): SyncRecord => {
    const out: SyncRecord = { ...server };
    for (const [c, v] of cols) out[c] = (v ?? null) as Value;
    return out;
  };
  switch (table) {
    case 'users': // client wins: the user's profile is authoritative
      return { resolution: 'client_wins', record: withClient(sent) };
    case 'training_plans': // server wins: Brain-generated
    case 'scheduled_workouts': // server wins: plan-derived
      return { resolution: 'server_wins', record: { ...server } };
    case 'activities': // merge: objective from the server, subjective from the client where not null
      return {
        resolution: 'merged',
        record: withClient(sent.filter(([c, v]) => SUBJECTIVE.includes(c) && present(v))),
      };
    case 'daily_metrics': // merge: every non-null client column wins, the others from the server
      return { resolution: 'merged', record: withClient(sent.filter(([, v]) => present(v))) };
    case 'goals': {
      // last write wins by updated_at; a tie, or a client without a time, goes to the server
      const cu = client.updated_at;
      const su = server.updated_at;
      const clientNewer = typeof cu === 'number' && (typeof su !== 'number' || cu > su);
      return clientNewer
        ? { resolution: 'client_wins', record: withClient(sent) }
        : { resolution: 'server_wins', record: { ...server } };
    }
  }
}

/** What the server must hold after a stale update `client` met a newer server row `server`. */
export function expectedResolution(table: TableName, server: SyncRecord, client: SyncRecord): SyncRecord {
  return expectedOutcome(table, server, client).record;
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
