/**
 * The simulated clock of the virtual radio: a discrete-event scheduler. Air time is charged on it, so a
 * transfer can never be faster than its link's physics, whatever the wall time.
 *
 * Time only moves when nothing is left to do "now": every event at the current instant has run and the
 * hosts (noble/bleno here, in workers or in this thread) have had a turn of the event loop to answer.
 * Remote hosts (worker threads) hold the clock until they report that they are quiet, so a reply from a
 * slower thread is still stamped at the instant it answers. `timeScale` is simulated ms per wall ms;
 * `'instant'` jumps to the next event as soon as everyone is quiet.
 */
import type { Clock } from '../../protocol/clock';

/** Captured at load so that the unref trick in the socket (see socket.ts) never touches our own timers. */
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

export type TimeScale = number | 'instant';

interface Entry {
  at: number; // simulated µs since start
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export interface TimerHandle {
  cancel(): void;
}

export interface SimClockOptions {
  /** Simulated ms per wall ms, or 'instant' (default). */
  timeScale?: TimeScale;
  /** Epoch ms that `now()` reports at simulated time 0 (default: Date.now() at creation). */
  epochMs?: number;
}

/** A binary min-heap on (at, seq): the event queue stays O(log n) with thousands of connection events. */
class Heap {
  private a: Entry[] = [];
  get size() {
    return this.a.length;
  }
  peek(): Entry | undefined {
    return this.a[0];
  }
  push(e: Entry) {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p], a[i])) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): Entry | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l], a[m])) m = l;
        if (r < a.length && less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
const less = (x: Entry, y: Entry) => x.at < y.at || (x.at === y.at && x.seq < y.seq);

export class SimClock implements Clock {
  readonly timeScale: number;
  private readonly scale: TimeScale;
  private readonly epochMs: number;
  private t = 0; // µs
  private seq = 0;
  private heap = new Heap();
  private holds = 0;
  private wake: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  private running = false;
  private dirty = false;
  private closed = false;
  private wallStart = performance.now();
  private simAtWallStart = 0;
  /** Events run so far (for benchmarks). */
  eventsRun = 0;
  /** Where errors thrown by scheduled callbacks go (default: stderr). */
  onError: (err: unknown) => void = (err) => console.error('[virtual-radio] scheduled callback failed:', err);

  constructor(opts: SimClockOptions = {}) {
    this.scale = opts.timeScale ?? 'instant';
    if (this.scale !== 'instant' && !(this.scale > 0)) {
      throw new RangeError(`HRN_ERR_BLE_CLOCK: time scale must be > 0 or 'instant', got ${this.scale}`);
    }
    this.timeScale = this.scale === 'instant' ? Number.POSITIVE_INFINITY : this.scale;
    this.epochMs = opts.epochMs ?? Date.now();
  }

  /** Simulated epoch ms. */
  now(): number {
    return this.epochMs + this.t / 1000;
  }
  /** Simulated µs since the clock started (what the link model works in). */
  nowUs(): number {
    return this.t;
  }
  elapsedMs(): number {
    return this.t / 1000;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const h = this.after(Math.max(0, ms) * 1000, () => {
        signal?.removeEventListener('abort', onAbort);
        this.dirty = true;
        resolve();
      });
      const onAbort = () => {
        h.cancel();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Run `fn` `us` simulated µs from now. */
  after(us: number, fn: () => void): TimerHandle {
    return this.at(this.t + Math.max(0, Math.round(us)), fn);
  }

  /** Run `fn` at simulated µs `atUs` (clamped to now). */
  at(atUs: number, fn: () => void): TimerHandle {
    if (this.closed) return { cancel() {} };
    const e: Entry = { at: Math.max(this.t, Math.round(atUs)), seq: this.seq++, fn, cancelled: false };
    this.heap.push(e);
    this.kick();
    return {
      cancel: () => {
        e.cancelled = true;
      },
    };
  }

  /**
   * Keep time from moving (e.g. while a host does real async I/O that must land "now").
   * Returns the release function.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.kick();
    };
  }

  /** Something changed that may let time move (a remote host became quiet, a hold was released). */
  kick(): void {
    if (this.wake) {
      const w = this.wake;
      this.wake = null;
      w();
    }
    if (!this.running && !this.closed) void this.loop();
  }

  close(): void {
    this.closed = true;
    this.heap = new Heap();
    this.kick();
  }

  get pending(): number {
    return this.heap.size;
  }

  /** Resolves once nothing is scheduled any more (every transfer in flight has finished). */
  whenIdle(): Promise<void> {
    if (!this.peekLive() && !this.running) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * Something was handed to a host (or a sleeper woke): before time moves on, the hosts get a turn
   * of the event loop to answer. Instants that only changed the model's own state need no turn.
   */
  markDelivered(): void {
    this.dirty = true;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      // Let local hosts finish what they were doing when the loop was (re)started.
      await new Promise<void>((r) => setImmediate(r));
      while (!this.closed) {
        if (this.dirty) {
          // Let local hosts answer what the last events delivered (noble/bleno finish on microtasks).
          this.dirty = false;
          await new Promise<void>((r) => setImmediate(r));
          continue;
        }
        const next = this.peekLive();
        // A hold stops time from advancing; what is due at the current instant still runs.
        if (!next || (this.holds > 0 && next.at > this.t)) {
          if (!next) {
            // Idle: nothing scheduled; `at()` restarts the loop.
            const w = this.idleWaiters;
            this.idleWaiters = [];
            for (const r of w) r();
            if (!this.peekLive()) break;
            continue;
          }
          await new Promise<void>((r) => {
            this.wake = r;
          });
          this.dirty = true;
          continue;
        }
        if (next.at > this.t && this.scale !== 'instant') {
          const wallDue = this.wallStart + (next.at - this.simAtWallStart) / 1000 / this.scale;
          const wait = wallDue - performance.now();
          if (wait > 1) {
            await new Promise<void>((r) => {
              const tm = realSetTimeout(() => {
                this.wake = null;
                r();
              }, wait);
              this.wake = () => {
                realClearTimeout(tm);
                r();
              };
            });
            this.dirty = true;
            continue;
          }
        }
        // Run every event due at this instant back to back.
        const at = next.at;
        this.t = at;
        for (;;) {
          const e = this.peekLive();
          if (!e || e.at !== at) break;
          this.heap.pop();
          this.eventsRun++;
          try {
            e.fn();
          } catch (err) {
            // A failing callback must not stop time for everyone else.
            this.onError(err);
          }
        }
      }
    } finally {
      this.running = false;
    }
  }

  private peekLive(): Entry | undefined {
    for (;;) {
      const e = this.heap.peek();
      if (!e?.cancelled) return e;
      this.heap.pop();
    }
  }
}
