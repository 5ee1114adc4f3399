/**
 * k6-style thresholds: `{ 'sync_latency_ms{path:phone-cloud}': ['p(95)<2000'], lost_writes: ['count==0'] }`.
 * Parsed up front (so a typo fails the config load, not the end of a long run) and evaluated against
 * a Metrics registry. A tagged key selects every series carrying those tags (k6 sub-metrics).
 */
import { HarnessError } from '../config/errors';
import type { ThresholdResult } from '../results/types';
import type { Aggregate, Metrics, Tags } from './registry';
import { RFC_TARGETS } from './rfc-targets';

export type Aggregation = 'p' | 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'value';
export type Comparator = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type ThresholdSource = ThresholdResult['source'];
export type ThresholdSpec = Record<string, readonly string[]>;

export interface ParsedThreshold {
  /** The key exactly as written. */
  metric: string;
  name: string;
  tags: Tags;
  expression: string;
  aggregation: Aggregation;
  percentile?: number;
  op: Comparator;
  target: number;
  source: ThresholdSource;
}

/** ThresholdResult plus why it could not be measured (a compatible extension of results/types.ts). */
export interface ThresholdEvaluation extends ThresholdResult {
  /** True when the metric had no samples: reported, not failed. */
  skipped?: boolean;
  message?: string;
}

/** The RFC 0006 thresholds every run is judged by, from the one RFC target table. */
export const RFC_THRESHOLDS: ThresholdSpec = Object.fromEntries(
  Object.values(RFC_TARGETS).map((t) => [t.key, [t.threshold]]),
);

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const EXPR =
  /^\s*(p\(\s*(\d+(?:\.\d+)?)\s*\)|avg|min|max|med|count|rate|value)\s*(<=|>=|==|!=|<|>)\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*$/i;
const EXPR_HELP =
  'expected <aggregation> <operator> <number>, e.g. p(95)<2000; aggregations: p(N), avg, min, max, med, count, rate, value; operators: < <= > >= == !=';

function configError(message: string): HarnessError {
  return new HarnessError(
    'HRN_ERR_CONFIG',
    message,
    'Fix `thresholds` in harness.config.ts or the scenario (k6 syntax).',
  );
}

/** Parse `name` or `name{tag:value,tag2:value}` (also accepts `tag=value`, as architecture.md writes it). */
export function parseMetricKey(key: string): { name: string; tags: Tags } {
  const m = /^\s*([^{}\s]+)\s*(?:\{([^{}]*)\})?\s*$/.exec(key);
  if (!m || !NAME.test(m[1])) {
    throw configError(
      `threshold metric "${key}" is not a valid metric key; expected name or name{tag:value,...}, e.g. sync_latency_ms{path:phone-cloud}`,
    );
  }
  const tags: Tags = {};
  if (m[2] !== undefined && m[2].trim() !== '') {
    for (const part of m[2].split(',')) {
      const kv = /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*[:=]\s*([^,]*?)\s*$/.exec(part);
      if (!kv || kv[2] === '') {
        throw configError(`threshold metric "${key}": tag "${part.trim()}" is not tag:value`);
      }
      tags[kv[1]] = kv[2];
    }
  }
  return { name: m[1], tags };
}

export function parseThreshold(
  metric: string,
  expression: string,
  source: ThresholdSource = 'config',
): ParsedThreshold {
  const { name, tags } = parseMetricKey(metric);
  if (typeof expression !== 'string') {
    throw configError(
      `threshold on ${metric}: expressions must be strings like 'p(95)<2000', got ${JSON.stringify(expression)}`,
    );
  }
  const e = parseExpression(expression);
  if (!e) throw configError(`threshold on ${metric}: "${expression}" is not a valid expression; ${EXPR_HELP}`);
  if (e.percentile !== undefined && !(e.percentile >= 0 && e.percentile <= 100)) {
    throw configError(
      `threshold on ${metric}: "${expression}" asks for percentile ${e.percentile}; it must be between 0 and 100`,
    );
  }
  return { metric, name, tags, expression, ...e, source };
}

/**
 * The one threshold grammar (k6): `<aggregation> <operator> <number>`. Undefined when `expression`
 * is not one; `parseThreshold` turns that into a config error, reports just skip the marker.
 */
export function parseExpression(
  expression: string,
): { aggregation: Aggregation; percentile?: number; op: Comparator; target: number } | undefined {
  const m = EXPR.exec(expression);
  if (!m) return undefined;
  const aggWord = m[1].toLowerCase();
  const aggregation = (aggWord.startsWith('p(') ? 'p' : aggWord) as Aggregation;
  return {
    aggregation,
    ...(aggregation === 'p' ? { percentile: Number(m[2]) } : {}),
    op: m[3] as Comparator,
    target: Number(m[4]),
  };
}

/** Parse a whole spec, reporting every bad expression at once. */
export function parseThresholds(spec: ThresholdSpec, source: ThresholdSource = 'config'): ParsedThreshold[] {
  const out: ParsedThreshold[] = [];
  const errors: string[] = [];
  for (const [metric, exprs] of Object.entries(spec)) {
    if (!Array.isArray(exprs)) {
      errors.push(
        `threshold on ${metric}: expected an array of expressions like ['p(95)<2000'], got ${JSON.stringify(exprs)}`,
      );
      continue;
    }
    for (const e of exprs) {
      try {
        out.push(parseThreshold(metric, e, source));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  }
  if (errors.length === 1) throw configError(errors[0]);
  if (errors.length > 1) throw configError(`${errors.length} invalid thresholds:\n  ${errors.join('\n  ')}`);
  return out;
}

/**
 * Whether a threshold key written in a later layer replaces one of an earlier layer: the same metric
 * and the same tags (in any order, `:` or `=`), where a later key that names no `fault` tag also
 * replaces an earlier key that does. So `sync_latency_ms{path:phone-cloud,payload:small}` in a config
 * or scenario (the RFC key before syncs were tagged fault:none|active) still replaces the RFC default
 * `sync_latency_ms{path:phone-cloud,payload:small,fault:none}`, and judges every sync, faulted or
 * not, as it always did; `...,fault:active` names a different set of syncs and replaces nothing.
 */
export function replacesThresholdKey(later: string, earlier: string): boolean {
  const a = parseMetricKey(later);
  const b = parseMetricKey(earlier);
  if (a.name !== b.name) return false;
  const bt = { ...b.tags };
  if (!('fault' in a.tags)) delete bt.fault;
  const ak = Object.keys(a.tags);
  return ak.length === Object.keys(bt).length && ak.every((k) => bt[k] === a.tags[k]);
}

/** Layers of (key, value) merged in order: a key replaces the earlier layers' keys it names, in the first one's place. */
function layerEntries<T>(layers: ReadonlyArray<ReadonlyArray<readonly [string, T]>>): Array<[string, T]> {
  let out: Array<[string, T]> = [];
  for (const layer of layers) {
    const next: Array<[string, T] | undefined> = [...out];
    const added: Array<[string, T]> = [];
    for (const [k, v] of layer) {
      let at = -1;
      // Only the earlier layers' entries (indexes < out.length hold them until replaced).
      for (let i = 0; i < out.length; i++) {
        if (next[i] !== out[i] || !replacesThresholdKey(k, out[i][0])) continue;
        if (at < 0) at = i;
        next[i] = undefined;
      }
      if (at >= 0) next[at] = [k, v];
      else added.push([k, v]);
    }
    out = [...next.filter((e): e is [string, T] => e !== undefined), ...added];
  }
  return out;
}

/** Specs merged as `layerThresholds` merges them (an empty list removes the threshold). */
export function mergeThresholdSpecs(...specs: Array<ThresholdSpec | undefined>): ThresholdSpec {
  return Object.fromEntries(layerEntries(specs.map((s) => Object.entries(s ?? {}))));
}

/**
 * RFC defaults, then config, then scenario: a later layer replaces an earlier one's expressions for
 * the same metric key (as `thresholds` in HarnessConfig is documented to merge; `replacesThresholdKey`
 * says which keys are the same).
 */
export function layerThresholds(
  layers: Array<{ spec: ThresholdSpec | undefined; source: ThresholdSource }>,
): ParsedThreshold[] {
  const parsed = layers.map(({ spec, source }) => {
    const all = spec ? parseThresholds(spec, source) : [];
    return Object.keys(spec ?? {}).map((k) => [k, all.filter((p) => p.metric === k)] as const);
  });
  return layerEntries(parsed).flatMap(([, p]) => p);
}

const KIND_AGGS: Record<string, readonly Aggregation[]> = {
  trend: ['p', 'avg', 'min', 'max', 'med', 'count'],
  counter: ['count', 'value', 'rate'],
  rate: ['rate', 'value', 'count'],
  gauge: ['value', 'min', 'max', 'avg', 'count'],
};

function measure(t: ParsedThreshold, a: Aggregate, durationMs: number | undefined): number | string {
  const kind = a.def.kind;
  if (!KIND_AGGS[kind].includes(t.aggregation)) {
    return `"${t.aggregation === 'p' ? `p(${t.percentile})` : t.aggregation}" does not apply to ${t.name}, a ${kind}; use ${KIND_AGGS[kind].map((x) => (x === 'p' ? 'p(N)' : x)).join(', ')}`;
  }
  switch (t.aggregation) {
    // Clamped to the recorded range like the reports' percentiles (HDR gives a bucket's upper edge).
    case 'p':
      return Math.min(a.max, Math.max(a.min, a.hist!.getValueAtPercentile(t.percentile!) / 1000));
    case 'med':
      return Math.min(a.max, Math.max(a.min, a.hist!.getValueAtPercentile(50) / 1000));
    case 'avg':
      return a.count ? a.sum / a.count : 0;
    case 'min':
      return a.min;
    case 'max':
      return a.max;
    case 'count':
      return kind === 'counter' ? a.sum : a.count;
    case 'value':
      return kind === 'counter' ? a.sum : kind === 'rate' ? (a.count ? a.passes / a.count : 0) : a.last;
    case 'rate':
      if (kind === 'rate') return a.count ? a.passes / a.count : 0;
      if (!durationMs) return `rate of counter ${t.name} is per second and needs the run duration (metrics.durationMs)`;
      return a.sum / (durationMs / 1000);
  }
}

function compare(v: number, op: Comparator, target: number): boolean {
  switch (op) {
    case '<':
      return v < target;
    case '<=':
      return v <= target;
    case '>':
      return v > target;
    case '>=':
      return v >= target;
    case '==':
      return v === target;
    case '!=':
      return v !== target;
  }
}

/**
 * Evaluate parsed thresholds. A metric with no samples is `skipped` (passed, measured null), except
 * counters, which count from zero (`lost_writes: ['count==0']` holds when nothing was lost).
 */
export function evaluateThresholds(metrics: Metrics, thresholds: readonly ParsedThreshold[]): ThresholdEvaluation[] {
  return thresholds.map((t) => {
    const base = { metric: t.metric, expression: t.expression, source: t.source };
    const a = metrics.aggregate(t.name, t.tags);
    if (!a) {
      const def = metrics.definition(t.name);
      if (def?.kind === 'counter' && (t.aggregation === 'count' || t.aggregation === 'value')) {
        return { ...base, measured: 0, passed: compare(0, t.op, t.target) };
      }
      return {
        ...base,
        measured: null,
        passed: true,
        skipped: true,
        message: `no samples of ${t.metric}: not evaluated`,
      };
    }
    const v = measure(t, a, metrics.durationMs);
    if (typeof v === 'string')
      return { ...base, measured: null, passed: false, message: `threshold on ${t.metric}: ${v}` };
    const measured = Math.round(v * 1e6) / 1e6;
    return { ...base, measured, passed: compare(v, t.op, t.target) };
  });
}

/** Parse and evaluate in one go. */
export function checkThresholds(
  metrics: Metrics,
  spec: ThresholdSpec,
  source: ThresholdSource = 'config',
): ThresholdEvaluation[] {
  return evaluateThresholds(metrics, parseThresholds(spec, source));
}
