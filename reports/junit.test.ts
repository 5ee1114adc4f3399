import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { finalScenarios } from './base';
import { renderJunit } from './junit';
import { generateSampleRun } from './testing/sample-run';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (n) => ['testsuite', 'testcase', 'property'].includes(n),
});

describe('junit reporter', () => {
  const { result } = generateSampleRun();
  const finals = finalScenarios(result.scenarios);
  const xml = renderJunit(result);
  const doc = parser.parse(xml);
  const suites = doc.testsuites.testsuite as any[];

  it('is well-formed XML with one testsuite per scenario (retried attempts folded in)', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(result.scenarios.length).toBe(finals.length + 1);
    expect(suites.map((s) => s.name)).toEqual(finals.map((s) => s.name));
  });

  it('carries each RFC alert as a property and the fired ones in system-out, never as a failure', () => {
    const props = (suites[1].properties.property as any[]).filter((p) => p.name.startsWith('alert.'));
    expect(props.map((p) => p.name)).toEqual(['alert.sync-failure-rate', 'alert.conflict-rate', 'alert.sync-latency']);
    expect(props[0].value).toMatch(/^fired critical PagerDuty: sync failure rate > 5 %; measured [\d.]+%$/);
    expect(props[1].value).toMatch(/^quiet warning Slack/);
    expect(String(suites[1]['system-out'])).toContain('alert fired: critical → PagerDuty: sync failure rate > 5 %');
  });

  it('has one testcase per check and per threshold, and consistent counts', () => {
    let tests = 0;
    let failures = 0;
    for (const [i, s] of finals.entries()) {
      const cases = suites[i].testcase as any[];
      expect(cases).toHaveLength(s.checks.length + s.thresholds.length);
      const failed = s.checks.filter((c) => !c.passed).length + s.thresholds.filter((t) => !t.passed).length;
      expect(Number(suites[i].failures)).toBe(failed);
      expect(cases.filter((c) => c.failure)).toHaveLength(failed);
      tests += cases.length;
      failures += failed;
    }
    expect(Number(doc.testsuites.tests)).toBe(tests);
    expect(Number(doc.testsuites.failures)).toBe(failures);
  });

  it("carries the checker's summary and violations with history indexes", () => {
    const s = result.scenarios.find((x) => x.name === 'server-crash-mid-push')!;
    const lost = s.checks.find((c) => c.name === 'lost-writes')!;
    const suite = suites.find((x) => x.name === s.name);
    const tc = (suite.testcase as any[]).find((c) => c.name === 'check: lost-writes');
    expect(tc.failure.message).toBe(lost.summary);
    expect(tc.failure.type).toBe('check');
    for (const v of lost.violations) {
      expect(tc.failure['#text']).toContain(v.message);
      expect(tc.failure['#text']).toContain(`ops=[${v.historyIndexes!.join(',')}]`);
    }
    const thr = (suite.testcase as any[]).find((c) => c.name === 'threshold: lost_writes count==0');
    expect(thr.failure.message).toContain('measured 3');
  });

  it('reports flaky scenarios as passed with a system-out note', () => {
    const suite = suites.find((x) => x.name === 'watch-context-pack');
    expect(Number(suite.failures)).toBe(0);
    for (const tc of suite.testcase as any[]) {
      expect(tc.failure).toBeUndefined();
      expect(tc['system-out']).toMatch(
        /flaky: passed on attempt 2 after failing earlier attempts \(attempt 1 failed: upload-queue-drained\)/,
      );
    }
  });

  it('escapes markup and drops characters XML cannot hold', () => {
    const run = generateSampleRun({ scenarios: [{ name: 'a<b>&"c"', ops: 200, failChecks: ['convergence'] }] }).result;
    run.scenarios[0]!.checks[0]!.violations[0]!.message = 'bad </testcase> & \u0007 bell ]]>';
    const x = renderJunit(run);
    expect(XMLValidator.validate(x)).toBe(true);
    const d = parser.parse(x);
    expect(d.testsuites.testsuite[0].name).toBe('a<b>&"c"');
    expect(d.testsuites.testsuite[0].testcase[0].failure['#text']).toContain('bad </testcase> &  bell ]]>');
  });

  it('turns a scenario error into an <error> testcase and a skipped one into <skipped>', () => {
    const run = generateSampleRun({
      scenarios: [
        { name: 'boom', ops: 100, verdict: 'error' },
        { name: 'later', ops: 100, verdict: 'skipped' },
      ],
    }).result;
    const d = parser.parse(renderJunit(run));
    expect(Number(d.testsuites.errors)).toBe(1);
    expect(Number(d.testsuites.skipped)).toBe(1);
    expect(d.testsuites.testsuite[0].testcase[0].error.message).toMatch(/^HRN_ERR_SERVICE:/);
  });
});
