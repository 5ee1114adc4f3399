/**
 * Pairing invokes with their completions. Positions are array positions in the ops array (equal to
 * `index` for a history written by the recorder); typed arrays keep this cheap for a million ops.
 */
import type { HistoryOp, OpType } from '../../protocol/history';

export interface Pairing {
  /** For each position: the position of its partner (completion of an invoke, invoke of a completion), or -1. */
  partner: Int32Array;
  /** Positions of invokes that never completed (treat as `info`). */
  unmatchedInvokes: number[];
  /** Positions of completions without an invoke (a corrupt or truncated history). */
  orphanCompletions: number[];
}

export function pairOps(ops: readonly HistoryOp[]): Pairing {
  const partner = new Int32Array(ops.length).fill(-1);
  const open = new Map<number, number>();
  const orphanCompletions: number[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op.type === 'invoke') {
      open.set(op.opId, i);
    } else {
      const inv = open.get(op.opId);
      if (inv === undefined) {
        orphanCompletions.push(i);
        continue;
      }
      open.delete(op.opId);
      partner[inv] = i;
      partner[i] = inv;
    }
  }
  return { partner, unmatchedInvokes: [...open.values()].sort((a, b) => a - b), orphanCompletions };
}

export interface OpPair {
  invoke: HistoryOp;
  /** Undefined when the operation never completed. */
  completion?: HistoryOp;
  /** `pending` when it never completed (counts as `info` for checkers). */
  outcome: Exclude<OpType, 'invoke'> | 'pending';
}

/** Invoke/completion pairs in invoke order. */
export function pairs(ops: readonly HistoryOp[]): OpPair[] {
  const { partner } = pairOps(ops);
  const out: OpPair[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op.type !== 'invoke') continue;
    const c = partner[i] >= 0 ? ops[partner[i]] : undefined;
    out.push({ invoke: op, completion: c, outcome: c ? (c.type as Exclude<OpType, 'invoke'>) : 'pending' });
  }
  return out;
}

/** Outcome of a pair as checkers see it: a never-completed op is indeterminate. */
export function effectiveOutcome(p: OpPair): Exclude<OpType, 'invoke'> {
  return p.outcome === 'pending' ? 'info' : p.outcome;
}
