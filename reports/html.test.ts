import { describe, expect, it } from 'vitest';
import { digestHistory } from './history';
import { renderHtml } from './html/page';
import { generateSampleRun } from './testing/sample-run';

function embedded(html: string) {
  const m = /<script type="application\/json" id="harness-data">([\s\S]*?)<\/script>/.exec(html);
  return JSON.parse(m![1]!);
}

describe('html reporter', () => {
  const { result, histories } = generateSampleRun();
  const html = renderHtml(result, histories);

  it('embeds the run data as JSON', () => {
    const data = embedded(html);
    expect(data.result).toEqual(result);
    expect(data.excerpts['server-crash-mid-push'].length).toBeGreaterThan(0);
  });

  it('needs no network: no external src/href, no remote url()', () => {
    expect(html).not.toMatch(/\s(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import/);
  });

  it('shows a verdict per scenario and every threshold with its measured value', () => {
    expect(html.match(/<section class="scenario"/g)).toHaveLength(result.scenarios.length);
    expect(html).toContain('retried: superseded by a later attempt');
    for (const s of result.scenarios) {
      expect(html).toContain(`id="s-${s.name}`);
      for (const t of s.thresholds) expect(html).toContain(t.expression.replace('<', '&lt;').replace('>', '&gt;'));
    }
    expect(html).toContain('p95 &lt; 2 s (payload &lt; 100 KB, no fault in effect)');
  });

  it('has an alerts card per scenario: each rule, fired or quiet, with severity and channel', () => {
    expect(html.match(/<h3>Alerts \(RFC §5\.3\)<\/h3>/g)).toHaveLength(result.scenarios.length);
    expect(html).toContain('<span class="bad">▲ fired</span></td><td><b>critical</b> → PagerDuty</td>');
    expect(html).toContain('<td><b>warning</b> → Slack</td><td>conflict rate &gt; 10 %');
  });

  it('devices table: modelled energy with its radio, %/sync, %/day and the measured column', () => {
    expect(html).toContain('<th class="num">Measured % / sync</th>');
    expect(html).toMatch(/modelled · lte/);
    expect(html).toContain('0.05%<div class="small muted">1% over the run</div>');
  });

  it('links every violation to an anchored history row', () => {
    const s = result.scenarios.find((x) => x.name === 'server-crash-mid-push')!;
    for (const c of s.checks.filter((k) => !k.passed)) {
      for (const v of c.violations) {
        for (const i of v.historyIndexes!) {
          expect(html).toContain(`href="#server-crash-mid-push-op-${i}"`);
          expect(html).toContain(`<tr id="server-crash-mid-push-op-${i}" class="hit">`);
        }
      }
    }
  });

  it('uses plain #op-N anchors for a single-scenario run', () => {
    const one = generateSampleRun({ scenarios: [{ name: 'solo', ops: 800, failChecks: ['lost-writes'] }] });
    const h = renderHtml(one.result, one.histories);
    const idx = one.result.scenarios[0]!.checks.find((c) => !c.passed)!.violations[0]!.historyIndexes![0]!;
    expect(h).toContain(`id="op-${idx}"`);
    expect(h).toContain(`href="#op-${idx}"`);
  });

  it('downsamples successes on big histories but keeps every failure and conflict', () => {
    const big = generateSampleRun({ scenarios: [{ name: 'big', ops: 40_000, devices: 6, conflictRate: 0.01 }] });
    const h = renderHtml(big.result, big.histories);
    const d = digestHistory(big.histories.get('history.jsonl')!);
    const fails = d.syncs.filter((s) => s.outcome === 'fail').length;
    const conflicts = d.syncs.filter((s) => s.outcome === 'conflict').length;
    const oks = d.syncs.filter((s) => s.outcome === 'ok').length;
    expect(fails).toBeGreaterThan(100);
    const svg = /<svg class="chart"[^>]*aria-label="timeline[\s\S]*?<\/svg>/.exec(h)![0];
    expect(svg.match(/<path class="m-fail"/g)).toHaveLength(fails);
    expect(svg.match(/<path class="m-conflict"/g)).toHaveLength(conflicts);
    // One tick per pixel column and device at most.
    const ticks = (svg.match(/M\d+ [\d.]+v12/g) ?? []).length;
    expect(ticks).toBeLessThan(oks);
    expect(ticks).toBeLessThanOrEqual(6 * 900);
  });

  it('cannot be broken out of by data: </script> and markup in notes are escaped', () => {
    const run = generateSampleRun({ scenarios: [{ name: 'x', ops: 100 }] });
    run.result.scenarios[0]!.notes = ['</script><img src=x onerror=alert(1)>'];
    const h = renderHtml(run.result, run.histories);
    expect(h).not.toContain('<img src=x');
    expect(embedded(h).result.scenarios[0].notes[0]).toBe('</script><img src=x onerror=alert(1)>');
  });
});
