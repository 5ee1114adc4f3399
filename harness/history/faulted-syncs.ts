/**
 * Which syncs ran while a nemesis fault was in effect (Jepsen: an operation concurrent with a fault
 * is judged apart from one that ran on a healthy system). A sync is `active` when its [invoke,
 * completion] interval overlaps a fault window that applies to its device, `none` otherwise, so a
 * latency threshold can hold the RFC's promise on healthy syncs (`fault:none`) and state a separate
 * fault-tolerance ceiling on the others (`fault:active`).
 *
 * A fault window runs from its fault-start event minus the event's `applyMs` (the nemesis records the
 * start once the fault is applied: it took hold somewhere in that span) to its fault-stop event (recorded
 * once healing finished: a restarted server is serving again), or to the end of the run when never
 * healed. A failed start (`error`) applied nothing and opens no window. A fault naming devices
 * (`targets`: offline, latency, appKill, a partition's cut-off group…) applies to those devices' syncs;
 * one naming none (serverCrash, databaseRestart, databasePartition, maintenance, a server pause)
 * applies to every device's.
 *
 * No grace after a heal: a sync that started during the fault and finished after it (waiting out
 * the backoff, reconnecting) already overlaps the window; one started after the heal is a sync on a
 * healed system, and if it is slow that is what the RFC target is there to catch.
 */
import type { HistoryOp } from '../../protocol/history';

export type FaultTag = 'none' | 'active';

export interface FaultWindow {
  /** Fault name (kind). */
  name: string;
  label: string;
  /** Devices it applies to; empty: every device (a server- or database-side fault). */
  targets: readonly string[];
  /** ms since run start: the fault-start event's time minus its applyMs. */
  start: number;
  /** ms since run start of the fault-stop event; Infinity when never healed in the history. */
  end: number;
}

function labelOf(op: HistoryOp): string {
  return String((op.fault?.params as Record<string, unknown> | undefined)?.label ?? op.fault?.name);
}

/** The fault windows of a history, in start order. */
export function faultWindows(history: readonly HistoryOp[]): FaultWindow[] {
  // Two identical faults (same label) may overlap; pairing a stop with any open start of its label
  // gives the same union of windows.
  const open = new Map<string, FaultWindow[]>();
  const out: FaultWindow[] = [];
  for (const op of history) {
    if (op.type !== 'invoke' || !op.fault) continue;
    if (op.f === 'fault-start') {
      if (op.error) continue;
      const applyMs = Number((op.fault.params as Record<string, unknown> | undefined)?.applyMs ?? 0);
      const w: FaultWindow = {
        name: op.fault.name,
        label: labelOf(op),
        targets: op.fault.targets ?? [],
        start: op.time - (Number.isFinite(applyMs) && applyMs > 0 ? applyMs : 0),
        end: Number.POSITIVE_INFINITY,
      };
      const list = open.get(w.label) ?? [];
      list.push(w);
      open.set(w.label, list);
      out.push(w);
    } else if (op.f === 'fault-stop') {
      const w = open.get(labelOf(op))?.shift();
      if (w) w.end = op.time;
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Disjoint sorted intervals: starts and ends both increasing. */
interface Intervals {
  starts: Float64Array;
  ends: Float64Array;
}

function merge(windows: readonly FaultWindow[]): Intervals {
  const s: number[] = [];
  const e: number[] = [];
  for (const w of [...windows].sort((a, b) => a.start - b.start)) {
    const n = s.length;
    if (n && w.start <= e[n - 1]) e[n - 1] = Math.max(e[n - 1], w.end);
    else {
      s.push(w.start);
      e.push(w.end);
    }
  }
  return { starts: Float64Array.from(s), ends: Float64Array.from(e) };
}

function overlaps(iv: Intervals, start: number, end: number): boolean {
  // The last interval starting at or before `end`; the intervals are disjoint, so it is the only
  // candidate that can still reach back to `start`.
  let lo = 0;
  let hi = iv.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (iv.starts[mid] <= end) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && iv.ends[lo - 1] >= start;
}

/**
 * A tagger over one history's fault windows: `tag(device, start, end)` is `active` when [start, end]
 * overlaps (touching counts) a window applying to `device`. O(log faults) per sync.
 */
export function faultTagger(windows: readonly FaultWindow[]): (device: string, start: number, end: number) => FaultTag {
  const global = merge(windows.filter((w) => w.targets.length === 0));
  const perDevice = new Map<string, Intervals>();
  const targeted = new Map<string, FaultWindow[]>();
  for (const w of windows) for (const d of w.targets) targeted.set(d, [...(targeted.get(d) ?? []), w]);
  for (const [d, ws] of targeted) perDevice.set(d, merge(ws));
  return (device, start, end) => {
    if (overlaps(global, start, end)) return 'active';
    const own = perDevice.get(device);
    return own && overlaps(own, start, end) ? 'active' : 'none';
  };
}
