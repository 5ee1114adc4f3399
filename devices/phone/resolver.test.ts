import { describe, expect, it } from 'vitest';
import { makeConflictResolver } from './resolver';

const resolveWith = (
  table: string,
  local: Record<string, unknown>,
  remote: Record<string, unknown>,
  version: 1 | 2 = 2,
) => {
  const seen: unknown[] = [];
  const r = makeConflictResolver(version, (c) => seen.push(c));
  const resolved = { ...local, ...remote, id: local.id, _status: local._status, _changed: local._changed };
  return { out: r(table, local, remote, resolved), seen };
};

describe('phone conflictResolver (protocol resolveConflict on WatermelonDB raws)', () => {
  it('leaves plain remote updates of synced records alone', () => {
    const { out, seen } = resolveWith(
      'goals',
      { id: 'g', title: 'a', _status: 'synced', _changed: '' },
      { id: 'g', title: 'b' },
    );
    expect(out.title).toBe('b');
    expect(seen).toEqual([]);
  });

  it('server wins: takes the server row and marks it synced (nothing left to push)', () => {
    const { out } = resolveWith(
      'training_plans',
      { id: 't', status: 'done', _status: 'updated', _changed: 'status' },
      { id: 't', status: 'paused' },
    );
    expect(out).toMatchObject({ status: 'paused', _status: 'synced', _changed: '' });
  });

  it('merge_subjective keeps local rpe/notes/feeling over server objective columns and still pushes them', () => {
    const { out, seen } = resolveWith(
      'activities',
      { id: 'a', avg_hr: 150, rpe: 9, notes: 'mine', feeling: null, _status: 'updated', _changed: 'rpe,notes' },
      { id: 'a', avg_hr: 155, rpe: 5, notes: 'theirs', feeling: 'ok' },
    );
    expect(out).toMatchObject({ avg_hr: 155, rpe: 9, notes: 'mine', feeling: 'ok', _status: 'updated' });
    expect(out._changed.split(',').sort()).toEqual(['notes', 'rpe']);
    expect(seen).toMatchObject([{ table: 'activities', resolution: 'merged' }]);
  });

  it('merge_non_null merges only the columns this device changed: its stale copies of others never overwrite', () => {
    const { out } = resolveWith(
      'daily_metrics',
      { id: 'd', resting_hr: 50, steps: null, sleep_s: 28_000, _status: 'updated', _changed: 'steps,sleep_s' },
      { id: 'd', resting_hr: 49, steps: 12_000, sleep_s: 25_000 },
    );
    expect(out).toMatchObject({
      resting_hr: 49,
      steps: 12_000,
      sleep_s: 28_000,
      _status: 'updated',
      _changed: 'sleep_s',
    });
  });

  it('a v1 client never touches v2 columns', () => {
    const { out } = resolveWith(
      'daily_metrics',
      { id: 'd', soreness: 3, _status: 'updated', _changed: 'soreness' },
      { id: 'd', soreness: 1, mood: 'good' },
      1,
    );
    expect(out.soreness).toBe(3);
    expect(out.mood).toBe('good'); // untouched server value (WatermelonDB drops it for a v1 schema)
  });

  it('the echo of our own push is not a conflict: later local edits win even on a server_wins table', () => {
    const seen: unknown[] = [];
    const r = makeConflictResolver(
      2,
      (c) => seen.push(c),
      () => true,
    );
    const local = { id: 't', weeks: 10, status: 'active', _status: 'updated', _changed: 'weeks' };
    const remote = { id: 't', weeks: 8, status: 'active' };
    const out = r('training_plans', local, remote, { ...local, ...remote, _status: 'updated', _changed: 'weeks' });
    expect(out).toMatchObject({ weeks: 10, _status: 'updated', _changed: 'weeks' });
    expect(seen).toEqual([]);
  });

  it('the echo of a push the server merged: columns we lost stay lost, only edits since our push win', () => {
    const r = makeConflictResolver(
      2,
      () => {},
      () => true,
    );
    // We pushed calories 88334; the server kept another device's 70037 (merge_subjective) and
    // WatermelonDB marked our copy synced; then we edited feeling.
    const local = { id: 'a', calories: 88334, feeling: 'good', rpe: 3, _status: 'updated', _changed: 'feeling' };
    const remote = { id: 'a', calories: 70037, feeling: 'meh', rpe: 3 };
    const out = r('activities', local, remote, { ...local, ...remote, _status: 'updated', _changed: 'feeling' });
    expect(out).toMatchObject({ calories: 70037, feeling: 'good', rpe: 3, _status: 'updated', _changed: 'feeling' });
  });

  it('our own echoed push after a lost response resolves to synced', () => {
    const { out } = resolveWith(
      'goals',
      { id: 'g', title: 'x', updated_at: 5, _status: 'updated', _changed: 'title' },
      { id: 'g', title: 'x', updated_at: 5 },
    );
    expect(out).toMatchObject({ _status: 'synced', _changed: '' });
  });
});
