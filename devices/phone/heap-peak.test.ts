import { describe, expect, it } from 'vitest';
import { LiveHeapPeak } from './heap-peak';

describe('LiveHeapPeak', () => {
  it('sees a live allocation and collects only when the used heap passes the peak', () => {
    const heap = new LiveHeapPeak();
    const before = heap.peak;
    for (let i = 0; i < 200; i++) heap.sample(); // nothing allocated: no collection needed
    expect(heap.collections).toBeLessThan(20);
    const held = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `row-${i}` })); // ~10 MB live
    heap.sample(true);
    expect(heap.peak - before).toBeGreaterThan(4 * 1024 * 1024);
    expect(held.length).toBe(200_000);
  });
});
