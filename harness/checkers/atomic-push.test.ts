import { describe, expect, it } from 'vitest';
import { checkAtomicPush } from '.';
import { dsl } from './testing/dsl';

const three = () =>
  dsl({ A: 'u1', B: 'u1' })
    .create('A', 'activities', 'a1', { sport: 'run' })
    .create('A', 'goals', 'g1', { title: 'two' })
    .create('A', 'users', 'u1', { name: 'three' });

describe('atomic-push', () => {
  it('names the rows of a failed push the server half-applied', () => {
    const h = three().sync('A', { outcome: 'fail' }).sync('A', { outcome: 'fail' }).sync('B');
    const r = checkAtomicPush(h.input({ u1: { users: [{ id: 'u1', name: 'three' }] } }));
    expect(r.passed).toBe(false);
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]).toMatchObject({ device: 'A', table: 'users', id: 'u1' });
    expect(r.violations[0].message).toMatch(
      /half-applied push: the push of sync #\d+ of A failed, yet users\/u1 was applied and activities\/a1, goals\/g1 were not/,
    );
  });
  it('passes a server that refused every push and applied nothing (all-or-nothing holds)', () => {
    const h = three().sync('A', { outcome: 'fail' }).sync('A', { outcome: 'fail' });
    expect(checkAtomicPush(h.input({ u1: {} })).passed).toBe(true);
  });
  it('passes a failed push applied whole (a 502 can hide a committed push) and a later successful retry', () => {
    const all = {
      activities: [{ id: 'a1', sport: 'run' }],
      goals: [{ id: 'g1', title: 'two' }],
      users: [{ id: 'u1', name: 'three' }],
    };
    expect(checkAtomicPush(three().sync('A', { outcome: 'fail' }).input({ u1: all })).passed).toBe(true);
    const retried = three().sync('A', { outcome: 'fail' }).sync('A');
    expect(checkAtomicPush(retried.input({ u1: { users: [{ id: 'u1', name: 'three' }] } })).passed).toBe(true);
  });
  it('does not count a value another write could have supplied as evidence', () => {
    // B wrote the same user row (and its push may have applied): u1 on the server proves nothing about A's push.
    const h = dsl({ A: 'u1', B: 'u1' })
      .create('B', 'users', 'u1', { name: 'three' })
      .sync('B', { outcome: 'info' })
      .create('A', 'activities', 'a1', { sport: 'run' })
      .create('A', 'users', 'u1', { name: 'three' })
      .sync('A', { outcome: 'fail' });
    expect(checkAtomicPush(h.input({ u1: { users: [{ id: 'u1', name: 'three' }] } })).passed).toBe(true);
  });
});
