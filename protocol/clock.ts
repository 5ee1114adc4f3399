/**
 * One clock for the run (architecture.md "Time"). Waits (backoff, background fetch, fault durations)
 * are divided by the time scale; measured latencies of real I/O are not. A device clock may carry an
 * offset (clock-skew fault) that only changes what it writes into updated_at.
 */
export interface Clock {
  /** Simulated epoch ms (wall start + elapsed × scale). */
  now(): number;
  /** Sleep for `ms` of simulated time. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  readonly timeScale: number;
}

export class ScaledClock implements Clock {
  private readonly wallStart = Date.now();
  private readonly perfStart = performance.now();
  constructor(readonly timeScale = 1) {
    if (!(timeScale > 0)) throw new RangeError(`time scale must be > 0, got ${timeScale}`);
  }
  now(): number {
    return Math.round(this.wallStart + (performance.now() - this.perfStart) * this.timeScale);
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms / this.timeScale),
      );
      const onAbort = () => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** A device's view of a clock: the same flow of time, shifted by a skew. */
export class SkewedClock implements Clock {
  offsetMs = 0;
  constructor(private readonly base: Clock) {}
  get timeScale() {
    return this.base.timeScale;
  }
  now(): number {
    return this.base.now() + this.offsetMs;
  }
  sleep(ms: number, signal?: AbortSignal) {
    return this.base.sleep(ms, signal);
  }
}

/** RFC 0006 §5.4: retry with exponential backoff 1 s, 2 s, 4 s, 8 s … max 30 s. */
export function backoffMs(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));
}
