/** Histograms recorded in several processes merge into exactly the histogram one process records. */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../protocol/random';
import { Metrics } from '../metrics/registry';

describe('metric series across processes', () => {
  it('exported and merged HDR histograms equal the single-process histogram', () => {
    const r = mulberry32(42);
    // Long-tailed latencies, as under load: most small, a few seconds-long.
    const samples = Array.from({ length: 20_000 }, () => (r() < 0.95 ? r() * 50 : 500 + r() * 20_000));
    const triggers = ['check-in', 'background-fetch'];
    const single = new Metrics();
    const parts = [new Metrics(), new Metrics(), new Metrics()];
    samples.forEach((v, i) => {
      const tags = { trigger: triggers[i % 2]! };
      single.add('vu_sync_latency_ms', v, tags);
      single.rate('vu_sync_success_rate', v < 10_000, tags);
      single.count('vu_iterations', 1);
      const p = parts[i % 3]!;
      p.add('vu_sync_latency_ms', v, tags);
      p.rate('vu_sync_success_rate', v < 10_000, tags);
      p.count('vu_iterations', 1);
    });
    // Across a process boundary the series travel as JSON (IPC): Infinity and typed arrays must survive it.
    const merged = new Metrics();
    for (const p of parts) merged.merge(JSON.parse(JSON.stringify(p.exportSeries())));
    for (const tags of [undefined, { trigger: 'check-in' }, { trigger: 'background-fetch' }]) {
      expect(merged.summary('vu_sync_latency_ms', tags)).toEqual(single.summary('vu_sync_latency_ms', tags));
      expect(merged.summary('vu_sync_success_rate', tags)).toEqual(single.summary('vu_sync_success_rate', tags));
    }
    expect(merged.summary('vu_iterations')?.value).toBe(20_000);
    const s = merged.summary('vu_sync_latency_ms')!;
    expect(s.p99).toBeGreaterThan(500); // the tail is kept, not averaged away
  });

  it('an empty series merges without turning min/max into null', () => {
    const a = new Metrics();
    a.handle('vu_sync_latency_ms', 'trend', { trigger: 'x' });
    const b = new Metrics();
    b.add('vu_sync_latency_ms', 5, { trigger: 'x' });
    const m = new Metrics().merge(JSON.parse(JSON.stringify(a.exportSeries()))).merge(b.exportSeries());
    expect(m.summary('vu_sync_latency_ms')).toMatchObject({ count: 1, min: 5, max: 5 });
  });
});
