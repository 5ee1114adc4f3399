/**
 * Sync loops (RFC 0006 §3.4 rollback trigger "sync loop (continuous retry)"): a device that keeps
 * re-pulling the same changes. With a correct server a full pull that returns rows always moves the
 * device's stamp (every row has a stamp above the lastPulledAt sent, the timestamp is at least that),
 * so LOOP_SYNCS ok full syncs in a row that each pulled rows and ended on the same stamp are a loop:
 * the device downloads the same data forever. Failing syncs are counted too (the longest streak per
 * device, reported, not judged: faults make syncs fail on purpose).
 */
import type { HistoryOp } from '../../protocol/history';
import type { Checker, Violation } from './types';

/** Consecutive same-stamp full syncs with rows that make a loop. */
export const LOOP_SYNCS = 3;

export interface DeviceLoopStats {
  /** Longest run of ok full syncs that pulled rows and ended on the same stamp. */
  repullStreak: number;
  /** Longest run of failed syncs (fail or info) in a row. */
  failureStreak: number;
  /** History indexes of the longest re-pull streak. */
  repullIndexes: number[];
}

export function syncLoopStats(history: readonly HistoryOp[]): Map<string, DeviceLoopStats> {
  const out = new Map<string, DeviceLoopStats>();
  const cur = new Map<string, { stamp: unknown; idx: number[]; fails: number }>();
  for (const op of history) {
    if (op.f !== 'sync' || op.type === 'invoke' || !op.device) continue;
    const s = out.get(op.device) ?? { repullStreak: 0, failureStreak: 0, repullIndexes: [] };
    out.set(op.device, s);
    const c = cur.get(op.device) ?? { stamp: undefined, idx: [], fails: 0 };
    cur.set(op.device, c);
    if (op.type !== 'ok') {
      c.fails++;
      s.failureStreak = Math.max(s.failureStreak, c.fails);
      continue;
    }
    c.fails = 0;
    const scope = op.extra?.scope;
    // Subset syncs (RFC 2.6 triggers, pull-only) do not move the all-tables stamp by design.
    if (scope !== undefined && scope !== 'all') continue;
    const stamp = op.extra?.lastPulledAt;
    if ((op.pulled ?? 0) > 0 && stamp !== undefined && stamp === c.stamp) c.idx.push(op.index);
    else c.idx = (op.pulled ?? 0) > 0 ? [op.index] : [];
    c.stamp = stamp;
    if (c.idx.length > s.repullStreak) {
      s.repullStreak = c.idx.length;
      s.repullIndexes = [...c.idx];
    }
  }
  return out;
}

export const syncLoops: Checker = {
  name: 'sync-loops',
  description: `no device re-pulls the same changes (${LOOP_SYNCS}+ full syncs with rows ending on one stamp)`,
  check(input) {
    const started = performance.now();
    const stats = syncLoopStats(input.history);
    const violations: Violation[] = [];
    for (const [device, s] of stats)
      if (s.repullStreak >= LOOP_SYNCS)
        violations.push({
          device,
          message: `${device} re-pulled the same changes ${s.repullStreak} times in a row: each full sync returned rows but its stamp never moved (a sync loop, RFC §3.4)`,
          historyIndexes: s.repullIndexes,
        });
    const worst = [...stats].sort((a, b) => b[1].failureStreak - a[1].failureStreak)[0];
    return {
      name: 'sync-loops',
      passed: violations.length === 0,
      summary: violations.length
        ? violations.map((v) => v.message).join('; ')
        : `no sync loop on ${stats.size} device(s)${worst && worst[1].failureStreak ? `; longest failure streak ${worst[1].failureStreak} (${worst[0]})` : ''}`,
      violations,
      durationMs: performance.now() - started,
    };
  },
};
