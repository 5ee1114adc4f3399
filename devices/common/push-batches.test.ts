import { describe, expect, it } from 'vitest';
import type { DatabaseChanges } from '../../protocol/records';
import { batchPushId, splitChanges } from './push-batches';

const rec = (id: string, n: number) => ({ id, notes: 'x'.repeat(n) });
const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

describe('splitChanges', () => {
  const changes: DatabaseChanges = {
    activities: { created: [rec('a1', 300), rec('a2', 300)], updated: [rec('a3', 300)], deleted: ['a4'] },
    goals: { created: [], updated: Array.from({ length: 10 }, (_, i) => rec(`g${i}`, 200)), deleted: ['g-x'] },
  };

  it('a push under the limit stays one push, unchanged', () => {
    expect(splitChanges(changes, 1e6)).toEqual([changes]);
  });

  it('over the limit: every row in exactly one batch, in order, each body under the limit', () => {
    const batches = splitChanges(changes, 1000);
    expect(batches.length).toBeGreaterThan(2);
    for (const b of batches) expect(size(b)).toBeLessThanOrEqual(1000);
    const flat = (c: DatabaseChanges) =>
      Object.entries(c).flatMap(([t, tc]) =>
        (['created', 'updated', 'deleted'] as const).flatMap((k) =>
          tc![k].map((r) => `${t}.${k}.${typeof r === 'string' ? r : r.id}`),
        ),
      );
    expect(batches.flatMap(flat)).toEqual(flat(changes));
    // Each batch is a valid contract changes object: every table it names has all three arrays.
    for (const b of batches)
      for (const tc of Object.values(b)) expect(Object.keys(tc!).sort()).toEqual(['created', 'deleted', 'updated']);
    // The same changes split the same way (retries replay batch by batch).
    expect(splitChanges(changes, 1000)).toEqual(batches);
  });

  it('a record larger than the limit goes alone (the server answers 413 for it, nothing else is held back)', () => {
    const big: DatabaseChanges = {
      activities: { created: [rec('s', 10), rec('huge', 5000), rec('t', 10)], updated: [], deleted: [] },
    };
    const batches = splitChanges(big, 1000);
    expect(batches.map((b) => b.activities!.created.map((r) => r.id))).toEqual([['s'], ['huge'], ['t']]);
  });

  it('batch pushIds derive from the push id; a single batch keeps it', () => {
    expect(batchPushId('p', 0, 1)).toBe('p');
    expect(batchPushId('p', 1, 3)).toBe('p#2/3');
    expect(batchPushId(undefined, 1, 3)).toBeUndefined();
  });
});
