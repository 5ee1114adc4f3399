/**
 * `markdown`: `summary.md` for `$GITHUB_STEP_SUMMARY`, GitLab job summaries and PR comments. GitHub
 * caps a step summary at 1 MiB, so violations are capped per check and the full detail stays in
 * index.html.
 */

import type { RunResult, ScenarioResult, Verdict } from '../harness/results/types';
import {
  attemptsNote,
  earlierAttempts,
  finalScenarios,
  firedAlerts,
  formatDuration,
  formatMeasured,
  sig,
  thresholdStatus,
  thresholdTally,
} from './base';
import { outputPath, writeFileAtomic } from './files';
import { reproduceCommand } from './reproduce';
import { rfcTargetFor } from './rfc-targets';
import type { Reporter, ReporterContext } from './types';

const ICON: Record<Verdict, string> = { passed: '✅', failed: '❌', flaky: '⚠️', skipped: '⏭️', error: '💥' };

/** Table cells: pipes and newlines would break the row. */
export function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

const code = (s: string) => `\`${s.replace(/`/g, 'ˋ')}\``;

function scenarioRow(s: ScenarioResult): string {
  const checks = `${s.checks.filter((c) => c.passed).length}/${s.checks.length}`;
  const thr = thresholdTally(s.thresholds);
  const name = s.attempt > 1 ? `${s.name} (attempt ${s.attempt})` : s.name;
  return `| ${ICON[s.verdict]} ${s.verdict} | ${mdCell(name)} | ${checks} | ${thr} | ${s.operations} | ${s.devices.length} | ${formatDuration(s.durationMs)} | ${s.seed} |`;
}

export function renderMarkdown(result: RunResult, opts: { maxViolations?: number; reportUrl?: string } = {}): string {
  const maxViolations = opts.maxViolations ?? 10;
  const st = result.stats;
  const lines: string[] = [];
  const shard = result.shard ? ` · shard ${result.shard.index}/${result.shard.total}` : '';
  lines.push(`## ${ICON[result.verdict]} sync-harness: ${result.verdict}`, '');
  lines.push(
    `**${st.passed} passed · ${st.failed} failed · ${st.flaky} flaky · ${st.error} error · ${st.skipped} skipped** in ${formatDuration(result.durationMs)} · seed ${code(String(result.seed))}${shard} · run ${code(result.runId)}`,
    '',
  );
  if (opts.reportUrl) lines.push(`[Open the HTML report](${opts.reportUrl})`, '');

  lines.push(
    '| Verdict | Scenario | Checks | Thresholds | Ops | Devices | Duration | Seed |',
    '|---|---|--:|--:|--:|--:|--:|--:|',
  );
  const finals = finalScenarios(result.scenarios);
  for (const s of finals) lines.push(scenarioRow(s));
  lines.push('');
  const retried = finals.filter((s) => earlierAttempts(result.scenarios, s).length);
  if (retried.length) {
    lines.push('### Retried', '');
    for (const s of retried)
      lines.push(
        `- ${ICON[s.verdict]} **${mdCell(s.name)}** ${s.verdict} on attempt ${s.attempt}; ${attemptsNote(earlierAttempts(result.scenarios, s))}`,
      );
    lines.push('');
  }

  const thresholds = finals.flatMap((s) => s.thresholds.map((t) => ({ s, t })));
  if (thresholds.length) {
    lines.push(
      '### Thresholds',
      '',
      '| | Scenario | Metric | Expression | Measured | RFC target |',
      '|---|---|---|---|--:|---|',
    );
    // Failed first: the reader of a PR comment wants the bad news on top.
    thresholds.sort((a, b) => Number(a.t.passed) - Number(b.t.passed));
    for (const { s, t } of thresholds) {
      const rfc = rfcTargetFor(t.metric);
      lines.push(
        `| ${{ pass: '✅', fail: '❌', 'no data': '➖ no data' }[thresholdStatus(t)]} | ${mdCell(s.name)} | ${code(t.metric)} | ${code(t.expression)} | ${formatMeasured(t.measured, t.metric)} | ${rfc ? mdCell(t.source === 'rfc' ? rfc.target : `${rfc.target} (RFC); set by ${t.source}`) : t.source} |`,
      );
    }
    lines.push('');
  }

  // RFC §5.3 alerts: what production would have raised; reported, not part of the verdict.
  const evaluated = finals.filter((s) => s.alerts?.length);
  if (evaluated.length) {
    const fired = evaluated.flatMap((s) => firedAlerts(s).map((a) => ({ s, a })));
    lines.push('### Alerts (RFC §5.3)', '');
    if (!fired.length) lines.push(`No alert fired in ${evaluated.length} scenario(s).`, '');
    else {
      lines.push('| Severity | Channel | Scenario | Rule | Metric | Measured |', '|---|---|---|---|---|--:|');
      for (const { s, a } of fired)
        lines.push(
          `| ${a.severity} | ${a.channel} | ${mdCell(s.name)} | ${mdCell(a.condition)} | ${code(`${a.metric} ${a.fires}`)} | ${formatMeasured(a.measured, a.metric)} |`,
        );
      lines.push('');
    }
  }

  const withEnergy = finals.flatMap((s) => s.devices.filter((d) => d.energy).map((d) => ({ s, d })));
  if (withEnergy.length) {
    const pct = (v: number | undefined) => (v === undefined ? '–' : `${sig(v)}%`);
    lines.push(
      '### Battery',
      '',
      '| Scenario | Device | Kind | Radio | Syncs | %/sync modelled | %/sync measured | %/day modelled | %/day measured | Energy modelled |',
      '|---|---|---|---|--:|--:|--:|--:|--:|--:|',
    );
    for (const { s, d } of withEnergy) {
      const e = d.energy!;
      lines.push(
        `| ${mdCell(s.name)} | ${mdCell(d.id)} | ${d.kind} | ${e.radio ?? '–'} | ${d.syncs} | ${pct(e.batteryPctPerSync)} | ${pct(e.measured?.batteryPctPerSync)} | ${pct(e.batteryPctPerDay)} | ${pct(e.measured?.batteryPctPerDay)} | ${sig(e.joules)} J |`,
      );
    }
    lines.push('');
  }

  const failing = finals.filter((s) => s.error || s.checks.some((c) => !c.passed));
  if (failing.length) {
    lines.push('### Failed checks', '');
    for (const s of failing) {
      if (s.error) lines.push(`**${mdCell(s.name)}** errored: ${code(s.error.code)} ${s.error.message}`, '');
      for (const c of s.checks.filter((k) => !k.passed)) {
        lines.push(`#### ${s.name} › ${c.name}`, '', `${c.summary}`, '');
        for (const v of c.violations.slice(0, maxViolations)) {
          const where = [v.device, v.table && v.id ? `${v.table}/${v.id}` : v.table].filter(Boolean).join(' · ');
          const ops = v.historyIndexes?.length ? ` (history ${v.historyIndexes.map((i) => `#${i}`).join(', ')})` : '';
          lines.push(`- ${v.message}${where ? ` — ${where}` : ''}${ops}`);
        }
        if (c.violations.length > maxViolations)
          lines.push(`- … ${c.violations.length - maxViolations} more in index.html`);
        lines.push('', `Reproduce: ${code(reproduceCommand(result, s))}`, '');
      }
    }
  }
  const notes = finals.filter((s) => s.notes?.length);
  if (notes.length) {
    lines.push('<details><summary>Notes</summary>', '');
    for (const s of notes) for (const n of s.notes!) lines.push(`- **${mdCell(s.name)}**: ${n}`);
    lines.push('', '</details>', '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

export class MarkdownReporter implements Reporter {
  readonly file: string;
  constructor(
    private readonly options: Record<string, unknown>,
    ctx: ReporterContext,
  ) {
    this.file = outputPath(ctx, options, 'summary.md');
  }
  async onEnd(result: RunResult) {
    const reportUrl = typeof this.options.reportUrl === 'string' ? this.options.reportUrl : undefined;
    const maxViolations = typeof this.options.maxViolations === 'number' ? this.options.maxViolations : undefined;
    await writeFileAtomic(this.file, renderMarkdown(result, { reportUrl, maxViolations }));
  }
}

export default function create(options: Record<string, unknown>, ctx: ReporterContext): Reporter {
  return new MarkdownReporter(options, ctx);
}
