/**
 * Missed conflicts (blind overwrite): for every table, device A pulls, device B changes a row and is
 * acknowledged, then A pushes its own edit of that row with the older lastPulledAt. The server must
 * resolve by the table's rule (harness/oracle/conflicts.ts); a server that overwrites blindly keeps A's stale values.
 * With `conflictsReported`, the push answer must also list the conflict.
 */
import type { SyncRecord } from '../../../protocol/records';
import type { TableName } from '../../../protocol/tables';
import { differingColumns, expectedResolution, RULE_IN_WORDS } from '../../oracle/conflicts';
import type { ScenarioContext } from '../../runner/scenario';
import { created, probeId, said, sampleRow, serverRow, updated } from './kit';

/** B's (newer, acknowledged) and A's (stale) edits of one row, chosen so each table's rule gives a result that differs from a blind overwrite. */
const EDITS: Record<TableName, { b: Partial<SyncRecord>; a: Partial<SyncRecord> }> = {
  users: { b: { name: 'from-b' }, a: { name: 'from-a' } },
  activities: { b: { distance_m: 6000, notes: 'from-b' }, a: { distance_m: 5000, notes: 'from-a' } },
  training_plans: { b: { weeks: 12 }, a: { weeks: 99 } },
  scheduled_workouts: { b: { title: 'from-b' }, a: { title: 'from-a' } },
  daily_metrics: { b: { hrv_ms: 70, steps: 222 }, a: { hrv_ms: null, steps: 111 } },
  goals: { b: { status: 'from-b', updated_at: 3_000 }, a: { status: 'from-a', updated_at: 2_000 } },
};

export async function probeConflicts(ctx: ScenarioContext, user = 'prober'): Promise<void> {
  const a = ctx.client(user, 'conflict-a');
  const b = ctx.client(user, 'conflict-b');
  for (const table of ctx.tables) {
    const id = probeId(ctx, `cf-${table.slice(0, 4)}`);
    const base = sampleRow(table, id, 1);
    const a0 = await a.pull(0);
    const made = await a.push({ [table]: created([base]) }, a0.body?.timestamp ?? 0);
    const aPull = await a.pull(a0.body?.timestamp ?? 0);
    const bPull = await b.pull(0);
    if (!made.body || !aPull.body || !bPull.body) {
      ctx.check('conflict-detection', 'every stale push was resolved by its table rule', [
        {
          table,
          id,
          message: `could not set up the race on ${table}: create ${said(made)}`,
          historyIndexes: [made.index],
        },
      ]);
      continue;
    }
    const rowB = { ...base, ...EDITS[table].b } as SyncRecord;
    const pushB = await b.push({ [table]: updated([rowB]) }, bPull.body.timestamp);
    const rowA = { ...base, ...EDITS[table].a } as SyncRecord;
    // A's lastPulledAt predates B's acknowledged write: a conflict by the contract's definition.
    const pushA = await a.push({ [table]: updated([rowA]) }, aPull.body.timestamp);
    const final = await serverRow(b, table, id);
    const expected = expectedResolution(table, rowB, rowA);
    const wrong = differingColumns(final, expected);
    const at = [pushB.index, pushA.index];
    if (!pushB.body || !pushA.body) {
      ctx.check('conflict-detection', 'every stale push was resolved by its table rule', [
        {
          table,
          id,
          message: `a push of the race on ${table} failed: B ${said(pushB)}, A ${said(pushA)}`,
          historyIndexes: at,
        },
      ]);
      continue;
    }
    const blind = wrong.length > 0 && differingColumns(final, rowA).length === 0;
    ctx.check(
      'conflict-detection',
      'every stale push was resolved by its table rule',
      wrong.length
        ? [
            {
              table,
              id,
              historyIndexes: at,
              message: blind
                ? `missed conflict (blind overwrite) on ${table}: ${a.name} pushed ${table}/${id} with lastPulledAt ${aPull.body.timestamp}, older than ${b.name}'s acknowledged write (history #${pushB.index}), and the server kept the stale values; the rule "${RULE_IN_WORDS[table]}" gives ${wrong.map((c) => `${c}=${JSON.stringify(expected[c])}`).join(', ')}`
                : `wrong conflict resolution on ${table}/${id}: columns ${wrong.join(', ')} are ${wrong.map((c) => JSON.stringify(final?.[c])).join(', ')}, the rule "${RULE_IN_WORDS[table]}" gives ${wrong.map((c) => JSON.stringify(expected[c])).join(', ')}`,
            },
          ]
        : [],
    );
    if (ctx.target && !ctx.target.capabilities.conflictsReported) continue;
    const listed = pushA.body.conflictedRecords?.some((c) => c.tableName === table && c.id === id);
    ctx.check(
      'conflict-reporting',
      'every conflict the server resolved was listed in the push answer',
      listed
        ? []
        : [
            {
              table,
              id,
              historyIndexes: [pushA.index],
              message: `the stale push of ${table}/${id} (history #${pushA.index}) answered without listing its conflict in conflictedRecords`,
            },
          ],
    );
  }
}
