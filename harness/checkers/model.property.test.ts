/**
 * Property tests: a correct sequential model of the contract (testing/model.ts) must always pass every
 * checker; mutating its final state the way real bugs do must make a checker fail.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SyncRecord } from '../../protocol/records';
import { columnNames, type TableName } from '../../protocol/tables';
import { analyse, runCheckers } from '.';
import { prng, runWorkload, type WorkloadOptions } from './testing/model';
import type { CheckInput } from './types';

const config = (faults: boolean) =>
  fc.record({
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    users: fc.integer({ min: 1, max: 2 }),
    devicesPerUser: fc.integer({ min: 1, max: 3 }),
    operations: fc.integer({ min: 10, max: 120 }),
    syncProbability: fc.double({ min: 0.1, max: 0.6, noNaN: true }),
    recordsPerTable: fc.integer({ min: 1, max: 4 }),
    mixedVersions: fc.boolean(),
    faults: fc.constant(faults),
  }) as fc.Arbitrary<WorkloadOptions>;

const failing = (input: CheckInput, names?: string[]) =>
  runCheckers(input, names)
    .filter((r) => !r.passed)
    .map((r) => r.name);

/** Deep-enough copy of the final state so mutations do not touch the model. */
function clone(input: CheckInput): CheckInput {
  const copyTables = (t: Record<string, SyncRecord[] | undefined>) =>
    Object.fromEntries(Object.entries(t).map(([k, rows]) => [k, (rows ?? []).map((r) => ({ ...r }))]));
  return {
    ...input,
    serverState: Object.fromEntries(Object.entries(input.serverState).map(([u, t]) => [u, copyTables(t)])),
    devices: input.devices.map((d) => ({ ...d, snapshot: copyTables(d.snapshot) })),
  };
}

/** Apply `f` to the record in the server state and in every device snapshot of the user. */
function everywhere(input: CheckInput, user: string, table: TableName, f: (rows: SyncRecord[]) => SyncRecord[]) {
  const s = input.serverState[user] as Record<string, SyncRecord[]>;
  s[table] = f(s[table] ?? []);
  for (const d of input.devices) {
    if (d.user !== user) continue;
    const snap = d.snapshot as Record<string, SyncRecord[]>;
    snap[table] = f(snap[table] ?? []);
  }
}

describe('reference model', () => {
  it('histories of a correct model pass every checker (with faults, info syncs and v1 devices)', () => {
    fc.assert(
      fc.property(config(true), (o) => {
        const m = runWorkload(o);
        expect(failing(m.checkInput())).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('dropping an acknowledged record makes lost-writes fail', () => {
    fc.assert(
      fc.property(config(false), fc.integer({ min: 0, max: 1e6 }), (o, pick) => {
        const input = clone(runWorkload(o).checkInput());
        const a = analyse(input);
        // Records that exist on the server and were never deleted by anyone.
        const candidates = [...a.byRecord.values()]
          .map((l) => l.map((i) => a.writes[i]))
          .filter((ws) => ws.every((w) => w.kind !== 'delete') && ws.some((w) => w.acked));
        const live = candidates.filter((ws) =>
          input.serverState[ws[0].user][ws[0].table]?.some((r) => r.id === ws[0].id),
        );
        fc.pre(live.length > 0);
        const w = live[pick % live.length][0];
        everywhere(input, w.user, w.table, (rows) => rows.filter((r) => r.id !== w.id));
        expect(failing(input)).toContain('lost-writes');
      }),
      { numRuns: 25 },
    );
  });

  it('flipping a value written by a single device makes lost-writes fail', () => {
    fc.assert(
      fc.property(config(false), fc.integer({ min: 0, max: 1e6 }), (o, pick) => {
        const input = clone(runWorkload(o).checkInput());
        const a = analyse(input);
        const cells: Array<{ user: string; table: TableName; id: string; col: string }> = [];
        for (const l of a.byRecord.values()) {
          const ws = l.map((i) => a.writes[i]);
          if (ws.some((w) => w.kind === 'delete') || new Set(ws.map((w) => w.dev)).size !== 1) continue;
          const w = ws[0];
          if (!input.serverState[w.user][w.table]?.some((r) => r.id === w.id)) continue;
          for (const col of columnNames(w.table, 1)) {
            if (col !== 'updated_at' && ws.some((x) => x.acked && x.values && Object.hasOwn(x.values, col))) {
              cells.push({ user: w.user, table: w.table, id: w.id, col });
            }
          }
        }
        fc.pre(cells.length > 0);
        const c = cells[pick % cells.length];
        everywhere(input, c.user, c.table, (rows) =>
          rows.map((r) => (r.id === c.id ? { ...r, [c.col]: 'MUTATED' } : r)),
        );
        expect(failing(input)).toContain('lost-writes');
      }),
      { numRuns: 25 },
    );
  });

  it('resurrecting an acknowledged delete makes lost-writes and no-resurrection fail', () => {
    fc.assert(
      fc.property(config(false), fc.integer({ min: 0, max: 1e6 }), (o, pick) => {
        const input = clone(runWorkload(o).checkInput());
        const a = analyse(input);
        const deleted = [...a.byRecord.values()]
          .map((l) => l.map((i) => a.writes[i]).filter((w) => w.outcome === 'ok'))
          .filter((ws) => ws.length > 0 && ws[ws.length - 1].kind === 'delete' && ws[ws.length - 1].acked)
          .map((ws) => ws[ws.length - 1]);
        fc.pre(deleted.length > 0);
        const w = deleted[pick % deleted.length];
        everywhere(input, w.user, w.table, (rows) => [...rows, { id: w.id }]);
        const f = failing(input);
        expect(f).toContain('lost-writes');
        expect(f).toContain('no-resurrection');
      }),
      { numRuns: 25 },
    );
  });

  it('a device that misses a change, or keeps unpushed changes, makes convergence fail', () => {
    fc.assert(
      fc.property(config(true), fc.integer({ min: 0, max: 1e6 }), fc.boolean(), (o, pick, pending) => {
        const input = clone(runWorkload(o).checkInput());
        const rand = prng(pick);
        const d = input.devices[pick % input.devices.length];
        if (pending) {
          (d as { pendingChanges: number }).pendingChanges = 1;
        } else {
          const tables = Object.entries(d.snapshot).filter(([, rows]) => (rows ?? []).length > 0);
          fc.pre(tables.length > 0);
          const [table, rows] = tables[Math.floor(rand() * tables.length)];
          (d.snapshot as Record<string, SyncRecord[]>)[table] = (rows ?? []).slice(1);
        }
        expect(failing(input, ['convergence'])).toEqual(['convergence']);
      }),
      { numRuns: 25 },
    );
  });

  it('a conflict resolved against the strategy makes conflict-rules fail', () => {
    fc.assert(
      fc.property(config(false), fc.integer({ min: 0, max: 1e6 }), (o, pick) => {
        const input = clone(runWorkload({ ...o, operations: 200, recordsPerTable: 1 }).checkInput());
        const withConflicts = input.history.filter((op) => op.type === 'ok' && op.f === 'sync' && op.conflicts?.length);
        fc.pre(withConflicts.length > 0);
        const op = withConflicts[pick % withConflicts.length];
        const cr = op.conflicts![0];
        // Flip the label: every strategy has exactly one correct label for a given pair.
        const wrong =
          cr.resolution === 'merged' ? 'server_wins' : cr.resolution === 'server_wins' ? 'client_wins' : 'server_wins';
        const history = input.history.map((x) =>
          x === op
            ? { ...x, conflicts: [{ ...cr, resolution: wrong as typeof cr.resolution }, ...op.conflicts!.slice(1)] }
            : x,
        );
        expect(failing({ ...input, history }, ['conflict-rules'])).toEqual(['conflict-rules']);
      }),
      { numRuns: 25 },
    );
  });
});
