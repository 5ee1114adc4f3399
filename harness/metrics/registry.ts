/**
 * k6-style metrics: trends (HDR histograms), counters, rates and gauges, each a family of series
 * keyed by tags (`sync_latency_ms{path:phone-cloud}`). A query with tags aggregates every series whose
 * tags include them, the way k6 sub-metrics do, so thresholds can name any subset of tags.
 */
import * as hdr from 'hdr-histogram-js';
import type { MetricSummary } from '../results/types';

export type Tags = Record<string, string>;
export type MetricKind = MetricSummary['kind'];
export type MetricUnit = MetricSummary['unit'];

export interface MetricDefinition {
  kind: MetricKind;
  unit: MetricUnit;
  /** Whether values are simulated time (BLE link model, scaled waits) or wall time. */
  time?: 'wall' | 'simulated';
}

/** HDR histograms record integers: values are stored ×1000 (µs resolution for ms, milli-bytes for bytes). */
const SCALE = 1000;

/** Bucket upper bounds for charts: 1-2-5 steps from 0.1 to 5e10. */
const BOUNDS: number[] = (() => {
  const out: number[] = [];
  for (let e = -1; e <= 10; e++) for (const m of [1, 2, 5]) out.push(Number((m * 10 ** e).toPrecision(2)));
  return out;
})();

function bucketOf(v: number): number {
  let lo = 0;
  let hi = BOUNDS.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (BOUNDS[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo; // BOUNDS.length = overflow
}

const newHistogram = () =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  });

class Series {
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  /** Gauge: last value and when it was set (a global sequence, to merge series by recency). */
  last = 0;
  lastSeq = -1;
  /** Rate: how many samples were true. */
  passes = 0;
  hist: hdr.Histogram | null = null;
  buckets: Uint32Array | null = null;
  constructor(
    readonly name: string,
    readonly tags: Tags,
    readonly def: MetricDefinition,
  ) {
    if (def.kind === 'trend') {
      this.hist = newHistogram();
      this.buckets = new Uint32Array(BOUNDS.length + 1);
    }
  }
}

export interface SeriesHandle {
  /** Trend sample. */
  add(value: number): void;
  /** Counter increment. */
  count(n?: number): void;
  /** Rate sample. */
  rate(pass: boolean): void;
  /** Gauge value. */
  set(value: number): void;
}

function addTrend(s: Series, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`metric ${s.name}: trend samples must be finite and >= 0, got ${value}`);
  }
  s.count++;
  s.sum += value;
  if (value < s.min) s.min = value;
  if (value > s.max) s.max = value;
  s.hist!.recordValue(Math.round(value * SCALE));
  s.buckets![bucketOf(value)]++;
}

/** One series as data (Metrics.exportSeries): JSON- and structured-clone-safe. */
export interface ExportedSeries {
  name: string;
  tags: Tags;
  def: MetricDefinition;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  passes: number;
  /** Trend: the HDR histogram, compressed base64 (hdr-histogram-js encoding). */
  hist?: string;
  buckets?: number[];
}

export interface Aggregate {
  def: MetricDefinition;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  passes: number;
  hist: hdr.Histogram | null;
  buckets: Uint32Array | null;
  series: number;
}

export function seriesKey(name: string, tags?: Tags): string {
  if (!tags) return name;
  const keys = Object.keys(tags).sort();
  if (keys.length === 0) return name;
  return `${name}{${keys.map((k) => `${k}:${tags[k]}`).join(',')}}`;
}

export class Metrics {
  private readonly defs = new Map<string, MetricDefinition>();
  private readonly series = new Map<string, Series>();
  private readonly byName = new Map<string, Series[]>();
  private seq = 0;
  /** Run duration, for per-second counter rates in thresholds (`rate` on a counter). */
  durationMs?: number;

  /** Declare a metric's kind and unit (optional: first use declares it with defaults). */
  define(name: string, def: MetricDefinition): this {
    const prev = this.defs.get(name);
    if (prev && prev.kind !== def.kind) {
      throw new TypeError(`metric ${name} is already a ${prev.kind}; cannot redefine it as a ${def.kind}`);
    }
    this.defs.set(name, { ...prev, ...def });
    return this;
  }

  definition(name: string): MetricDefinition | undefined {
    return this.defs.get(name);
  }

  private get(name: string, kind: MetricKind, tags: Tags | undefined, unit: MetricUnit): Series {
    const key = seriesKey(name, tags);
    let s = this.series.get(key);
    if (s) {
      if (s.def.kind !== kind) throw new TypeError(`metric ${name} is a ${s.def.kind}, not a ${kind}`);
      return s;
    }
    let def = this.defs.get(name);
    if (!def) {
      def = { kind, unit };
      this.defs.set(name, def);
    } else if (def.kind !== kind) {
      throw new TypeError(`metric ${name} is a ${def.kind}, not a ${kind}`);
    }
    s = new Series(name, { ...(tags ?? {}) }, def);
    this.series.set(key, s);
    const list = this.byName.get(name);
    if (list) list.push(s);
    else this.byName.set(name, [s]);
    return s;
  }

  /** Add a sample to a trend (ms by default). Negative and non-finite values are rejected. */
  add(name: string, value: number, tags?: Tags, unit: MetricUnit = 'ms'): void {
    addTrend(this.get(name, 'trend', tags, unit), value);
  }

  /** Increase a counter. */
  count(name: string, n = 1, tags?: Tags, unit: MetricUnit = 'count'): void {
    const s = this.get(name, 'counter', tags, unit);
    s.count += n;
    s.sum += n;
  }

  /** Record a boolean sample of a rate (share of true samples). */
  rate(name: string, pass: boolean, tags?: Tags): void {
    const s = this.get(name, 'rate', tags, 'ratio');
    s.count++;
    if (pass) s.passes++;
  }

  /** Set a gauge (last value wins; min and max are kept). */
  gauge(name: string, value: number, tags?: Tags, unit: MetricUnit = 'count'): void {
    this.setGauge(this.get(name, 'gauge', tags, unit), value);
  }

  private setGauge(s: Series, value: number): void {
    s.count++;
    s.sum += value;
    s.last = value;
    s.lastSeq = this.seq++;
    if (value < s.min) s.min = value;
    if (value > s.max) s.max = value;
  }

  /**
   * A handle on one series, for hot loops: resolving name + tags to a series costs a key build per
   * call, a handle costs nothing (k6's `new Trend(name)` objects, bound to tags).
   */
  handle(name: string, kind: MetricKind, tags?: Tags, unit?: MetricUnit): SeriesHandle {
    const s = this.get(name, kind, tags, unit ?? (kind === 'trend' ? 'ms' : kind === 'rate' ? 'ratio' : 'count'));
    return {
      add: (v) => addTrend(s, v),
      count: (n = 1) => {
        s.count += n;
        s.sum += n;
      },
      rate: (pass) => {
        s.count++;
        if (pass) s.passes++;
      },
      set: (v) => this.setGauge(s, v),
    };
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /**
   * Every series as plain data (trends as compressed HDR histograms), to send across a worker or
   * process boundary; `merge` on the other side adds them up exactly as if recorded there.
   */
  exportSeries(): ExportedSeries[] {
    return [...this.series.values()].map((s) => ({
      name: s.name,
      tags: { ...s.tags },
      def: { ...s.def },
      count: s.count,
      sum: s.sum,
      min: s.min,
      max: s.max,
      last: s.last,
      passes: s.passes,
      ...(s.hist ? { hist: hdr.encodeIntoCompressedBase64(s.hist), buckets: [...s.buckets!] } : {}),
    }));
  }

  /** Add exported series into this registry: counts and histograms sum, min/max widen, gauges keep the merged last. */
  merge(list: readonly ExportedSeries[]): this {
    for (const e of list) {
      this.define(e.name, e.def);
      const s = this.get(e.name, e.def.kind, e.tags, e.def.unit);
      s.count += e.count;
      s.sum += e.sum;
      s.passes += e.passes;
      // Through JSON an empty series' ±Infinity arrives as null.
      if (typeof e.min === 'number' && e.min < s.min) s.min = e.min;
      if (typeof e.max === 'number' && e.max > s.max) s.max = e.max;
      if (e.def.kind === 'gauge' && e.count > 0) {
        s.last = e.last;
        s.lastSeq = this.seq++;
      }
      if (s.hist && e.hist) s.hist.add(hdr.decodeFromCompressedBase64(e.hist, 32, false));
      if (s.buckets && e.buckets) for (let i = 0; i < s.buckets.length; i++) s.buckets[i] += e.buckets[i] ?? 0;
    }
    return this;
  }

  /**
   * Aggregate every series of `name` whose tags include `tags` (k6 sub-metric semantics).
   * Undefined when the metric is unknown or no series matches.
   */
  aggregate(name: string, tags: Tags = {}): Aggregate | undefined {
    const list = this.byName.get(name);
    const def = this.defs.get(name);
    if (!list || !def) return undefined;
    const want = Object.entries(tags);
    const match = list.filter((s) => want.every(([k, v]) => s.tags[k] === v));
    if (match.length === 0) return undefined;
    if (match.length === 1) {
      const s = match[0];
      return {
        def,
        count: s.count,
        sum: s.sum,
        min: s.min,
        max: s.max,
        last: s.last,
        passes: s.passes,
        hist: s.hist,
        buckets: s.buckets,
        series: 1,
      };
    }
    const agg: Aggregate = {
      def,
      count: 0,
      sum: 0,
      min: Number.POSITIVE_INFINITY,
      max: Number.NEGATIVE_INFINITY,
      last: 0,
      passes: 0,
      hist: def.kind === 'trend' ? newHistogram() : null,
      buckets: def.kind === 'trend' ? new Uint32Array(BOUNDS.length + 1) : null,
      series: match.length,
    };
    let lastSeq = -1;
    for (const s of match) {
      agg.count += s.count;
      agg.sum += s.sum;
      agg.passes += s.passes;
      agg.min = Math.min(agg.min, s.min);
      agg.max = Math.max(agg.max, s.max);
      if (s.lastSeq > lastSeq) {
        lastSeq = s.lastSeq;
        agg.last = s.last;
      }
      if (s.hist && agg.hist) agg.hist.add(s.hist);
      if (s.buckets && agg.buckets) for (let i = 0; i < s.buckets.length; i++) agg.buckets[i] += s.buckets[i];
    }
    return agg;
  }

  /** Summary of one metric (optionally a tag subset), as results.json stores it. */
  summary(name: string, tags?: Tags): MetricSummary | undefined {
    const a = this.aggregate(name, tags);
    return a ? toSummary(name, tags, a) : undefined;
  }

  /** One summary per series, plus one per metric aggregating its series when it has several. */
  summaries(): MetricSummary[] {
    const out: MetricSummary[] = [];
    for (const [name, list] of this.byName) {
      const untagged = list.length === 1 && Object.keys(list[0].tags).length === 0;
      if (!untagged && list.length > 1) out.push(this.summary(name)!);
      for (const s of list) out.push(this.summary(name, s.tags)!);
    }
    return out;
  }
}

const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;

function toSummary(name: string, tags: Tags | undefined, a: Aggregate): MetricSummary {
  const base: MetricSummary = {
    name,
    ...(tags && Object.keys(tags).length ? { tags: { ...tags } } : {}),
    kind: a.def.kind,
    unit: a.def.unit,
    ...(a.def.time ? { time: a.def.time } : {}),
  };
  switch (a.def.kind) {
    case 'counter':
      return { ...base, count: a.count, value: a.sum };
    case 'rate':
      return { ...base, count: a.count, value: a.count ? round(a.passes / a.count, 6) : 0 };
    case 'gauge':
      return { ...base, count: a.count, value: a.last, min: a.min, max: a.max, mean: round(a.sum / a.count) };
    case 'trend': {
      const h = a.hist!;
      // HDR answers with the upper edge of a value's bucket, which can lie above the largest recorded
      // value: clamp into [min, max] so a report never shows p95 > max.
      const p = (q: number) =>
        a.count ? round(Math.min(a.max, Math.max(a.min, h.getValueAtPercentile(q) / SCALE))) : 0;
      const buckets: Array<[number, number]> = [];
      const b = a.buckets!;
      let first = b.findIndex((c) => c > 0);
      let last = b.length - 1;
      while (last > 0 && b[last] === 0) last--;
      if (first < 0) first = 0;
      for (let i = first; i <= last; i++) buckets.push([i < BOUNDS.length ? BOUNDS[i] : a.max, b[i]]);
      return {
        ...base,
        count: a.count,
        min: a.count ? round(a.min) : 0,
        max: a.count ? round(a.max) : 0,
        mean: a.count ? round(a.sum / a.count) : 0,
        p50: p(50),
        p90: p(90),
        p95: p(95),
        p99: p(99),
        buckets,
      };
    }
  }
}
