/**
 * FIT decoding in worker threads (fit-decode-worker.mjs does the work). A small pool: one decode per
 * worker at a time, workers started on first use and unref'd while idle so an idle server exits
 * cleanly. A worker that dies (out of memory on a hostile file) fails only its own request and is
 * replaced.
 */
import { Worker } from 'node:worker_threads';

/** Objective activity fields read from the FIT session (sync-contract.md `activities`). */
export interface FitSummary {
  sport: string | null;
  subSport: string | null;
  /** ms since the epoch */
  startedAt: number | null;
  durationS: number | null;
  distanceM: number | null;
  avgHr: number | null;
  maxHr: number | null;
  calories: number | null;
  elevationGainM: number | null;
  records: number;
  laps: number;
  sessions: number;
}

export type FitDecodeResult =
  | { ok: true; summary: FitSummary; parseMs: number; totalMs: number }
  | { ok: false; parser: 'fit-file-parser' | '@garmin/fitsdk' | 'application' | 'cross-check'; reason: string };

interface Job {
  id: number;
  bytes: Uint8Array;
  resolve(r: FitDecodeResult): void;
  reject(e: Error): void;
}

const WORKER_URL = new URL('./fit-decode-worker.mjs', import.meta.url);

export class FitDecodePool {
  private idle: Worker[] = [];
  private busy = new Map<Worker, Job>();
  private queue: Job[] = [];
  private seq = 0;
  private closed = false;

  constructor(private readonly size = 1) {}

  decode(bytes: Uint8Array): Promise<FitDecodeResult> {
    if (this.closed) return Promise.reject(new Error('FIT decode pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: ++this.seq, bytes, resolve, reject });
      this.pump();
    });
  }

  private spawn(): Worker {
    const w = new Worker(WORKER_URL);
    w.on('message', (m: { id: number; result: FitDecodeResult }) => {
      const job = this.busy.get(w);
      if (!job || job.id !== m.id) return;
      this.busy.delete(w);
      w.unref();
      this.idle.push(w);
      job.resolve(m.result);
      this.pump();
    });
    const fail = (err: Error) => {
      const job = this.busy.get(w);
      this.busy.delete(w);
      this.idle = this.idle.filter((x) => x !== w);
      job?.reject(new Error(`FIT decoder worker failed: ${err.message}`));
      this.pump();
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (this.busy.has(w) || this.idle.includes(w)) fail(new Error(`exited with code ${code}`));
    });
    return w;
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      let w = this.idle.pop();
      if (!w) {
        if (this.busy.size >= this.size) return;
        w = this.spawn();
      }
      const job = this.queue.shift()!;
      this.busy.set(w, job);
      w.ref();
      // Copy: the caller keeps its buffer (it may still hash or store it).
      const copy = new Uint8Array(job.bytes);
      w.postMessage({ id: job.id, bytes: copy }, [copy.buffer]);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new Error('FIT decode pool closed'));
    const all = [...this.idle, ...this.busy.keys()];
    for (const [, j] of this.busy) j.reject(new Error('FIT decode pool closed'));
    this.idle = [];
    this.busy.clear();
    await Promise.all(all.map((w) => w.terminate()));
  }
}
