/**
 * What the live progress line shows about syncs so far (k6's running summary): how many, how many
 * failed, and their p95, exact over the durations seen (a run has thousands of syncs, not millions).
 */
export class LiveSyncStats {
  private readonly durations: number[] = [];
  failed = 0;

  record(durationMs: number | undefined, ok: boolean): void {
    if (!ok) this.failed++;
    if (typeof durationMs === 'number' && Number.isFinite(durationMs)) this.durations.push(durationMs);
  }

  get count(): number {
    return this.durations.length;
  }

  /** Nearest-rank p95 of the durations so far; undefined before the first sync. */
  p95(): number | undefined {
    if (this.durations.length === 0) return undefined;
    const sorted = [...this.durations].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)];
  }
}
