import { describe, expect, it } from 'vitest';
import { SimClock } from './clock';

describe('SimClock', () => {
  it('instant: runs timers in time order, as fast as possible', async () => {
    const clock = new SimClock({ epochMs: 1000 });
    const order: number[] = [];
    const w0 = performance.now();
    await Promise.all([
      clock.sleep(600_000).then(() => order.push(3)),
      clock.sleep(5).then(() => order.push(1)),
      clock.sleep(50).then(() => order.push(2)),
    ]);
    expect(order).toEqual([1, 2, 3]);
    expect(clock.now()).toBe(1000 + 600_000);
    expect(performance.now() - w0).toBeLessThan(5_000);
  });

  it('a hold keeps time still; what is due now still runs', async () => {
    const clock = new SimClock();
    const release = clock.hold();
    let later = false;
    let now = false;
    clock.after(0, () => {
      now = true;
    });
    clock.after(1000, () => {
      later = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(now).toBe(true);
    expect(later).toBe(false);
    release();
    await clock.whenIdle();
    expect(later).toBe(true);
  });

  it('scaled: simulated ms per wall ms', async () => {
    const clock = new SimClock({ timeScale: 100 });
    const w0 = performance.now();
    await clock.sleep(10_000); // 100 ms of wall time at ×100
    const wall = performance.now() - w0;
    expect(wall).toBeGreaterThanOrEqual(90);
    expect(wall).toBeLessThan(5_000);
    expect(clock.elapsedMs()).toBe(10_000);
  });
});
