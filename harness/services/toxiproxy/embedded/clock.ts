/**
 * Time and randomness for toxics. Deadlines come from the monotonic clock (performance.now) and a
 * timer that fires early waits again, because the suite's lower bounds are exact and Node's timer
 * clock can lag the moment a chunk was read.
 */
import { performance } from 'node:perf_hooks';
import { mulberry32 } from '../../../../protocol/random';

export const now = (): number => performance.now();

export interface Cancel {
  cancel(): void;
}

/**
 * Calls fn once `now() >= deadline` (never before, and never synchronously: callers may still be
 * setting up state when the deadline has already passed).
 */
export function atDeadline(deadline: number, fn: () => void): Cancel {
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  const check = () => {
    if (cancelled) return;
    const wait = deadline - now();
    if (wait <= 0) {
      cancelled = true;
      fn();
      return;
    }
    // setTimeout has 1 ms granularity and its clock may run behind performance.now(): ceil and re-check.
    timer = setTimeout(check, Math.ceil(wait));
  };
  const first = Math.ceil(deadline - now());
  // Already due: setImmediate instead of setTimeout(0), which Node stretches to 1 ms.
  let immediate: NodeJS.Immediate | undefined;
  if (first <= 0) immediate = setImmediate(check);
  else timer = setTimeout(check, first);
  return {
    cancel() {
      cancelled = true;
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}

/** Small seedable PRNG (mulberry32); all jitter, toxicity and slicer draws come from one instance. */
export function createRng(seed: number = (Math.random() * 2 ** 32) >>> 0): () => number {
  return mulberry32(seed);
}
