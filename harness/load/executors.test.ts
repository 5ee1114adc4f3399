/** Executor scheduling on a virtual clock: exact counts, no wall-time assumptions. */
import { describe, expect, it } from 'vitest';
import { arrivalSchedule, type ExecutorSpec, runExecutor, validateExecutor } from './executors';
import { VirtualTimer } from './virtual-timer';

/** Run a spec where every iteration takes `iterMs` virtual ms; returns the result and start log. */
async function drive(spec: ExecutorSpec, iterMs: (vu: number, n: number) => number) {
  const timer = new VirtualTimer();
  const starts: Array<{ vu: number; at: number }> = [];
  const busy = new Set<number>();
  const drops: number[] = [];
  const result = await timer.run(
    runExecutor(
      spec,
      {
        async iterate(vu, n) {
          // A VU never runs two iterations at once.
          expect(busy.has(vu)).toBe(false);
          busy.add(vu);
          starts.push({ vu, at: timer.now() });
          await timer.sleep(iterMs(vu, n));
          busy.delete(vu);
        },
        dropped: (at) => drops.push(at),
      },
      timer,
    ),
  );
  return { result, starts, drops };
}

describe('arrival-rate executors (open model)', () => {
  it('constant-arrival-rate starts rate × duration iterations on schedule while VUs are free', async () => {
    const { result, starts } = await drive(
      { executor: 'constant-arrival-rate', rate: 50, durationMs: 10_000, maxVUs: 20 },
      () => 100,
    );
    expect(result.iterations).toBe(500);
    expect(result.dropped).toBe(0);
    // Every 20 ms, independent of how long iterations take.
    expect(starts.slice(0, 4).map((s) => s.at)).toEqual([0, 20, 40, 60]);
    // 100 ms iterations at one per 20 ms: 5 in flight, never more.
    expect(result.maxBusyVUs).toBe(5);
  });

  it('a slow server does not slow the arrivals: starts with no free VU are dropped and counted', async () => {
    // 10/s for 10 s = 100 scheduled; 4 VUs, each iteration 950 ms: a VU is free again just before
    // its slot comes round, so 4 starts per second succeed (40 over 10 s), the other 60 are dropped.
    const { result, starts, drops } = await drive(
      { executor: 'constant-arrival-rate', rate: 10, durationMs: 10_000, maxVUs: 4, preAllocatedVUs: 2 },
      () => 950,
    );
    expect(result.iterations + result.dropped).toBe(100);
    expect(result.iterations).toBe(40);
    expect(result.dropped).toBe(60);
    expect(drops).toHaveLength(60);
    expect(result.vusInitialised).toBe(4);
    expect(new Set(starts.map((s) => s.vu))).toEqual(new Set([0, 1, 2, 3]));
    // Starts stay on the 100 ms grid: an iteration never starts late because an earlier one was slow.
    for (const s of starts) expect(s.at % 100).toBe(0);
  });

  it('ramping-arrival-rate starts the integral of its rate', async () => {
    // 0 → 100/s over 10 s (500 iterations), then 100/s for 5 s (500).
    const spec: ExecutorSpec = {
      executor: 'ramping-arrival-rate',
      startRate: 0,
      stages: [
        { durationMs: 10_000, target: 100 },
        { durationMs: 5_000, target: 100 },
      ],
      maxVUs: 100,
    };
    const sched = arrivalSchedule(spec as Extract<ExecutorSpec, { executor: 'ramping-arrival-rate' }>);
    expect(sched).toHaveLength(1000);
    // Accelerating: the first half of the ramp's iterations need more than half its time.
    expect(sched[125]!).toBeCloseTo(5000, 0); // N(5 s) = 100/s ÷ 10 s × 5² / 2 = 125
    expect(sched[500]!).toBeCloseTo(10_000, 0);
    const { result } = await drive(spec, () => 50);
    expect(result.iterations).toBe(1000);
    expect(result.dropped).toBe(0);
  });
});

describe('VU executors (closed model)', () => {
  it('constant-vus: each VU runs back to back until the duration, iterations = VUs × duration / iteration', async () => {
    const { result, starts } = await drive({ executor: 'constant-vus', vus: 5, durationMs: 1000 }, () => 100);
    expect(result.iterations).toBe(50);
    expect(result.maxBusyVUs).toBe(5);
    expect(new Set(starts.map((s) => s.vu)).size).toBe(5);
  });

  it('closed model: a slow iteration delays the next one (what arrival-rate exists to avoid)', async () => {
    const { result } = await drive({ executor: 'constant-vus', vus: 2, durationMs: 1000 }, (vu) =>
      vu === 0 ? 500 : 100,
    );
    expect(result.iterations).toBe(2 + 10);
  });

  it('think time spaces one VU’s iterations', async () => {
    const timer = new VirtualTimer();
    let n = 0;
    await timer.run(
      runExecutor(
        { executor: 'constant-vus', vus: 1, durationMs: 1000 },
        {
          iterate: async () => {
            n++;
            await timer.sleep(100);
          },
          thinkTime: () => 150,
        },
        timer,
      ),
    );
    expect(n).toBe(4); // 0, 250, 500, 750
  });

  it('ramping-vus follows its stages up and down', async () => {
    const timer = new VirtualTimer();
    const busyAt: Array<[number, number]> = [];
    let busy = 0;
    const result = await timer.run(
      runExecutor(
        {
          executor: 'ramping-vus',
          startVUs: 0,
          stages: [
            { durationMs: 1000, target: 10 },
            { durationMs: 1000, target: 10 },
            { durationMs: 1000, target: 2 },
          ],
        },
        {
          async iterate() {
            busy++;
            busyAt.push([timer.now(), busy]);
            await timer.sleep(50);
            busy--;
          },
        },
        timer,
      ),
    );
    expect(result.maxBusyVUs).toBe(10);
    expect(result.vusInitialised).toBe(10);
    const at = (lo: number, hi: number) => Math.max(...busyAt.filter(([t]) => t >= lo && t < hi).map(([, b]) => b));
    expect(at(0, 200)).toBeLessThanOrEqual(2);
    expect(at(1000, 2000)).toBe(10);
    expect(at(2900, 3000)).toBeLessThanOrEqual(3);
  });
});

describe('executor validation', () => {
  it('names the mistake before anything runs', () => {
    expect(() => validateExecutor({ executor: 'constant-arrival-rate', rate: 0, durationMs: 1, maxVUs: 1 })).toThrow(
      /rate must be a positive number/,
    );
    expect(() => validateExecutor({ executor: 'ramping-vus', stages: [] })).toThrow(/stages must be a non-empty/);
    expect(() => validateExecutor({ executor: 'per-vu-iterations' } as never)).toThrow(/unknown executor/);
  });
});
