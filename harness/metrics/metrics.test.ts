import { describe, expect, it } from 'vitest';
import { runCheckers } from '../checkers';
import { dsl } from '../checkers/testing/dsl';
import { runWorkload } from '../checkers/testing/model';
import { HarnessError } from '../config/errors';
import { History } from '../history';
import {
  checkThresholds,
  deriveHistoryMetrics,
  evaluateThresholds,
  layerThresholds,
  Metrics,
  mergeThresholdSpecs,
  metricsFromChecks,
  parseMetricKey,
  parseThreshold,
  RFC_THRESHOLDS,
} from '.';

describe('Metrics registry', () => {
  it('summarises trends with percentiles, exact min/max/mean and chart buckets', () => {
    const m = new Metrics();
    for (let i = 1; i <= 1000; i++) m.add('sync_latency_ms', i, { path: 'phone-cloud' });
    m.add('sync_latency_ms', 5000, { path: 'web-cloud' });
    const s = m.summary('sync_latency_ms', { path: 'phone-cloud' })!;
    expect(s).toMatchObject({ kind: 'trend', unit: 'ms', count: 1000, min: 1, max: 1000, mean: 500.5 });
    expect(s.p50).toBeCloseTo(500, -1);
    expect(s.p95).toBeCloseTo(950, -1);
    expect(s.p99).toBeCloseTo(990, -1);
    expect(s.buckets!.reduce((n, [, c]) => n + c, 0)).toBe(1000);
    expect(s.buckets![0]).toEqual([1, 1]);
    // Untagged = every series (k6 sub-metric semantics).
    expect(m.summary('sync_latency_ms')!.max).toBe(5000);
    expect(m.summary('sync_latency_ms')!.count).toBe(1001);
    const all = m.summaries().map((x) => [x.name, x.tags]);
    expect(all).toEqual([
      ['sync_latency_ms', undefined],
      ['sync_latency_ms', { path: 'phone-cloud' }],
      ['sync_latency_ms', { path: 'web-cloud' }],
    ]);
  });

  it('never reports a percentile above max or below min (HDR buckets have upper edges)', () => {
    const m = new Metrics();
    for (const v of [1234.567, 1234.9, 2987.3]) m.add('sync_latency_ms', v);
    const s = m.summary('sync_latency_ms')!;
    for (const q of [s.p50, s.p90, s.p95, s.p99]) {
      expect(q).toBeLessThanOrEqual(s.max!);
      expect(q).toBeGreaterThanOrEqual(s.min!);
    }
    const [t] = checkThresholds(m, { sync_latency_ms: ['p(99)<=2987.3'] });
    expect(t.passed, String(t.measured)).toBe(true);
  });

  it('keeps sub-millisecond resolution and handles counters, rates and gauges', () => {
    const m = new Metrics();
    m.add('t', 0.25);
    m.add('t', 0.75);
    expect(m.summary('t')).toMatchObject({ min: 0.25, max: 0.75, mean: 0.5 });
    m.count('bytes_up', 100, { path: 'a' }, 'bytes');
    m.count('bytes_up', 50, { path: 'b' }, 'bytes');
    expect(m.summary('bytes_up')).toMatchObject({ kind: 'counter', unit: 'bytes', value: 150 });
    m.rate('ok', true);
    m.rate('ok', false);
    m.rate('ok', true);
    m.rate('ok', true);
    expect(m.summary('ok')).toMatchObject({ kind: 'rate', value: 0.75, count: 4 });
    m.gauge('mem', 30, { d: 'A' }, 'mb');
    m.gauge('mem', 45, { d: 'B' }, 'mb');
    m.gauge('mem', 20, { d: 'A' }, 'mb');
    expect(m.summary('mem')).toMatchObject({ value: 20, max: 45, min: 20 });
    expect(() => m.count('t')).toThrow(/t is a trend, not a counter/);
    expect(() => m.add('t', -1)).toThrow(/>= 0/);
  });
});

describe('thresholds', () => {
  it('parses k6 expressions and metric keys', () => {
    expect(parseThreshold('sync_latency_ms{path:phone-cloud}', 'p(95)<2000')).toMatchObject({
      name: 'sync_latency_ms',
      tags: { path: 'phone-cloud' },
      aggregation: 'p',
      percentile: 95,
      op: '<',
      target: 2000,
    });
    expect(parseThreshold('x', 'p(99.9) <= 1.5e3')).toMatchObject({ percentile: 99.9, op: '<=', target: 1500 });
    for (const e of ['avg<1', 'min>=0', 'max!=3', 'med==2', 'count==0', 'rate>0.99', 'value<50']) {
      expect(() => parseThreshold('x', e)).not.toThrow();
    }
    expect(parseMetricKey('sync_latency_ms{path=phone-cloud, payload:small}').tags).toEqual({
      path: 'phone-cloud',
      payload: 'small',
    });
  });

  it('rejects bad expressions with messages naming the metric and the expression', () => {
    const err = (() => {
      try {
        parseThreshold('sync_latency_ms{path:phone-cloud}', 'p95<2000');
      } catch (e) {
        return e as HarnessError;
      }
    })();
    expect(err).toBeInstanceOf(HarnessError);
    expect(err!.code).toBe('HRN_ERR_CONFIG');
    expect(err!.message).toBe(
      'threshold on sync_latency_ms{path:phone-cloud}: "p95<2000" is not a valid expression; expected <aggregation> <operator> <number>, e.g. p(95)<2000; aggregations: p(N), avg, min, max, med, count, rate, value; operators: < <= > >= == !=',
    );
    expect(() => parseThreshold('x', 'p(101)<3')).toThrow(/percentile 101; it must be between 0 and 100/);
    expect(() => parseThreshold('bad key{', 'avg<1')).toThrow(/"bad key\{" is not a valid metric key/);
    expect(() => parseThreshold('x{path}', 'avg<1')).toThrow(/tag "path" is not tag:value/);
    expect(() => checkThresholds(new Metrics(), { a: ['avg<<1'], b: ['foo>1'] })).toThrow(
      /2 invalid thresholds:\n {2}threshold on a: "avg<<1".*\n {2}threshold on b: "foo>1"/,
    );
  });

  it('evaluates against the registry, with sub-metrics, skips and kind errors', () => {
    const m = new Metrics();
    for (let i = 0; i < 100; i++) m.add('sync_latency_ms', i < 96 ? 100 : 3000, { path: 'phone-cloud' });
    m.add('sync_latency_ms', 10_000, { path: 'web-cloud' });
    for (let i = 0; i < 1000; i++) m.rate('sync_success_rate', i !== 0);
    m.define('lost_writes', { kind: 'counter', unit: 'count' });
    const r = checkThresholds(m, {
      'sync_latency_ms{path:phone-cloud}': ['p(95)<2000', 'max<2000'],
      sync_success_rate: ['rate>0.99'],
      lost_writes: ['count==0'],
      watch_transfer_ms: ['p(95)<10000'],
      sync_latency_ms: ['value<1'],
    });
    expect(r.map((x) => [x.metric, x.expression, x.passed, x.measured])).toEqual([
      ['sync_latency_ms{path:phone-cloud}', 'p(95)<2000', true, expect.closeTo(100, 0)], // HDR: 3 significant digits
      ['sync_latency_ms{path:phone-cloud}', 'max<2000', false, 3000],
      ['sync_success_rate', 'rate>0.99', true, 0.999],
      ['lost_writes', 'count==0', true, 0],
      ['watch_transfer_ms', 'p(95)<10000', true, null],
      ['sync_latency_ms', 'value<1', false, null],
    ]);
    expect(r[4]).toMatchObject({ skipped: true, message: 'no samples of watch_transfer_ms: not evaluated' });
    expect(r[5].message).toMatch(/"value" does not apply to sync_latency_ms, a trend; use p\(N\), avg/);
  });

  it('layers RFC defaults under config and scenario thresholds', () => {
    const layered = layerThresholds([
      { spec: RFC_THRESHOLDS, source: 'rfc' },
      { spec: { sync_success_rate: ['rate>0.9'] }, source: 'config' },
      { spec: { conflict_rate: [] }, source: 'scenario' },
    ]);
    expect(layered.find((t) => t.name === 'sync_success_rate')).toMatchObject({
      expression: 'rate>0.9',
      source: 'config',
    });
    expect(layered.some((t) => t.name === 'conflict_rate')).toBe(false);
    expect(layered.find((t) => t.name === 'lost_writes')?.source).toBe('rfc');
    expect(Object.keys(RFC_THRESHOLDS)).toContain('sync_latency_ms{path:phone-cloud,payload:small,fault:none}');
  });

  it('lets a key without `fault` (the RFC key before fault tagging) replace the RFC fault:none default', () => {
    const RFC = 'sync_latency_ms{path:phone-cloud,payload:small,fault:none}';
    const layered = (scenario: Record<string, string[]>) =>
      layerThresholds([
        { spec: RFC_THRESHOLDS, source: 'rfc' },
        { spec: scenario, source: 'scenario' },
      ])
        .filter((t) => t.name === 'sync_latency_ms')
        .map((t) => [t.metric, t.expression, t.source]);
    // The old key, in either tag order or with `=`: it replaces the default and judges every sync.
    expect(layered({ 'sync_latency_ms{path:phone-cloud,payload:small}': ['p(95)<9000'] })).toEqual([
      ['sync_latency_ms{path:phone-cloud,payload:small}', 'p(95)<9000', 'scenario'],
    ]);
    expect(layered({ 'sync_latency_ms{payload=small, path=phone-cloud}': ['p(95)<9000'] })).toHaveLength(1);
    // A fault:active ceiling is another set of syncs: the RFC default stays beside it.
    expect(layered({ 'sync_latency_ms{path:phone-cloud,payload:small,fault:active}': ['p(95)<9000'] })).toEqual([
      [RFC, 'p(95)<2000', 'rfc'],
      ['sync_latency_ms{path:phone-cloud,payload:small,fault:active}', 'p(95)<9000', 'scenario'],
    ]);
    // Restating the RFC key itself replaces it; a key with other tags replaces nothing.
    expect(layered({ [RFC]: ['p(95)<120000'] })).toEqual([[RFC, 'p(95)<120000', 'scenario']]);
    expect(layered({ 'sync_latency_ms{path:phone-cloud}': ['max<9000'] })).toHaveLength(2);
    // The k6 export merges the same way, the replacing key in the replaced one's place.
    expect(
      Object.keys(mergeThresholdSpecs(RFC_THRESHOLDS, { 'sync_latency_ms{path:phone-cloud,payload:small}': [] })),
    ).toEqual(
      Object.keys(RFC_THRESHOLDS).map((k) => (k === RFC ? 'sync_latency_ms{path:phone-cloud,payload:small}' : k)),
    );
  });
});

describe('metrics from a history', () => {
  it('derives latency per path, success and conflict rates, bytes and propagation', () => {
    const conflict = {
      tableName: 'goals',
      id: 'g1',
      clientRecord: { id: 'g1' },
      serverRecord: { id: 'g1' },
      resolution: 'server_wins',
      resolvedRecord: { id: 'g1' },
    };
    const h = dsl({ A: 'u1', B: 'u1' })
      .create('A', 'goals', 'g1', { title: 'x' }) // t 1..2
      .sync('A') // 3..4: acked at 4
      .sync('B', { outcome: 'fail' }) // 5..6
      .sync('B', { conflicts: [conflict as never] }) // 7..8: first B sync after the ack
      .sync('A', { outcome: 'info' });
    const m = deriveHistoryMetrics(h.ops, {
      devices: [
        { id: 'A', user: 'u1', kind: 'phone' },
        { id: 'B', user: 'u1', kind: 'web' },
      ],
    });
    expect(m.summary('sync_latency_ms', { path: 'phone-cloud' })).toMatchObject({ count: 1, max: 1 });
    expect(m.summary('sync_latency_ms', { path: 'web-cloud' })).toMatchObject({ count: 1 });
    expect(m.summary('sync_success_rate')).toMatchObject({ count: 4, value: 0.5 });
    expect(m.summary('conflict_rate')).toMatchObject({ count: 2, value: 0.5 });
    expect(m.summary('table_conflict_rate', { table: 'goals' })).toMatchObject({ value: 0.5 });
    expect(m.summary('conflicts', { table: 'goals' })?.value).toBe(1);
    // Written (acked locally) at t=2, visible on B after B's sync ending at t=8.
    expect(m.summary('propagation_ms')).toMatchObject({ count: 1, max: 6 });
  });

  it('tags each sync fault:none or fault:active, and the RFC latency judges only fault:none', () => {
    let now = 0;
    const h = new History({ now: () => now });
    const sync = (device: string, start: number, end: number) => {
      now = start;
      const op = h.invoke({ f: 'sync', device, user: 'u1' });
      now = end;
      op.ok({ bytesUp: 100, bytesDown: 100 });
    };
    const fault = (t: number, f: 'fault-start' | 'fault-stop', name: string, targets: string[]) => {
      now = t;
      h.event({ process: 'nemesis', f, fault: { name, targets, params: { kind: name, label: name } } });
    };
    for (let i = 0; i < 20; i++) sync('A', i * 100, i * 100 + 50); // healthy: 50 ms each, t 0..1950
    fault(2000, 'fault-start', 'serverCrash', []);
    sync('A', 2100, 9100); // waits out the crash: 7 s
    fault(3000, 'fault-stop', 'serverCrash', []);
    fault(10_000, 'fault-start', 'latency', ['B']);
    sync('B', 10_100, 13_100); // under its own latency toxic
    sync('A', 10_200, 10_260); // the toxic is B's: A's sync is healthy
    fault(14_000, 'fault-stop', 'latency', ['B']);
    sync('B', 14_100, 14_140); // after the heal
    const m = deriveHistoryMetrics(h.ops, {
      devices: [
        { id: 'A', user: 'u1' },
        { id: 'B', user: 'u1' },
      ],
    });
    expect(m.summary('sync_latency_ms', { fault: 'none' })).toMatchObject({ count: 22, max: 60 });
    expect(m.summary('sync_latency_ms', { fault: 'active' })).toMatchObject({ count: 2, min: 3000, max: 7000 });
    const [rfc] = evaluateThresholds(
      m,
      layerThresholds([{ spec: RFC_THRESHOLDS, source: 'rfc' }]).filter((t) => t.name === 'sync_latency_ms'),
    );
    expect(rfc).toMatchObject({ metric: 'sync_latency_ms{path:phone-cloud,payload:small,fault:none}', passed: true });
    expect(rfc!.measured).toBeLessThanOrEqual(60);
    // Untagged by fault, the same syncs miss the RFC's 2 s: what the scenarios used to loosen.
    const [all] = checkThresholds(m, { 'sync_latency_ms{path:phone-cloud,payload:small}': ['p(95)<2000'] });
    expect(all).toMatchObject({ passed: false });
  });

  it('tags each sync success fault:none or fault:active, and the RFC success rate judges only fault:none', () => {
    let now = 0;
    const h = new History({ now: () => now });
    const sync = (device: string, start: number, end: number, outcome: 'ok' | 'fail' | 'info' = 'ok') => {
      now = start;
      const op = h.invoke({ f: 'sync', device, user: 'u1' });
      now = end;
      op[outcome]({ bytesUp: 100, bytesDown: 100 });
    };
    const fault = (t: number, f: 'fault-start' | 'fault-stop', name: string, targets: string[]) => {
      now = t;
      h.event({ process: 'nemesis', f, fault: { name, targets, params: { kind: name, label: name } } });
    };
    for (let i = 0; i < 200; i++) sync('A', i * 10, i * 10 + 5); // healthy: 200 ok, t 0..1995
    fault(2000, 'fault-start', 'serverCrash', []);
    sync('A', 2100, 2200, 'fail'); // refused while the server is down
    sync('B', 2300, 2400, 'info'); // its answer lost in the crash
    fault(3000, 'fault-stop', 'serverCrash', []);
    fault(4000, 'fault-start', 'offline', ['B']);
    sync('B', 4100, 4200, 'fail'); // B is offline
    sync('A', 4100, 4150); // the cut is B's: A's sync is healthy
    fault(5000, 'fault-stop', 'offline', ['B']);
    sync('B', 5100, 5200, 'fail'); // after the heal: a healthy system's failure
    const m = deriveHistoryMetrics(h.ops, {
      devices: [
        { id: 'A', user: 'u1' },
        { id: 'B', user: 'u1' },
      ],
    });
    expect(m.summary('sync_success_rate', { fault: 'none' })).toMatchObject({ count: 202, value: 0.99505 });
    expect(m.summary('sync_success_rate', { fault: 'active' })).toMatchObject({ count: 3, value: 0 });
    // Every sync, as the §5.3 alert reads it.
    expect(m.summary('sync_success_rate')).toMatchObject({ count: 205 });
    const rfcOf = (spec: Record<string, string[]>) =>
      evaluateThresholds(
        m,
        layerThresholds([
          { spec: RFC_THRESHOLDS, source: 'rfc' },
          { spec, source: 'scenario' },
        ]).filter((t) => t.name === 'sync_success_rate'),
      ).map((e) => [e.metric, e.expression, e.passed, e.measured]);
    expect(rfcOf({})).toEqual([['sync_success_rate{fault:none}', 'rate>0.99', true, 0.99505]]);
    // A fault-tolerance floor on the faulted syncs sits beside the RFC target.
    expect(rfcOf({ 'sync_success_rate{fault:active}': ['rate>0.3'] })).toEqual([
      ['sync_success_rate{fault:none}', 'rate>0.99', true, 0.99505],
      ['sync_success_rate{fault:active}', 'rate>0.3', false, 0],
    ]);
    // The key of before (no fault tag) replaces the RFC default and judges every sync, as it did.
    expect(rfcOf({ sync_success_rate: ['rate>0.99'] })).toEqual([
      ['sync_success_rate', 'rate>0.99', false, expect.closeTo(201 / 205, 5)],
    ]);
  });

  it('feeds checker results into lost_writes so RFC thresholds judge a whole run', () => {
    const model = runWorkload({ users: 1, devicesPerUser: 2, operations: 200, seed: 5, faults: true });
    const input = model.checkInput();
    const m = deriveHistoryMetrics(input.history, { devices: input.devices });
    metricsFromChecks(runCheckers(input), m);
    const r = evaluateThresholds(m, layerThresholds([{ spec: RFC_THRESHOLDS, source: 'rfc' }]));
    expect(r.find((x) => x.metric === 'lost_writes')).toMatchObject({ passed: true, measured: 0 });
    expect(m.summary('bytes_up')!.value).toBeGreaterThan(0);
    expect(m.summary('propagation_ms')!.count).toBeGreaterThan(0);
  });
});
