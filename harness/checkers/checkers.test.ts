import { describe, expect, it } from 'vitest';
import { resolveConflict } from '../../protocol/conflicts';
import type { SyncRecord, TableRecords } from '../../protocol/records';
import { HarnessError } from '../config/errors';
import {
  checkConflictRules,
  checkConvergence,
  checkerNames,
  checkLostWrites,
  checkNoDuplicates,
  checkNoResurrection,
  runCheckers,
} from '.';
import { dsl } from './testing/dsl';

const S = (tables: Partial<TableRecords>) => tables;
const plan = (id: string, v: Omit<SyncRecord, 'id'>): SyncRecord => ({ id, ...v });

describe('lost-writes', () => {
  it('passes when every acknowledged write is on the server', () => {
    const h = dsl({ A: 'u1', B: 'u1' }).create('A', 'goals', 'g1', { title: 'x' }).sync('A').sync('B');
    const r = checkLostWrites(h.input({ u1: S({ goals: [{ id: 'g1', title: 'x' }] }) }));
    expect(r.passed, r.summary).toBe(true);
    expect(r.summary).toMatch(/all 1 acknowledged write/);
  });

  it('catches a half-applied push and names device, table, id and ops', () => {
    const h = dsl({ A: 'u1' })
      .create('A', 'goals', 'g1', { title: 'x' })
      .create('A', 'goals', 'g2', { title: 'y' })
      .sync('A');
    const r = checkLostWrites(h.input({ u1: S({ goals: [{ id: 'g1', title: 'x' }] }) }));
    expect(r.passed).toBe(false);
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]).toMatchObject({ device: 'A', table: 'goals', id: 'g2' });
    // the create (invoke #2) and the sync completion that acknowledged it (#5)
    expect(r.violations[0].historyIndexes).toEqual(expect.arrayContaining([2, 5]));
    expect(r.summary).toMatch(/1 acknowledged write lost/);
  });

  it('never reports indeterminate writes (pushed only by info syncs) or writes whose push failed', () => {
    const h = dsl({ A: 'u1' })
      .create('A', 'goals', 'g1', { title: 'x' })
      .sync('A', { outcome: 'info' })
      .create('A', 'goals', 'g2', { title: 'y' })
      .sync('A', { outcome: 'fail' });
    expect(checkLostWrites(h.input({ u1: S({ goals: [] }) })).passed).toBe(true);
    // ...but an info sync followed by an ok sync acknowledges it.
    h.sync('A');
    const r = checkLostWrites(h.input({ u1: S({ goals: [] }) }));
    expect(r.violations.map((v) => v.id).sort()).toEqual(['g1', 'g2']);
  });

  describe('power loss on a device (lostLocalWrites)', () => {
    // g1 pushed before the loss; g2 written in the lost window and never pushed; g3 written after reboot.
    const h = () =>
      dsl({ A: 'u1' })
        .create('A', 'goals', 'g1', { title: 'kept' })
        .sync('A')
        .tick(100)
        .create('A', 'goals', 'g2', { title: 'lost on the phone' })
        .powerLoss('A', 50)
        .create('A', 'goals', 'g3', { title: 'after reboot' })
        .sync('A');

    it('a write the device lost before pushing it is not a server lost write', () => {
      const r = checkLostWrites(
        h().input({
          u1: S({
            goals: [
              { id: 'g1', title: 'kept' },
              { id: 'g3', title: 'after reboot' },
            ],
          }),
        }),
      );
      expect(r.passed, r.summary).toBe(true);
      expect(r.summary).toMatch(/1 write lost by the device in a power loss/);
    });

    it('a write the server acknowledged before the loss must still be on the server', () => {
      const r = checkLostWrites(h().input({ u1: S({ goals: [{ id: 'g3', title: 'after reboot' }] }) }));
      expect(r.passed).toBe(false);
      expect(r.violations.map((v) => v.id)).toEqual(['g1']);
    });

    it('writes older than the lost window stay judged', () => {
      const old = dsl({ A: 'u1' }).create('A', 'goals', 'g1', { title: 'old' }).tick(1000).powerLoss('A', 50).sync('A');
      expect(checkLostWrites(old.input({ u1: S({ goals: [] }) })).violations.map((v) => v.id)).toEqual(['g1']);
    });
  });

  it('a server-side write (FIT upload setting fit_file_key) explains a replaced value', () => {
    const h = () =>
      dsl({ A: 'u1', B: 'u1' }).create('A', 'activities', 'a1', { sport: 'run', fit_file_key: null }).sync('A');
    const final = { u1: S({ activities: [{ id: 'a1', sport: 'run', fit_file_key: 'k1' }] }) };
    expect(checkLostWrites(h().input(final)).passed).toBe(false);
    const r = checkLostWrites(h().upload('A', 'activities', 'a1', { fit_file_key: 'k1' }).sync('B').input(final));
    expect(r.passed, r.summary).toBe(true);
    expect(checkConvergence(h().upload('A', 'activities', 'a1', { fit_file_key: 'k1' }).input(final)).passed).toBe(
      true,
    );
  });

  describe('server_wins (training_plans): a stale update must lose', () => {
    const base = () =>
      dsl({ A: 'u1', B: 'u1' })
        .create('A', 'training_plans', 'p1', { name: 'n0' })
        .sync('A')
        .sync('B')
        .update('A', 'training_plans', 'p1', { name: 'a' })
        .sync('A')
        .update('B', 'training_plans', 'p1', { name: 'b' }) // B has not pulled A's update
        .sync('B');
    it('passes when the server kept the first push', () => {
      const r = checkLostWrites(base().input({ u1: S({ training_plans: [plan('p1', { name: 'a' })] }) }));
      expect(r.passed, r.summary).toBe(true);
    });
    it('catches the lost update when the stale push overwrote it', () => {
      const r = checkLostWrites(base().input({ u1: S({ training_plans: [plan('p1', { name: 'b' })] }) }));
      expect(r.passed).toBe(false);
      expect(r.violations[0]).toMatchObject({ device: 'A', table: 'training_plans', id: 'p1' });
      expect(r.violations[0].message).toMatch(/name="a" \(server has "b"\).*server_wins/);
    });
    it('counts a write answered without conflict and then overwritten by a stale push (stale-push-race)', () => {
      // B pulls, edits, and its push is slow; A edits and syncs inside B's sync in one attempt, with
      // no conflict in the answer; B's stale push lands last and overwrites A (a server_wins table).
      const race = (attempts: number, localConflicts: Array<{ table: string; id: string }> = []) =>
        dsl({ A: 'u1', B: 'u1' })
          .create('A', 'training_plans', 'p1', { name: 'n0' })
          .sync('A', { attempts: 1 })
          .sync('B', { attempts: 1 })
          .update('B', 'training_plans', 'p1', { name: 'b' })
          .begin('B')
          .update('A', 'training_plans', 'p1', { name: 'a' })
          .sync('A', { attempts, localConflicts })
          .end('B', { attempts: 1 })
          .input({ u1: S({ training_plans: [plan('p1', { name: 'b' })] }) });
      const r = checkLostWrites({ ...race(1), conflictsReported: true });
      expect(r.passed).toBe(false);
      expect(r.violations[0]).toMatchObject({ device: 'A', table: 'training_plans', id: 'p1' });
      // A retried sync may have lost a conflict whose answer never arrived; a server whose conflicts
      // are not reported proves nothing by silence: both stay unjudged.
      expect(checkLostWrites({ ...race(2), conflictsReported: true }).passed).toBe(true);
      expect(checkLostWrites(race(1)).passed).toBe(true);
      // A pull that met A's unpushed edit and resolved it on the phone (conflicts-per-table): the
      // push was no longer A's write as made, so no conclusion either.
      const local = race(1, [{ table: 'training_plans', id: 'p1' }]);
      expect(checkLostWrites({ ...local, conflictsReported: true }).passed).toBe(true);
    });
    it('accepts the causally later write of a device that had pulled', () => {
      const h = base().sync('A').update('A', 'training_plans', 'p1', { name: 'c' }).sync('A');
      expect(checkLostWrites(h.input({ u1: S({ training_plans: [plan('p1', { name: 'c' })] }) })).passed).toBe(true);
    });
    it('considers every order when sync intervals overlap (no false positive)', () => {
      const h = dsl({ A: 'u1', B: 'u1' })
        .create('A', 'training_plans', 'p1', { name: 'n0' })
        .sync('A')
        .sync('B')
        .update('A', 'training_plans', 'p1', { name: 'a' })
        .update('B', 'training_plans', 'p1', { name: 'b' })
        .begin('A')
        .begin('B')
        .end('A')
        .end('B');
      for (const name of ['a', 'b']) {
        const r = checkLostWrites(h.input({ u1: S({ training_plans: [plan('p1', { name })] }) }));
        expect(r.passed, `${name}: ${r.summary}`).toBe(true);
      }
    });
  });

  describe('last_write_wins (goals)', () => {
    // B writes first (smaller updated_at) but pushes last.
    const h = () =>
      dsl({ A: 'u1', B: 'u1' })
        .create('A', 'goals', 'g1', { title: 't0', updated_at: 1 })
        .sync('A')
        .sync('B')
        .update('B', 'goals', 'g1', { title: 'b', updated_at: 100 })
        .update('A', 'goals', 'g1', { title: 'a', updated_at: 200 })
        .sync('A')
        .sync('B');
    it('keeps the larger updated_at', () => {
      expect(checkLostWrites(h().input({ u1: S({ goals: [{ id: 'g1', title: 'a', updated_at: 200 }] }) })).passed).toBe(
        true,
      );
    });
    it('catches an older write overwriting a newer row', () => {
      const r = checkLostWrites(h().input({ u1: S({ goals: [{ id: 'g1', title: 'b', updated_at: 100 }] }) }));
      expect(r.passed).toBe(false);
      expect(r.violations[0]).toMatchObject({ device: 'A', id: 'g1' });
    });
    it('gives a tie to the row already on the server', () => {
      const t = dsl({ A: 'u1', B: 'u1' })
        .create('A', 'goals', 'g1', { title: 't0', updated_at: 1 })
        .sync('A')
        .sync('B')
        .update('A', 'goals', 'g1', { title: 'a', updated_at: 50 })
        .update('B', 'goals', 'g1', { title: 'b', updated_at: 50 })
        .sync('A')
        .sync('B');
      expect(checkLostWrites(t.input({ u1: S({ goals: [{ id: 'g1', title: 'a' }] }) })).passed).toBe(true);
      expect(checkLostWrites(t.input({ u1: S({ goals: [{ id: 'g1', title: 'b' }] }) })).passed).toBe(false);
    });
  });

  it('client_wins (users): the later push wins, even with its stale columns', () => {
    const h = dsl({ A: 'u1', B: 'u1' })
      .create('A', 'users', 'me', { name: 'n0', email: 'e0' })
      .sync('A')
      .sync('B')
      .update('A', 'users', 'me', { name: 'a' })
      .sync('A')
      .update('B', 'users', 'me', { email: 'b@x' })
      .sync('B');
    // B's whole record (with the old name) won: legitimate under client_wins.
    expect(checkLostWrites(h.input({ u1: S({ users: [{ id: 'me', name: 'n0', email: 'b@x' }] }) })).passed).toBe(true);
    // B's own write vanishing is not.
    expect(checkLostWrites(h.input({ u1: S({ users: [{ id: 'me', name: 'a', email: 'e0' }] }) })).passed).toBe(false);
  });

  describe('merge_non_null (daily_metrics)', () => {
    const h = (later: Omit<SyncRecord, 'id'>) =>
      dsl({ A: 'u1', B: 'u1' })
        .create('A', 'daily_metrics', 'd1', { date: '2026-11-25', hrv_ms: 40 })
        .sync('A')
        .sync('B')
        .update('A', 'daily_metrics', 'd1', { hrv_ms: 50 })
        .sync('A')
        .update('B', 'daily_metrics', 'd1', later)
        .sync('B');
    it('a later non-null value wins', () => {
      expect(
        checkLostWrites(
          h({ hrv_ms: 60 }).input({ u1: S({ daily_metrics: [{ id: 'd1', date: '2026-11-25', hrv_ms: 60 }] }) }),
        ).passed,
      ).toBe(true);
    });
    it('a null never overwrites', () => {
      expect(
        checkLostWrites(
          h({ hrv_ms: null }).input({ u1: S({ daily_metrics: [{ id: 'd1', date: '2026-11-25', hrv_ms: 50 }] }) }),
        ).passed,
      ).toBe(true);
      const r = checkLostWrites(
        h({ hrv_ms: null }).input({ u1: S({ daily_metrics: [{ id: 'd1', date: '2026-11-25', hrv_ms: null }] }) }),
      );
      expect(r.passed).toBe(false);
      expect(r.violations[0].message).toMatch(/hrv_ms=50/);
    });
  });

  describe('merge_subjective (activities)', () => {
    const h = (later: Omit<SyncRecord, 'id'>) =>
      dsl({ A: 'u1', B: 'u1' })
        .create('A', 'activities', 'a1', { sport: 'run', distance_m: 1000, rpe: 5 })
        .sync('A')
        .sync('B')
        .update('A', 'activities', 'a1', { distance_m: 1200, rpe: 6 })
        .sync('A')
        .update('B', 'activities', 'a1', later)
        .sync('B');
    it('the later-pushed non-null subjective value wins', () => {
      const r = checkLostWrites(
        h({ rpe: 8 }).input({ u1: S({ activities: [{ id: 'a1', sport: 'run', distance_m: 1200, rpe: 8 }] }) }),
      );
      expect(r.passed, r.summary).toBe(true);
    });
    it('objective columns behave as server_wins', () => {
      const ok = h({ distance_m: 5000 }).input({
        u1: S({ activities: [{ id: 'a1', sport: 'run', distance_m: 1200, rpe: 6 }] }),
      });
      expect(checkLostWrites(ok).passed).toBe(true);
      const bad = h({ distance_m: 5000 }).input({
        u1: S({ activities: [{ id: 'a1', sport: 'run', distance_m: 5000, rpe: 6 }] }),
      });
      const r = checkLostWrites(bad);
      expect(r.passed).toBe(false);
      expect(r.violations[0].message).toMatch(/distance_m=1200/);
    });
  });

  describe('deletes win; only an explicit create brings a record back', () => {
    const h = () =>
      dsl({ A: 'u1', B: 'u1' })
        .create('A', 'goals', 'g1', { title: 'x' })
        .sync('A')
        .sync('B')
        .delete('A', 'goals', 'g1')
        .sync('A')
        .update('B', 'goals', 'g1', { title: 'stale' })
        .sync('B');
    it('a concurrent update does not resurrect the row', () => {
      expect(checkLostWrites(h().input({ u1: S({ goals: [] }) })).passed).toBe(true);
      const input = h().input({ u1: S({ goals: [{ id: 'g1', title: 'stale' }] }) });
      const r = checkLostWrites(input);
      expect(r.passed).toBe(false);
      expect(r.violations[0].message).toMatch(/lost delete/);
      const nr = checkNoResurrection(input);
      expect(nr.passed).toBe(false);
      expect(nr.violations[0].message).toMatch(/back on the server, device A, device B/);
    });
    it('an explicit later create does', () => {
      const t = h().sync('B').create('B', 'goals', 'g1', { title: 'again' }).sync('B');
      const input = t.input({ u1: S({ goals: [{ id: 'g1', title: 'again' }] }) });
      expect(checkLostWrites(input).passed).toBe(true);
      expect(checkNoResurrection(input).passed).toBe(true);
    });
    it('an acknowledged create missing with no delete is lost', () => {
      const t = dsl({ A: 'u1' }).create('A', 'goals', 'g9', { title: 'x' }).sync('A');
      expect(checkLostWrites(t.input({ u1: S({}) })).violations[0].message).toMatch(/missing from the server/);
    });
  });
});

describe('convergence', () => {
  const h = () =>
    dsl({ A: 'u1', B: { user: 'u1', schemaVersion: 1 } })
      .create('A', 'activities', 'a1', { sport: 'run', feeling: 'good' })
      .sync('A')
      .sync('B');
  const server = { u1: S({ activities: [{ id: 'a1', sport: 'run', feeling: 'good' }] }) };
  it('passes when every device equals the server, comparing v1 devices on v1 columns', () => {
    const r = checkConvergence(h().input(server, { B: { snapshot: { activities: [{ id: 'a1', sport: 'run' }] } } }));
    expect(r.passed, r.summary).toBe(true);
  });
  it('reports the first differing columns, missing and extra rows, and undrained queues', () => {
    const r = checkConvergence(
      h().input(server, {
        A: { snapshot: { activities: [{ id: 'a1', sport: 'ride', feeling: 'bad' }] }, pendingChanges: 2 },
        B: { snapshot: { activities: [{ id: 'zz', sport: 'run' }] } },
      }),
    );
    expect(r.passed).toBe(false);
    const msgs = r.violations.map((v) => v.message);
    expect(msgs).toContain('device A still has 2 pending changes after quiescence: upload queue not drained');
    expect(
      msgs.some((m) =>
        /A differs .*sport "ride" on device vs "run" on server, feeling "bad" on device vs "good"/.test(m),
      ),
    ).toBe(true);
    expect(msgs.some((m) => /device B lacks activities\/a1/.test(m))).toBe(true);
    expect(msgs.some((m) => /device B has activities\/zz that the server does not/.test(m))).toBe(true);
    expect(r.summary).toMatch(/2 devices diverge from the server, 1 device with pending changes/);
    const lacks = r.violations.find((v) => v.id === 'a1' && v.device === 'B');
    expect(lacks?.historyIndexes?.length).toBeGreaterThan(0);
  });
});

describe('conflict-rules', () => {
  const client = { id: 'p1', name: 'mine', weeks: 4 };
  const serverRow = { id: 'p1', name: 'theirs', weeks: 8 };
  const h = (conflict: object) =>
    dsl({ A: 'u1' })
      .update('A', 'training_plans', 'p1', { name: 'mine' })
      .sync('A', { conflicts: [conflict as never] });
  const good = {
    tableName: 'training_plans',
    id: 'p1',
    clientRecord: client,
    serverRecord: serverRow,
    resolution: 'server_wins',
    resolvedRecord: serverRow,
  };
  const final = { u1: S({ training_plans: [serverRow] }) };
  it('passes a correct resolution that sticks and is logged', () => {
    const log = [
      { deviceId: 'A', operation: 'CONFLICT_RESOLVED', tableName: 'training_plans', recordCount: 1, success: true },
    ];
    const r = checkConflictRules(h(good).input(final, {}, log));
    expect(r.passed, r.summary).toBe(true);
  });
  it('catches a wrong label and wrong resolved values', () => {
    const r = checkConflictRules(h({ ...good, resolution: 'client_wins', resolvedRecord: { ...client } }).input(final));
    expect(r.passed).toBe(false);
    expect(r.violations[0].message).toMatch(
      /labelled client_wins, expected server_wins; name resolved to "mine", expected "theirs"/,
    );
    expect(r.violations[0].historyIndexes).toEqual([2, 3]);
  });
  it('catches a final state contradicting the resolution, unless a later write explains it', () => {
    const changed = { u1: S({ training_plans: [{ ...serverRow, weeks: 2 }] }) };
    expect(checkConflictRules(h(good).input(changed)).violations[0].message).toMatch(
      /contradicts .*weeks is 2, resolved 8/,
    );
    const later = h(good).update('A', 'training_plans', 'p1', { weeks: 2 }).sync('A');
    expect(checkConflictRules(later.input(changed)).passed).toBe(true);
  });
  it('checks every strategy through resolveConflict', () => {
    const cases = [
      ['users', { id: 'x', name: 'c' }, { id: 'x', name: 's', email: 'e' }],
      ['goals', { id: 'x', title: 'c', updated_at: 5 }, { id: 'x', title: 's', updated_at: 9 }],
      ['activities', { id: 'x', rpe: 7, distance_m: 1 }, { id: 'x', rpe: 3, distance_m: 2 }],
      ['daily_metrics', { id: 'x', steps: null, hrv_ms: 40 }, { id: 'x', steps: 10, hrv_ms: 30 }],
    ] as const;
    for (const [table, c, s] of cases) {
      const res = resolveConflict(table, c as SyncRecord, s as SyncRecord);
      const conflict = {
        tableName: table,
        id: 'x',
        clientRecord: c,
        serverRecord: s,
        resolution: res.resolution,
        resolvedRecord: res.record,
      };
      const t = dsl({ A: 'u1' })
        .update('A', table, 'x', {})
        .sync('A', { conflicts: [conflict as never] });
      expect(checkConflictRules(t.input({ u1: { [table]: [res.record] } })).passed, table).toBe(true);
      const wrong = {
        ...conflict,
        resolvedRecord: { ...res.record, ...c, ...(table === 'users' ? { name: 'zz' } : {}) },
      };
      const t2 = dsl({ A: 'u1' })
        .update('A', table, 'x', {})
        .sync('A', { conflicts: [wrong as never] });
      expect(checkConflictRules(t2.input({ u1: { [table]: [wrong.resolvedRecord] } })).passed, `${table} wrong`).toBe(
        false,
      );
    }
  });
  it('accepts server_wins against a tombstone, and cross-checks sync_log', () => {
    const tomb = { ...good, serverRecord: { id: 'p1' }, resolvedRecord: { id: 'p1' } };
    const r = checkConflictRules(h(tomb).input({ u1: S({}) }, {}, []));
    expect(r.passed).toBe(false);
    expect(r.violations[0].message).toMatch(/sync_log is missing 1 CONFLICT_RESOLVED rows for device A/);
    expect(checkConflictRules(h(tomb).input({ u1: S({}) })).passed).toBe(true);
  });
  it("recognises the reference server's tombstone shape (data columns plus _status: 'deleted')", () => {
    const server = { id: 'p1', name: 'old', _status: 'deleted' };
    const tomb = { ...good, serverRecord: server, resolvedRecord: server, resolution: 'server_wins' as const };
    expect(checkConflictRules(h(tomb).input({ u1: S({}) })).passed).toBe(true);
    const wrong = { ...tomb, resolution: 'client_wins' as const };
    expect(checkConflictRules(h(wrong).input({ u1: S({}) })).passed).toBe(false);
  });
});

describe('no-duplicates', () => {
  it('catches duplicate ids on devices and the server, and rows of another user', () => {
    const h = dsl({ A: 'u1', C: 'u2' }).create('C', 'goals', 'secret', { title: 's' }).sync('C');
    const g = { id: 'g1', title: 'x' };
    const input = h.input(
      { u1: S({ goals: [g, g] }), u2: S({ goals: [{ id: 'secret', title: 's' }] }) },
      { A: { snapshot: { goals: [g, g, { id: 'secret', title: 's' }] } } },
    );
    const r = checkNoDuplicates(input);
    const msgs = r.violations.map((v) => v.message);
    expect(msgs).toContain('the server state of user u1 holds goals/g1 more than once');
    expect(msgs).toContain('device A holds goals/g1 more than once (breaks WatermelonDB sync)');
    expect(msgs.some((m) => /device A \(user u1\) holds goals\/secret of user u2/.test(m))).toBe(true);
    const ok = checkNoDuplicates(h.input({ u1: S({ goals: [g] }), u2: S({ goals: [{ id: 'secret', title: 's' }] }) }));
    expect(ok.passed, ok.summary).toBe(true);
  });
});

describe('registry', () => {
  it('runs all checkers by default and a named subset, and rejects unknown names', () => {
    const h = dsl({ A: 'u1' }).create('A', 'goals', 'g1', { title: 'x' }).sync('A');
    const input = h.input({ u1: S({ goals: [{ id: 'g1', title: 'x' }] }) });
    expect(runCheckers(input).map((r) => r.name)).toEqual(checkerNames());
    expect(runCheckers(input).every((r) => r.passed)).toBe(true);
    expect(runCheckers(input, ['convergence']).map((r) => r.name)).toEqual(['convergence']);
    expect(() => runCheckers(input, ['nope'])).toThrow(HarnessError);
    expect(() => runCheckers(input, ['nope'])).toThrow(
      /unknown checker "nope"; known checkers: convergence, lost-writes/,
    );
  });
});
