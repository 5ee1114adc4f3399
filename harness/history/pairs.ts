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
  const orphanCompletions: number[] = [];
  // opIds from the recorder are dense (0, 1, 2…): a typed array beats a Map by far at a million ops.
  let maxId = -1;
  let dense = true;
  for (let i = 0; i < ops.length; i++) {
    const id = ops[i].opId;
    if (!Number.isInteger(id) || id < 0) {
      dense = false;
      break;
    }
    if (id > maxId) maxId = id;
  }
  dense = dense && maxId < 4 * ops.length + 16;
  const openAt = dense ? new Int32Array(maxId + 1).fill(-1) : null;
  const open = dense ? null : new Map<number, number>();
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op.type === 'invoke') {
      if (openAt) openAt[op.opId] = i;
      else open!.set(op.opId, i);
      continue;
    }
    const inv = openAt ? openAt[op.opId] : (open!.get(op.opId) ?? -1);
    if (inv < 0) {
      orphanCompletions.push(i);
      continue;
    }
    if (openAt) openAt[op.opId] = -1;
    else open!.delete(op.opId);
    partner[inv] = i;
    partner[i] = inv;
  }
  const unmatchedInvokes: number[] = [];
  if (openAt) {
    for (let i = 0; i < ops.length; i++) if (ops[i].type === 'invoke' && partner[i] < 0) unmatchedInvokes.push(i);
  } else {
    unmatchedInvokes.push(...[...open!.values()].sort((a, b) => a - b));
  }
  return { partner, unmatchedInvokes, orphanCompletions };
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
