import { describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../protocol/history';
import { deriveHistoryMetrics } from '../metrics/derive';
import { FAILING_LOOP_SYNCS, syncLoopStats, syncLoops } from './sync-loops';

let index = 0;
const sync = (device: string, type: 'ok' | 'fail', pulled: number, lastPulledAt?: number, scope?: unknown): HistoryOp =>
  ({
    index: index++,
    time: index,
    process: device,
    type,
    f: 'sync',
    device,
    pulled,
    extra: { attempts: 1, ...(lastPulledAt !== undefined ? { lastPulledAt } : {}), ...(scope ? { scope } : {}) },
  }) as unknown as HistoryOp;

const check = (history: HistoryOp[]) => syncLoops.check({ history, serverState: {}, devices: [] });

describe('sync-loops checker', () => {
  it('flags a device whose full syncs keep pulling rows without moving its stamp', () => {
    const r = check([sync('a', 'ok', 5, 100), sync('a', 'ok', 5, 100), sync('a', 'ok', 5, 100)]);
    expect(r.passed).toBe(false);
    expect(r.violations[0]).toMatchObject({ device: 'a', historyIndexes: [0, 1, 2] });
  });

  it('passes a healthy device: rows once, then empty pulls, or a stamp that moves', () => {
    expect(check([sync('a', 'ok', 5, 100), sync('a', 'ok', 0, 100), sync('a', 'ok', 0, 100)]).passed).toBe(true);
    expect(check([sync('a', 'ok', 5, 100), sync('a', 'ok', 5, 200), sync('a', 'ok', 5, 300)]).passed).toBe(true);
  });

  it('ignores subset syncs (they leave the all-tables stamp alone by design) and counts failure streaks', () => {
    const h = [sync('a', 'ok', 2, 100), sync('a', 'ok', 2, 100, ['goals']), sync('a', 'ok', 2, 100, ['goals'])];
    expect(check(h).passed).toBe(true);
    const f = syncLoopStats([sync('b', 'fail', 0), sync('b', 'fail', 0), sync('b', 'ok', 0, 1), sync('b', 'fail', 0)]);
    expect(f.get('b')?.failureStreak).toBe(2);
  });

  const fault = (f: 'fault-start' | 'fault-stop', label = 'offline(device=a)'): HistoryOp =>
    ({
      index: index++,
      time: index,
      process: 'nemesis',
      type: 'invoke',
      f,
      fault: { name: 'offline', targets: ['a'], params: { kind: 'offline', label } },
    }) as unknown as HistoryOp;
  const invoke = (device: string): HistoryOp =>
    ({ index: index++, time: index, process: device, type: 'invoke', f: 'sync', device }) as unknown as HistoryOp;
  const failing = (device: string, n: number) =>
    Array.from({ length: n }, () => [invoke(device), sync(device, 'fail', 0)]).flat();

  it('flags a device whose syncs keep failing with no fault in effect, with the indexes of the streak', () => {
    const h = [
      invoke('a'),
      sync('a', 'ok', 1, 10),
      ...failing('a', FAILING_LOOP_SYNCS),
      invoke('a'),
      sync('a', 'ok', 0, 10),
    ];
    const r = check(h);
    expect(r.passed).toBe(false);
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]!.message).toMatch(/a kept failing: 5 syncs in a row failed with no fault in effect/);
    expect(r.violations[0]!.historyIndexes).toHaveLength(FAILING_LOOP_SYNCS);
  });

  it('excuses failures while a fault is in effect, but not a device still failing at the end after the heal', () => {
    const during = [fault('fault-start'), ...failing('a', 8), fault('fault-stop'), invoke('a'), sync('a', 'ok', 0, 10)];
    expect(check(during).passed).toBe(true);
    // A sync that began before the fault and failed after its heal is excused as well.
    const straddling = [invoke('a'), fault('fault-start'), fault('fault-stop'), sync('a', 'fail', 0)];
    expect(syncLoopStats(straddling).get('a')?.unexcusedFailureStreak).toBe(0);
    const never = [fault('fault-start'), ...failing('a', 8), fault('fault-stop'), ...failing('a', 1)];
    expect(syncLoopStats(never).get('a')).toMatchObject({ trailingFailures: 9, unexcusedFailureStreak: 1 });
    const r = check(never);
    expect(r.passed).toBe(false);
    expect(r.violations[0]!.message).toMatch(/its last 9 syncs failed in a row, to the end of the run/);
  });

  it('four failures with no fault are not yet a loop; a healthy device beside a looping one is not named', () => {
    expect(check([...failing('a', FAILING_LOOP_SYNCS - 1), invoke('a'), sync('a', 'ok', 0, 1)]).passed).toBe(true);
    const r = check([invoke('b'), sync('b', 'ok', 0, 1), ...failing('a', FAILING_LOOP_SYNCS)]);
    expect(r.violations.map((v) => v.device)).toEqual(['a']);
  });

  it('gives the metrics sync_loop_devices{loop} and sync_consecutive_failures{device}', () => {
    const h = [
      ...[sync('r', 'ok', 5, 100), sync('r', 'ok', 5, 100), sync('r', 'ok', 5, 100)],
      ...failing('f', 6),
      invoke('ok'),
      sync('ok', 'ok', 0, 1),
    ];
    const m = deriveHistoryMetrics(h);
    expect(m.aggregate('sync_loop_devices', { loop: 'repull' })?.count).toBe(1);
    expect(m.aggregate('sync_loop_devices', { loop: 'failing' })?.count).toBe(1);
    expect(m.aggregate('sync_consecutive_failures', { device: 'f' })?.max).toBe(6);
    expect(m.aggregate('sync_consecutive_failures', { device: 'ok' })?.max).toBe(0);
  });
});
