/**
 * Sync loops (RFC 0006 §3.4 rollback trigger "sync loop (continuous retry)"), two kinds:
 *
 * - re-pull: a device that keeps re-pulling the same changes. With a correct server a full pull that
 *   returns rows always moves the device's stamp (every row has a stamp above the lastPulledAt sent,
 *   the timestamp is at least that), so LOOP_SYNCS ok full syncs in a row that each pulled rows and
 *   ended on the same stamp are a loop: the device downloads the same data forever.
 * - failing: a device whose syncs keep failing. Faults make syncs fail on purpose, so a failed sync
 *   during which a fault was in effect (from its fault-start to its fault-stop event) is excused; the
 *   others are continuous retries with nothing to blame. FAILING_LOOP_SYNCS unexcused failures in a
 *   row are a loop, and so is a device still failing FAILING_LOOP_SYNCS times in a row when the history
 *   ends (every fault healed, the quiescence rounds included): it never recovered.
 */
import type { HistoryOp } from '../../protocol/history';
import type { Checker, Violation } from './types';

/** Consecutive same-stamp full syncs with rows that make a loop. */
export const LOOP_SYNCS = 3;
/** Consecutive failed syncs with no fault to blame (or still failing at the end) that make a loop. */
export const FAILING_LOOP_SYNCS = 5;

export interface DeviceLoopStats {
  /** Longest run of ok full syncs that pulled rows and ended on the same stamp. */
  repullStreak: number;
  /** Longest run of failed syncs (fail or info) in a row, excused or not. */
  failureStreak: number;
  /** Longest run of failed syncs in a row during which no fault was in effect. */
  unexcusedFailureStreak: number;
  /** Failed syncs in a row at the end of the history (0 when the last sync was ok). */
  trailingFailures: number;
  /** History indexes of the longest re-pull streak. */
  repullIndexes: number[];
  /** History indexes of the failing loop: the longest unexcused streak, or the trailing one if longer. */
  failingIndexes: number[];
}

export type LoopKind = 'repull' | 'failing';

export function syncLoopStats(history: readonly HistoryOp[]): Map<string, DeviceLoopStats> {
  const out = new Map<string, DeviceLoopStats>();
  const cur = new Map<string, { stamp: unknown; idx: number[]; fails: number[]; unexcused: number[] }>();
  // Faults in effect, by label (two identical faults may overlap), and each device's open sync: did a
  // fault take effect while it ran?
  const active = new Map<string, number>();
  let inEffect = 0;
  const open = new Map<string, { faulted: boolean }>();
  for (const op of history) {
    if (op.process === 'nemesis' && op.type === 'invoke' && op.fault && !op.error) {
      const label = String((op.fault.params as Record<string, unknown> | undefined)?.label ?? op.fault.name);
      if (op.f === 'fault-start') {
        active.set(label, (active.get(label) ?? 0) + 1);
        inEffect++;
        for (const o of open.values()) o.faulted = true;
      } else if (op.f === 'fault-stop' && (active.get(label) ?? 0) > 0) {
        active.set(label, active.get(label)! - 1);
        inEffect--;
      }
      continue;
    }
    if (op.f !== 'sync' || !op.device) continue;
    if (op.type === 'invoke') {
      open.set(op.device, { faulted: inEffect > 0 });
      continue;
    }
    const excused = (open.get(op.device)?.faulted ?? false) || inEffect > 0;
    open.delete(op.device);
    const s = out.get(op.device) ?? {
      ...{ repullStreak: 0, failureStreak: 0, unexcusedFailureStreak: 0, trailingFailures: 0 },
      ...{ repullIndexes: [], failingIndexes: [] },
    };
    out.set(op.device, s);
    const c = cur.get(op.device) ?? { stamp: undefined, idx: [], fails: [], unexcused: [] };
    cur.set(op.device, c);
    if (op.type !== 'ok') {
      c.fails.push(op.index);
      s.failureStreak = Math.max(s.failureStreak, c.fails.length);
      s.trailingFailures = c.fails.length;
      // An excused failure neither extends nor breaks the unexcused run: a flaky window inside a
      // device's endless failures does not hide them.
      if (!excused) {
        c.unexcused.push(op.index);
        if (c.unexcused.length > s.unexcusedFailureStreak) {
          s.unexcusedFailureStreak = c.unexcused.length;
          if (s.unexcusedFailureStreak >= s.failingIndexes.length) s.failingIndexes = [...c.unexcused];
        }
      }
      if (c.fails.length >= FAILING_LOOP_SYNCS && c.fails.length > s.failingIndexes.length)
        s.failingIndexes = [...c.fails];
      continue;
    }
    c.fails = [];
    c.unexcused = [];
    s.trailingFailures = 0;
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

/** Which loops a device is in (empty: none). */
export function loopsOf(s: DeviceLoopStats): LoopKind[] {
  const out: LoopKind[] = [];
  if (s.repullStreak >= LOOP_SYNCS) out.push('repull');
  if (s.unexcusedFailureStreak >= FAILING_LOOP_SYNCS || s.trailingFailures >= FAILING_LOOP_SYNCS) out.push('failing');
  return out;
}

export const syncLoops: Checker = {
  name: 'sync-loops',
  description: `no device re-pulls the same changes (${LOOP_SYNCS}+ full syncs with rows ending on one stamp) or keeps failing (${FAILING_LOOP_SYNCS}+ failed syncs in a row with no fault in effect, or at the end of the run)`,
  check(input) {
    const started = performance.now();
    const stats = syncLoopStats(input.history);
    const violations: Violation[] = [];
    for (const [device, s] of stats) {
      const loops = loopsOf(s);
      if (loops.includes('repull'))
        violations.push({
          device,
          message: `${device} re-pulled the same changes ${s.repullStreak} times in a row: each full sync returned rows but its stamp never moved (a sync loop, RFC §3.4)`,
          historyIndexes: s.repullIndexes,
        });
      if (loops.includes('failing'))
        violations.push({
          device,
          message:
            s.trailingFailures >= FAILING_LOOP_SYNCS
              ? `${device} kept failing: its last ${s.trailingFailures} syncs failed in a row, to the end of the run (every fault healed, the quiescence rounds included: continuous retries, a sync loop, RFC §3.4)`
              : `${device} kept failing: ${s.unexcusedFailureStreak} syncs in a row failed with no fault in effect (continuous retries, a sync loop, RFC §3.4)`,
          historyIndexes: s.failingIndexes,
        });
    }
    const worst = [...stats].sort((a, b) => b[1].failureStreak - a[1].failureStreak)[0];
    return {
      name: 'sync-loops',
      passed: violations.length === 0,
      summary: violations.length
        ? violations.map((v) => v.message).join('; ')
        : `no sync loop on ${stats.size} device(s)${worst && worst[1].failureStreak ? `; longest failure streak ${worst[1].failureStreak} (${worst[0]}), ${worst[1].unexcusedFailureStreak} with no fault in effect` : ''}`,
      violations,
      durationMs: performance.now() - started,
    };
  },
};
