/**
 * The conflict-rules checker has its own oracle (harness/oracle/conflicts.ts). Proof: replace the
 * shared protocol/conflicts.ts resolveConflict with deliberately wrong variants, so the reference
 * model (which resolves with it, like the server and the devices do) produces histories and final
 * states that agree with the wrong rule everywhere. A checker that judged by the shared function would
 * pass them; conflict-rules must name the conflicts the bug resolved differently, and stay silent
 * when the bug never changed an outcome.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as Conflicts from '../../protocol/conflicts';
import type { SyncRecord } from '../../protocol/records';
import { columnNames, type SchemaVersion, TABLE_NAMES, type TableName } from '../../protocol/tables';
import { expectedOutcome } from '../oracle/conflicts';
import { checkConflictRules } from './conflict-rules';
import { runWorkload } from './testing/model';

type Resolve = typeof Conflicts.resolveConflict;
const actual = await vi.importActual<typeof Conflicts>('../../protocol/conflicts');

/** Plausible bugs in the shared resolver, each wrong for one table's rule. */
const BUGS: Record<string, Resolve> = {
  // daily_metrics merge lets a null client column wipe the server's value
  'null-overwrites-in-merge': (t, c, s, v) => {
    if (t !== 'daily_metrics') return actual.resolveConflict(t, c, s, v);
    const record = { ...s };
    for (const col of columnNames(t, v)) if (Object.hasOwn(c, col)) record[col] = c[col] ?? null;
    return { resolution: 'merged', record };
  },
  // goals: a tie on updated_at goes to the client (the contract gives it to the server)
  'lww-tie-to-client': (t, c, s, v) =>
    t === 'goals' && c.updated_at === s.updated_at
      ? actual.resolveConflict('users', c, s, v)
      : actual.resolveConflict(t, c, s, v),
  // activities: the client's objective columns win too (a plain client-wins)
  'activities-client-wins': (t, c, s, v) => {
    if (t !== 'activities') return actual.resolveConflict(t, c, s, v);
    const r = actual.resolveConflict('users', c, s, v);
    const record = { ...s };
    for (const col of columnNames(t, v)) if (Object.hasOwn(c, col)) record[col] = c[col] ?? null;
    return { ...r, resolution: 'merged', record };
  },
  // scheduled_workouts labelled and resolved client_wins
  'scheduled-client-wins': (t, c, s, v) =>
    t === 'scheduled_workouts' ? actual.resolveConflict('users', c, s, v) : actual.resolveConflict(t, c, s, v),
};

const state: { bug: Resolve | null; diverged: number } = { bug: null, diverged: 0 };

vi.mock('../../protocol/conflicts', async (importOriginal) => {
  const real = await importOriginal<typeof Conflicts>();
  const resolveConflict: Resolve = (t, c, s, v) => {
    const right = real.resolveConflict(t, c, s, v);
    if (!state.bug) return right;
    const wrong = state.bug(t, c, s, v);
    if (wrong.resolution !== right.resolution || !real.recordsEqual(wrong.record, right.record)) state.diverged++;
    return wrong;
  };
  return { ...real, resolveConflict };
});

afterEach(() => {
  state.bug = null;
  state.diverged = 0;
});

const workload = (seed: number) =>
  runWorkload({
    seed,
    users: 1,
    devicesPerUser: 3,
    operations: 150,
    syncProbability: 0.35,
    recordsPerTable: 1,
    mixedVersions: seed % 2 === 0,
  });

describe('conflict-rules with a wrong shared resolver', () => {
  for (const [name, bug] of Object.entries(BUGS)) {
    it(`catches ${name}`, () => {
      let caught = 0;
      for (let seed = 1; seed <= 20; seed++) {
        state.bug = bug;
        state.diverged = 0;
        const input = workload(seed).checkInput();
        const r = checkConflictRules(input);
        if (state.diverged > 0) {
          // Every history in which the bug changed an outcome is flagged, on a conflict the bug made.
          expect(r.passed, `seed ${seed}: ${state.diverged} wrong resolutions passed`).toBe(false);
          expect(r.violations[0].message).toMatch(/not resolved by the \w+ strategy/);
          caught++;
        } else expect(r.passed, `seed ${seed}: ${r.summary}`).toBe(true);
      }
      expect(caught, 'the workload never exercised the bug').toBeGreaterThan(0);
    });
  }
  it('the oracle and the shared resolver agree on the correct code', () => {
    const value = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 5 }), fc.constantFrom('a', 'b'));
    fc.assert(
      fc.property(
        fc.constantFrom(...TABLE_NAMES),
        fc.constantFrom<SchemaVersion>(1, 2),
        fc.dictionary(fc.constantFrom(...TABLE_NAMES.flatMap((t) => columnNames(t))), value),
        fc.dictionary(fc.constantFrom(...TABLE_NAMES.flatMap((t) => columnNames(t))), value),
        (table: TableName, version, c, s) => {
          const server: SyncRecord = { id: 'x' };
          for (const col of columnNames(table)) server[col] = s[col] ?? null;
          const client: SyncRecord = { id: 'x', ...c };
          const mine = expectedOutcome(table, server, client, version);
          const shared = actual.resolveConflict(table, client, server, version);
          expect(mine.resolution).toBe(shared.resolution);
          expect(actual.recordsEqual(mine.record, shared.record)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
