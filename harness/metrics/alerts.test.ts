import { describe, expect, it } from 'vitest';
import { alertExpectationsCheck } from '../runner/analysis';
import { evaluateAlerts } from './alerts';
import { Metrics } from './registry';

function run(o: { ok: number; failed: number; conflicted: number; latencyMs: number }): Metrics {
  const m = new Metrics();
  m.define('sync_success_rate', { kind: 'rate', unit: 'ratio' });
  m.define('conflict_rate', { kind: 'rate', unit: 'ratio' });
  m.define('sync_latency_ms', { kind: 'trend', unit: 'ms', time: 'wall' });
  for (let i = 0; i < o.ok + o.failed; i++) m.rate('sync_success_rate', i < o.ok, { path: 'phone-cloud' });
  for (let i = 0; i < o.ok; i++) {
    m.rate('conflict_rate', i < o.conflicted, { path: 'phone-cloud' });
    m.add('sync_latency_ms', o.latencyMs, { path: 'phone-cloud', payload: 'small' });
  }
  return m;
}

describe('RFC §5.3 alert rules', () => {
  it('stay quiet on a healthy run', () => {
    const a = evaluateAlerts(run({ ok: 100, failed: 2, conflicted: 3, latencyMs: 400 }));
    expect(a.map((x) => [x.name, x.fired])).toEqual([
      ['sync-failure-rate', false],
      ['conflict-rate', false],
      ['sync-latency', false],
    ]);
  });

  it('fire with their severity and channel just past each bound', () => {
    const a = evaluateAlerts(run({ ok: 94, failed: 6, conflicted: 11, latencyMs: 10_500 }));
    expect(a.filter((x) => x.fired).map((x) => `${x.name}:${x.severity}:${x.channel}`)).toEqual([
      'sync-failure-rate:critical:PagerDuty',
      'conflict-rate:warning:Slack',
      'sync-latency:info:Dashboard',
    ]);
    expect(a[0].measured).toBe(0.94);
  });

  it('leave an alert quiet when its metric has no samples', () => {
    const a = evaluateAlerts(new Metrics());
    expect(a.every((x) => !x.fired && x.measured === null)).toBe(true);
  });

  it('a scenario expectation fails when a named alert did not fire, or fired when it should stay quiet', () => {
    const alerts = evaluateAlerts(run({ ok: 50, failed: 50, conflicted: 0, latencyMs: 100 }));
    expect(alertExpectationsCheck({ fired: ['sync-failure-rate'], quiet: ['sync-latency'] }, alerts)?.passed).toBe(
      true,
    );
    const bad = alertExpectationsCheck({ fired: ['conflict-rate'], quiet: ['sync-failure-rate'] }, alerts)!;
    expect(bad.passed).toBe(false);
    expect(bad.violations.map((v) => v.message)).toEqual([
      'alert conflict-rate did not fire (conflict rate > 10 %, conflict_rate measured 0)',
      'alert sync-failure-rate fired (sync failure rate > 5 %, sync_success_rate measured 0.5)',
    ]);
    expect(alertExpectationsCheck(undefined, alerts)).toBeUndefined();
  });
});
