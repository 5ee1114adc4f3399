import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from './base';
import { compareRuns, diffRuns, generateReport, mergeReports, serveReport } from './commands';
import { generateSampleRun, writeSampleRun } from './testing/sample-run';
import type { OutStream } from './types';

const sink = (): OutStream & { text: string } => ({
  text: '',
  write(s: string) {
    this.text += s;
    return true;
  },
});
const tmp = () => mkdtemp(join(tmpdir(), 'rep-cmd-'));

describe('report commands', () => {
  it('generateReport regenerates junit, markdown and html from a run folder', async () => {
    const dir = await tmp();
    await writeSampleRun(dir);
    const { files, exitCode } = await generateReport(dir);
    expect(exitCode).toBe(1);
    expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual([
      'index.html',
      'junit.xml',
      'results.json',
      'summary.md',
    ]);
    for (const f of files) expect((await stat(f)).size).toBeGreaterThan(500);
  });

  it('exit code: 0 when the only failure is an attempt that passed on retry, 1 when a final attempt failed', () => {
    const flaky = generateSampleRun({
      scenarios: [{ name: 'w', ops: 200, verdict: 'flaky', attempt: 2, conflictRate: 0 }],
    }).result;
    expect(flaky.scenarios.map((s) => s.verdict)).toEqual(['failed', 'flaky']);
    expect(exitCodeFor(flaky)).toBe(0);
    expect(exitCodeFor(generateSampleRun().result)).toBe(1);
  });

  it('generateReport fails with HRN_ERR_RUN_DIR on a folder without results.json', async () => {
    await expect(generateReport(await tmp())).rejects.toMatchObject({ code: 'HRN_ERR_RUN_DIR' });
  });

  it('compareRuns flags a latency regression and a newly failing check, and writes compare.md/json', async () => {
    const a = await tmp();
    const b = await tmp();
    const spec = { name: 'steady', ops: 3000, faults: false, conflictRate: 0 };
    await writeSampleRun(a, { scenarios: [spec] });
    await writeSampleRun(b, { scenarios: [{ ...spec, latencyScale: 2.5, failChecks: ['lost-writes'] }] });
    const out = sink();
    const { rows, regressions } = await compareRuns(a, b, { thresholdPct: 10, stdout: out });
    const p95 = rows.find((r) => r.metric === 'sync_latency_ms{path:phone-cloud}' && r.stat === 'p95')!;
    expect(p95.status).toBe('regression');
    expect(p95.deltaPct!).toBeGreaterThan(10);
    expect(regressions.some((r) => r.kind === 'check' && r.metric === 'lost-writes')).toBe(true);
    expect(regressions.some((r) => r.kind === 'threshold' && r.metric === 'lost_writes')).toBe(true);
    // Every metric appears, changed or not.
    expect(rows.filter((r) => r.kind === 'metric' && r.metric === 'client_memory_mb')).toHaveLength(1);
    expect(out.text).toMatch(/\d+ regression\(s\)/);
    // It leads with the verdicts and the check that changed, with its violation count.
    expect(out.text.split('\n')[0]).toMatch(/^verdict: \w+ → failed/);
    expect(out.text).toMatch(/steady check lost-writes: ok → FAILED \(\d+ violations?\)/);
    expect(out.text).not.toMatch(/passed: \d+ acknowledged/);
    const md = await readFile(join(b, 'compare.md'), 'utf8');
    expect(md).toContain('❌');
    const json = JSON.parse(await readFile(join(b, 'compare.json'), 'utf8'));
    expect(json.regressions.length).toBe(regressions.length);
  });

  it('diffRuns marks a percentile that crossed its threshold even when it moved less than the percentage', () => {
    const a = generateSampleRun({ scenarios: [{ name: 't', ops: 400, faults: false }] }).result;
    const b = structuredClone(a);
    const set = (r: typeof a, p95: number) => {
      const s = r.scenarios[0]!;
      s.metrics.find((m) => m.name === 'sync_latency_ms' && m.tags?.path === 'phone-cloud')!.p95 = p95;
      const t = s.thresholds.find((x) => x.expression === 'p(95)<2000')!;
      t.measured = p95;
      t.passed = p95 < 2000;
    };
    set(a, 1950);
    set(b, 2030);
    const { regressions } = diffRuns(a, b, 10);
    const p95 = regressions.find((r) => r.kind === 'metric' && r.stat === 'p95');
    expect(p95?.reason).toBe('crossed threshold p(95)<2000');
    expect(regressions.some((r) => r.kind === 'threshold' && r.stat === 'p(95)<2000')).toBe(true);
  });

  it('diffRuns finds the series a threshold bounds whatever the order of its tags (the RFC key is unsorted)', () => {
    const a = generateSampleRun({ scenarios: [{ name: 't', ops: 400, faults: false }] }).result;
    const RFC = 'sync_latency_ms{path:phone-cloud,payload:small,fault:none}';
    const b = structuredClone(a);
    const set = (r: typeof a, p95: number) => {
      const s = r.scenarios[0]!;
      const m = s.metrics.find((x) => x.name === 'sync_latency_ms' && x.tags?.path === 'phone-cloud')!;
      m.tags = { path: 'phone-cloud', payload: 'small', fault: 'none' };
      m.p95 = p95;
      const t = s.thresholds.find((x) => x.expression === 'p(95)<2000')!;
      t.metric = RFC;
      t.measured = p95;
      t.passed = p95 < 2000;
    };
    set(a, 1950);
    set(b, 2030);
    const { regressions } = diffRuns(a, b, 10);
    const p95 = regressions.find((r) => r.kind === 'metric' && r.stat === 'p95');
    expect(p95).toMatchObject({ metric: 'sync_latency_ms{fault:none,path:phone-cloud,payload:small}' });
    expect(p95?.reason).toBe('crossed threshold p(95)<2000');
  });

  it('compareRuns of a run against itself finds nothing', async () => {
    const a = await tmp();
    await writeSampleRun(a, { scenarios: [{ name: 'same', ops: 500 }] });
    const { regressions, rows } = await compareRuns(a, a, { stdout: sink(), outDir: await tmp() });
    expect(regressions).toEqual([]);
    expect(rows.every((r) => r.status === 'unchanged')).toBe(true);
  });

  it('mergeReports merges shards: summed counts, copied histories, every report re-run', async () => {
    const s1 = await tmp();
    const s2 = await tmp();
    const out = join(await tmp(), 'merged');
    const r1 = await writeSampleRun(s1, {
      shard: { index: 1, total: 2 },
      scenarios: [
        { name: 'a', ops: 400 },
        { name: 'b', ops: 400, failChecks: ['convergence'] },
      ],
    });
    const r2 = await writeSampleRun(s2, {
      shard: { index: 2, total: 2 },
      startedAt: '2026-11-25T02:00:05.000Z',
      scenarios: [{ name: 'c', ops: 400 }],
    });
    const merged = await mergeReports([s2, s1], out, { stdout: sink() });
    expect(merged.scenarios.map((s) => s.name)).toEqual(['a', 'b', 'c']);
    for (const k of ['passed', 'failed', 'flaky', 'skipped', 'error'] as const)
      expect(merged.stats[k]).toBe(r1.result.stats[k] + r2.result.stats[k]);
    expect(merged.verdict).toBe('failed');
    expect(merged.mergedFrom).toHaveLength(2);
    expect(merged.scenarios[2]!.historyFile).toBe('shard-2/history.jsonl');
    expect((await stat(join(out, 'shard-1/history/b.jsonl'))).size).toBeGreaterThan(0);
    const onDisk = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    expect(onDisk.stats).toEqual(merged.stats);
    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
      await readFile(join(out, 'junit.xml'), 'utf8'),
    );
    expect(junit.testsuites.testsuite).toHaveLength(3);
    const html = await readFile(join(out, 'index.html'), 'utf8');
    expect(html).toContain('merged from <b>2</b> runs');
    expect(html).toMatch(/id="b-op-\d+"/);
  });

  it('mergeReports keeps matrix cells apart: same shard numbers, same scenario, different --network', async () => {
    const wifi = await tmp();
    const lte = await tmp();
    const out = join(await tmp(), 'merged');
    const scen = [{ name: 'sync', ops: 300 }];
    await writeSampleRun(wifi, { shard: { index: 1, total: 1 }, scenarios: scen });
    await writeSampleRun(lte, { shard: { index: 1, total: 1 }, scenarios: [{ ...scen[0]!, latencyScale: 2 }] });
    // As the CLI records them.
    for (const [d, net] of [
      [wifi, 'wifi'],
      [lte, 'lte'],
    ] as const) {
      const r = JSON.parse(await readFile(join(d, 'results.json'), 'utf8'));
      r.argv = ['harness', 'run', '@core', '--network', net, '--shard', '1/1'];
      await writeFile(join(d, 'results.json'), JSON.stringify(r));
    }
    const merged = await mergeReports([wifi, lte], out, { stdout: sink() });
    expect(merged.scenarios.map((s) => s.name)).toEqual(['sync [network=wifi]', 'sync [network=lte]']);
    expect(new Set(merged.scenarios.map((s) => s.historyFile)).size).toBe(2);
  });

  it('serveReport serves the run folder and nothing outside it', async () => {
    const dir = await tmp();
    await writeSampleRun(dir, { scenarios: [{ name: 'srv', ops: 200 }] });
    const out = sink();
    const srv = await serveReport(dir, 0, { stdout: out });
    try {
      expect(out.text).toContain(srv.url);
      const res = await fetch(srv.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain('sync-harness run');
      expect((await fetch(`${srv.url}results.json`)).status).toBe(200);
      expect((await fetch(`${srv.url}..%2f..%2fetc%2fpasswd`)).status).toBe(403);
    } finally {
      await srv.close();
    }
  });
});
