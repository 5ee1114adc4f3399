/**
 * A virtual LoadTimer: time moves only when every pending promise has settled and something sleeps,
 * straight to the earliest wake-up. Executor tests run a 60 s schedule in milliseconds, exactly, on
 * any machine load (no wall-clock assumption).
 */
import type { LoadTimer } from './executors';

export class VirtualTimer implements LoadTimer {
  private t = 0;
  private seq = 0;
  private readonly waits: Array<{ at: number; seq: number; wake(): void }> = [];

  now(): number {
    return this.t;
  }

  sleepUntil(at: number): Promise<void> {
    return new Promise((wake) => this.waits.push({ at: Math.max(at, this.t), seq: this.seq++, wake }));
  }

  /** A wait of `ms` virtual ms (what an iteration under test "takes"). */
  sleep(ms: number): Promise<void> {
    return this.sleepUntil(this.t + ms);
  }

  /** Drive `p` to completion, advancing virtual time whenever everything else is waiting. */
  async run<T>(p: Promise<T>): Promise<T> {
    let settled = false;
    const out = p.finally(() => {
      settled = true;
    });
    while (!settled) {
      // Let every microtask and I/O callback run before deciding that all is waiting.
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      if (settled) break;
      if (this.waits.length === 0) throw new Error('VirtualTimer: nothing is waiting and the promise is not settled');
      this.waits.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.waits[0]!.at;
      this.t = next;
      while (this.waits.length && this.waits[0]!.at === next) this.waits.shift()!.wake();
    }
    return out;
  }
}
