import { describe, expect, it } from 'vitest';
import { resolveConflict, resolveIncoming } from './conflicts';
import { SyncApiError } from './errors';
import { columnNames } from './tables';
import { parseSchemaVersion, validatePushBody } from './validate';

describe('conflict strategies (sync-contract.md)', () => {
  const server = {
    id: 'r',
    name: 'S',
    notes: 'server',
    rpe: 3,
    distance_m: 100,
    steps: 10,
    sleep_s: 5,
    updated_at: 100,
  };
  it('users: client wins on the columns it sends', () => {
    const r = resolveConflict('users', { id: 'r', name: 'C' }, { id: 'r', name: 'S', email: 'e', updated_at: 1 });
    expect(r).toEqual({ resolution: 'client_wins', record: { id: 'r', name: 'C', email: 'e', updated_at: 1 } });
  });
  it('training_plans and scheduled_workouts: server wins', () => {
    expect(resolveConflict('training_plans', { id: 'r', weeks: 9 }, { id: 'r', weeks: 8 }).record.weeks).toBe(8);
    expect(resolveConflict('scheduled_workouts', { id: 'r', title: 'c' }, { id: 'r', title: 's' }).resolution).toBe(
      'server_wins',
    );
  });
  it('activities: objective from the server, non-null subjective from the client', () => {
    const r = resolveConflict(
      'activities',
      { id: 'r', distance_m: 999, notes: 'client', rpe: null, feeling: 'good' },
      server,
    );
    expect(r.resolution).toBe('merged');
    expect(r.record).toMatchObject({ distance_m: 100, notes: 'client', rpe: 3, feeling: 'good' });
  });
  it('activities: a v1 client never touches feeling', () => {
    const r = resolveConflict('activities', { id: 'r', feeling: 'x', notes: 'n' }, { id: 'r', feeling: 'keep' }, 1);
    expect(r.record.feeling).toBe('keep');
  });
  it('daily_metrics: every non-null client column wins, nulls never overwrite', () => {
    const r = resolveConflict('daily_metrics', { id: 'r', steps: null, sleep_s: 7 }, server);
    expect(r.record).toMatchObject({ steps: 10, sleep_s: 7 });
  });
  it('goals: last write wins by updated_at, tie to the server', () => {
    expect(
      resolveConflict('goals', { id: 'r', status: 'c', updated_at: 101 }, { id: 'r', status: 's', updated_at: 100 })
        .record.status,
    ).toBe('c');
    expect(
      resolveConflict('goals', { id: 'r', status: 'c', updated_at: 100 }, { id: 'r', status: 's', updated_at: 100 })
        .record.status,
    ).toBe('s');
    expect(
      resolveConflict('goals', { id: 'r', status: 'c' }, { id: 'r', status: 's', updated_at: 100 }).resolution,
    ).toBe('server_wins');
  });
  it('an echo of the device own push does not override later local edits', () => {
    const pushed = { id: 'r', weeks: 8, name: 'Base' };
    const r = resolveIncoming(
      'training_plans',
      { id: 'r', weeks: 10, name: 'Base' },
      { id: 'r', weeks: 8, name: 'Base' },
      pushed,
    );
    expect(r).toMatchObject({ echo: true, resolution: 'client_wins', record: { weeks: 10 } });
    const concurrent = resolveIncoming(
      'training_plans',
      { id: 'r', weeks: 10 },
      { id: 'r', weeks: 12, name: 'Base' },
      pushed,
    );
    expect(concurrent).toMatchObject({ echo: false, resolution: 'server_wins', record: { weeks: 12 } });
  });
});

describe('change-set validation', () => {
  const ok = (changes: unknown) => validatePushBody({ changes, lastPulledAt: 1, deviceId: 'd' }, 2);
  const err = (changes: unknown, version: 1 | 2 = 2) => {
    try {
      validatePushBody({ changes, lastPulledAt: 1, deviceId: 'd' }, version);
    } catch (e) {
      expect(e).toBeInstanceOf(SyncApiError);
      return (e as SyncApiError).message;
    }
    throw new Error('expected a validation error');
  };
  const tc = (rec: unknown) => ({ created: [], updated: [rec], deleted: [] });
  it('accepts a valid change set and strips WatermelonDB bookkeeping', () => {
    const v = ok({
      goals: { created: [{ id: 'g', title: 't', _status: 'created', _changed: '' }], updated: [], deleted: ['x'] },
    });
    expect(v.changes.goals?.created[0]).toEqual({ id: 'g', title: 't' });
  });
  it.each([
    [{ nope: { created: [], updated: [], deleted: [] } }, /Unknown table "nope"/],
    [{ goals: tc({ id: 'g', colour: 'red' }) }, /changes\.goals\.updated\[0\] has unknown column "colour"/],
    [
      { goals: tc({ id: 'g', target_value: '12' }) },
      /changes\.goals\.updated\[0\]\.target_value must be a finite number or null, got a string/,
    ],
    [{ goals: tc({ id: 'g', title: 5 }) }, /title must be a string or null, got a number/],
    [{ goals: tc({ id: 7 }) }, /\.id must be a non-empty string/],
    [{ goals: { created: [], updated: [] } }, /changes\.goals\.deleted must be an array/],
    [{ goals: { created: [{ id: 'a' }], updated: [{ id: 'a' }], deleted: [] } }, /record id "a" appears twice/],
    [[], /changes must be an object keyed by table name/],
  ])('rejects %j precisely', (changes, re) => {
    expect(err(changes)).toMatch(re);
  });
  it('rejects a v2 column from a v1 client, naming the version', () => {
    expect(err({ activities: tc({ id: 'a', feeling: 'x' }) }, 1)).toMatch(/exists only from schema version 2/);
  });
  it('schema versions: 1 and 2 accepted, others 412', () => {
    expect(parseSchemaVersion('1')).toBe(1);
    expect(() => parseSchemaVersion(3)).toThrow(/update the app/);
    expect(() => parseSchemaVersion('x')).toThrow(/integer/);
  });
  it('v1 lacks exactly the v2 columns', () => {
    expect(columnNames('activities', 2).filter((c) => !columnNames('activities', 1).includes(c))).toEqual(['feeling']);
    expect(columnNames('daily_metrics', 2).filter((c) => !columnNames('daily_metrics', 1).includes(c))).toEqual([
      'mood',
    ]);
  });
});
