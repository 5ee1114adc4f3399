/**
 * Which sync gets the next database connection when every connection is busy.
 *
 * Under overload the requests wait for a connection, and with one FIFO queue every request waits
 * the same time W. A full sync is a pull and then a push, so it waits twice (2W) while a pull-only
 * sync waits once: at 1000 VUs, check-ins took 1.75 s at the median and background fetches 0.88 s,
 * and the slowest pushes made the p95. The push of a sync whose pull has already been answered goes
 * first here: a sync in progress finishes before new ones start (as admission control does at a
 * front door). The machine does the same work (the mean over all syncs is fixed by Little's law), but
 * each sync then waits about once, so a full sync no longer takes twice as long as a pull-only one
 * and the tail comes in. A push also carries the device's pending writes: landing them sooner is what
 * the user waits for.
 *
 * Pulls cannot starve in the closed loop a device runs (each push follows a pull of its own); a flood
 * of pushes alone would starve pulls, so after PUSH_BURST pushes in a row with pulls waiting, one
 * pull goes through.
 */
export type GatePriority = 'push' | 'pull';

/** Pushes granted in a row while a pull waits, before one pull goes through. */
export const PUSH_BURST = 16;

/** How long a request may wait for a connection: the pool's own connectionTimeoutMillis (server/db.ts). */
export const GATE_WAIT_MS = 10_000;

/**
 * Waited longer than the pool would have: the message is pg-pool's own, so the request answers 503
 * "database unavailable" (databaseUnavailable) exactly as a timed-out pool.connect() did before.
 */
export class GateTimeoutError extends Error {
  constructor(waitedMs: number) {
    super(`timeout exceeded when trying to connect (waited ${waitedMs} ms for a free database connection)`);
  }
}

interface Waiter {
  grant(): void;
  timer: ReturnType<typeof setTimeout>;
}

export class PoolGate {
  private inUse = 0;
  private readonly push: Waiter[] = [];
  private readonly pull: Waiter[] = [];
  private pushesInARow = 0;

  /**
   * @param permits connections handed out at once (the pool's size: more would wait in the pool's
   *   own FIFO queue again)
   * @param prioritize false: one FIFO queue for every request (the A/B baseline, env
   *   SYNC_SERVER_PUSH_FIRST=0)
   */
  constructor(
    readonly permits: number,
    readonly prioritize = true,
    readonly waitMs = GATE_WAIT_MS,
  ) {}

  /** Requests waiting for a connection. */
  get waiting(): number {
    return this.push.length + this.pull.length;
  }

  /** Runs `fn` once a connection is free for it, and frees the permit when it settles. */
  async run<T>(priority: GatePriority, fn: () => Promise<T>): Promise<T> {
    if (this.inUse < this.permits && this.waiting === 0) this.inUse++;
    else await this.wait(priority === 'push' && this.prioritize ? this.push : this.pull);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private wait(queue: Waiter[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        grant: () => {
          clearTimeout(w.timer);
          resolve();
        },
        timer: setTimeout(() => {
          queue.splice(queue.indexOf(w), 1);
          reject(new GateTimeoutError(this.waitMs));
        }, this.waitMs),
      };
      w.timer.unref?.();
      queue.push(w);
    });
  }

  private release(): void {
    const next = this.next();
    // The permit passes straight to the next waiter, so a request arriving meanwhile cannot jump it.
    if (next) next.grant();
    else this.inUse--;
  }

  private next(): Waiter | undefined {
    if (this.push.length && (this.pushesInARow < PUSH_BURST || !this.pull.length)) {
      this.pushesInARow++;
      return this.push.shift();
    }
    this.pushesInARow = 0;
    return this.pull.shift();
  }
}
