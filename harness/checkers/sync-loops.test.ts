import { describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../protocol/history';
import { syncLoopStats, syncLoops } from './sync-loops';

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
});
