import { describe, expect, it } from 'vitest';
import { finalScenarios } from './base';
import { renderMarkdown } from './markdown';
import { generateSampleRun } from './testing/sample-run';

describe('markdown reporter', () => {
  const { result } = generateSampleRun();
  const md = renderMarkdown(result);

  it('has a verdict heading and one table row per scenario', () => {
    expect(md.split('\n')[0]).toBe('## ❌ sync-harness: failed');
    for (const s of finalScenarios(result.scenarios))
      expect(md).toMatch(new RegExp(`^\\| \\S+ ${s.verdict} \\| ${s.name}`, 'm'));
  });

  it('lists every threshold, failed ones first, with the RFC target', () => {
    const rows = md.split('\n').filter((l) => /^\| (✅|❌) \| /.test(l) && l.includes('`'));
    const total = finalScenarios(result.scenarios).reduce((a, s) => a + s.thresholds.length, 0);
    expect(rows).toHaveLength(total);
    expect(rows[0]).toMatch(/^\| ❌ /);
    expect(md).toContain('| ❌ | server-crash-mid-push | `lost_writes` | `count==0` | 3 | 0 (zero data loss) |');
  });

  it('explains failed checks with violations, history indexes and a replay command', () => {
    expect(md).toContain('#### server-crash-mid-push › lost-writes');
    const lost = result.scenarios[1]!.checks.find((c) => c.name === 'lost-writes')!;
    expect(md).toContain(lost.violations[0]!.message);
    expect(md).toContain(`(history #${lost.violations[0]!.historyIndexes!.join(', #')})`);
    expect(md).toContain(`\`harness run server-crash-mid-push --seed ${result.scenarios[1]!.seed}\``);
  });

  it('lists a retried scenario with what failed on its earlier attempts', () => {
    expect(md).toContain('### Retried');
    expect(md).toContain('**watch-context-pack** flaky on attempt 2; attempt 1 failed: upload-queue-drained');
    expect(md).not.toContain('#### watch-context-pack › upload-queue-drained');
  });

  it('has a battery table: modelled and measured per sync and per day, measured empty without hardware', () => {
    expect(md).toContain('### Battery');
    expect(md).toContain('| %/sync modelled | %/sync measured | %/day modelled | %/day measured |');
    const rows = md
      .split('\n')
      .filter((l) => /^\| [\w-]+ \| [\w-]+ \| (phone|watch|vu|web) \| (lte|ble|wifi|3g) \|/.test(l));
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.some((r) => r.includes('| 0.05% |'))).toBe(true);
    expect(rows.some((r) => /\| [\d.]+% \| – \|/.test(r))).toBe(true);
  });

  it('lists the RFC alerts that fired, with severity and channel', () => {
    expect(md).toContain('### Alerts (RFC §5.3)');
    expect(md).toMatch(
      /^\| critical \| PagerDuty \| server-crash-mid-push \| sync failure rate > 5 % \| `sync_success_rate rate<0\.95` \| [\d.]+% \|$/m,
    );
    expect(md).not.toMatch(/^\| warning \| Slack \|/m);
  });

  it('escapes pipes in cells', () => {
    const run = generateSampleRun({ scenarios: [{ name: 'a|b', ops: 100 }] }).result;
    expect(renderMarkdown(run)).toContain('a\\|b');
  });
});
