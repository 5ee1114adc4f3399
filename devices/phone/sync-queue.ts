/**
 * The phone's sync scheduler: one sync at a time, and when several wait, the most urgent trigger of
 * RFC §2.6 goes first (critical, then high, then normal; equal priority in request order). Triggers
 * the phone raises itself (`auto`) collapse: a second request of the same trigger while one waits
 * rides along with it, and a waiting automatic request whose tables the sync just started covers is
 * answered by that sync. Explicit requests (a scenario's `sync()`) each get a sync of their own.
 */
import type { SyncTrigger } from '../../protocol/device';
import { comparePriority, TRIGGER_PLANS, tablesCover } from '../../protocol/sync-triggers';

interface Waiting<T> {
  trigger: SyncTrigger;
  auto: boolean;
  seq: number;
  waiters: Array<{ resolve(v: T): void; reject(e: unknown): void }>;
}

export class SyncQueue<T> {
  private readonly waiting: Waiting<T>[] = [];
  private busy = false;
  private seq = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly run: (trigger: SyncTrigger) => Promise<T>) {}

  /** Triggers waiting now, in the order they will run. */
  get queued(): SyncTrigger[] {
    return [...this.waiting].sort(order).map((w) => w.trigger);
  }

  request(trigger: SyncTrigger, auto = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const same = auto ? this.waiting.find((w) => w.auto && w.trigger === trigger) : undefined;
      if (same) same.waiters.push({ resolve, reject });
      else this.waiting.push({ trigger, auto, seq: this.seq++, waiters: [{ resolve, reject }] });
      this.pump();
    });
  }

  /** Resolves when nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (!this.busy && this.waiting.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private pump(): void {
    if (this.busy) return;
    this.busy = true;
    // Chosen a tick later, so a burst of requests made together runs by priority, not arrival.
    queueMicrotask(() => this.runNext());
  }

  private runNext(): void {
    const next = [...this.waiting].sort(order)[0];
    if (!next) {
      this.busy = false;
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
      return;
    }
    // Automatic requests already waiting that this sync's tables cover are answered by it.
    const plan = TRIGGER_PLANS[next.trigger].tables;
    const served = this.waiting.filter(
      (w) => w === next || (w.auto && tablesCover(plan, TRIGGER_PLANS[w.trigger].tables)),
    );
    for (const w of served) this.waiting.splice(this.waiting.indexOf(w), 1);
    const waiters = served.flatMap((w) => w.waiters);
    this.run(next.trigger)
      .then(
        (v) => {
          for (const w of waiters) w.resolve(v);
        },
        (e) => {
          for (const w of waiters) w.reject(e);
        },
      )
      .finally(() => this.runNext());
  }
}

function order(a: Waiting<unknown>, b: Waiting<unknown>): number {
  return comparePriority(a.trigger, b.trigger) || a.seq - b.seq;
}
