/**
 * `junit`: `junit.xml` in the dialect Jenkins (JUnit plugin), GitLab and GitHub test-report actions
 * parse: <testsuites> → one <testsuite> per scenario → one <testcase> per check and per threshold.
 * A failed check becomes <failure message="summary"> whose body lists the violations and the history
 * indexes involved; a scenario that errored gets an <error> testcase; a flaky scenario's testcases pass
 * and carry a <system-out> note (Jenkins and GitLab would otherwise count it as a plain pass or
 * failure: there is no standard flaky element they both read).
 */
import type { RunResult, ScenarioResult } from '../harness/results/types';
import { alertLine, attemptsNote, earlierAttempts, finalScenarios, firedAlerts, formatMeasured } from './base';
import { outputPath, writeFileAtomic } from './files';
import type { Reporter, ReporterContext } from './types';

// XML 1.0 forbids most control characters even when escaped; drop them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is exactly what this matches
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function xmlEscape(s: string): string {
  return s
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const secs = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

interface Case {
  name: string;
  timeMs: number;
  failure?: { message: string; type: string; body: string };
  error?: { message: string; type: string };
  skipped?: string;
  systemOut?: string;
}

function casesFor(s: ScenarioResult, earlier: ScenarioResult[], maxViolations: number): Case[] {
  const cases: Case[] = [];
  const history = earlier.length ? ` (${attemptsNote(earlier)})` : '';
  const flakyNote =
    s.verdict === 'flaky'
      ? `flaky: passed on attempt ${s.attempt} after failing earlier attempts${history}, seed ${s.seed}`
      : earlier.length
        ? `also failed earlier${history}`
        : undefined;
  if (s.verdict === 'skipped') {
    cases.push({ name: 'scenario', timeMs: 0, skipped: s.notes?.join('; ') || 'skipped' });
    return cases;
  }
  if (s.error) {
    cases.push({
      name: 'scenario',
      timeMs: s.durationMs,
      error: { message: `${s.error.code}: ${s.error.message}`, type: s.error.code },
    });
  }
  for (const c of s.checks) {
    const k: Case = { name: `check: ${c.name}`, timeMs: c.durationMs, systemOut: flakyNote };
    if (!c.passed) {
      const lines = c.violations.slice(0, maxViolations).map((v) => {
        const where = [v.device && `device=${v.device}`, v.table && `table=${v.table}`, v.id && `id=${v.id}`]
          .filter(Boolean)
          .join(' ');
        const ops = v.historyIndexes?.length ? ` ops=[${v.historyIndexes.join(',')}]` : '';
        return `- ${v.message}${where ? ` (${where})` : ''}${ops}`;
      });
      if (c.violations.length > maxViolations)
        lines.push(`… and ${c.violations.length - maxViolations} more violations (see index.html)`);
      k.failure = {
        message: c.summary,
        type: 'check',
        body: [c.summary, `${c.violations.length} violation(s), seed ${s.seed}:`, ...lines].join('\n'),
      };
    }
    cases.push(k);
  }
  for (const t of s.thresholds) {
    const k: Case = { name: `threshold: ${t.metric} ${t.expression}`, timeMs: 0, systemOut: flakyNote };
    if (t.noData) k.skipped = `no samples of ${t.metric}: not evaluated`;
    else if (!t.passed) {
      const message = `${t.metric}: ${t.expression} not met, measured ${formatMeasured(t.measured, t.metric)} (source: ${t.source})`;
      k.failure = { message, type: 'threshold', body: message };
    }
    cases.push(k);
  }
  if (!cases.length) cases.push({ name: 'scenario', timeMs: s.durationMs, systemOut: flakyNote });
  return cases;
}

export function renderJunit(result: RunResult, opts: { maxViolations?: number } = {}): string {
  const maxViolations = opts.maxViolations ?? 50;
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  // One suite per scenario: earlier attempts of a retried scenario are folded into its notes, so a
  // flaky pass is not also reported as a failure.
  for (const s of finalScenarios(result.scenarios)) {
    const cases = casesFor(s, earlierAttempts(result.scenarios, s), maxViolations);
    const f = cases.filter((c) => c.failure).length;
    const e = cases.filter((c) => c.error).length;
    const sk = cases.filter((c) => c.skipped !== undefined).length;
    tests += cases.length;
    failures += f;
    errors += e;
    skipped += sk;
    const suiteName = s.attempt > 1 && s.verdict !== 'flaky' ? `${s.name} (attempt ${s.attempt})` : s.name;
    const props = [
      ['seed', String(s.seed)],
      ['attempt', String(s.attempt)],
      ['verdict', s.verdict],
      ['tags', s.tags.join(',')],
      ['operations', String(s.operations)],
      ['devices', s.devices.map((d) => d.id).join(',')],
      ['history', s.historyFile],
      // Alerts are no test outcome (they never fail a run): properties, and a line each in system-out.
      ...(s.alerts ?? []).map((a) => [
        `alert.${a.name}`,
        `${a.fired ? 'fired' : 'quiet'} ${a.severity} ${a.channel}: ${a.condition}; measured ${formatMeasured(a.measured, a.metric)}`,
      ]),
    ];
    const body = cases.map((c) => {
      const open = `    <testcase name="${xmlEscape(c.name)}" classname="${xmlEscape(s.name)}" time="${secs(c.timeMs)}"`;
      const inner: string[] = [];
      if (c.failure)
        inner.push(
          `      <failure message="${xmlEscape(c.failure.message)}" type="${c.failure.type}">${xmlEscape(c.failure.body)}</failure>`,
        );
      if (c.error)
        inner.push(`      <error message="${xmlEscape(c.error.message)}" type="${xmlEscape(c.error.type)}"/>`);
      if (c.skipped !== undefined) inner.push(`      <skipped message="${xmlEscape(c.skipped)}"/>`);
      if (c.systemOut) inner.push(`      <system-out>${xmlEscape(c.systemOut)}</system-out>`);
      return inner.length ? `${open}>\n${inner.join('\n')}\n    </testcase>` : `${open}/>`;
    });
    const out = [...(s.notes ?? []), ...firedAlerts(s).map((a) => `alert fired: ${alertLine(a)}`)];
    const notes = out.length ? [`    <system-out>${xmlEscape(out.join('\n'))}</system-out>`] : [];
    suites.push(
      [
        `  <testsuite name="${xmlEscape(suiteName)}" tests="${cases.length}" failures="${f}" errors="${e}" skipped="${sk}" time="${secs(s.durationMs)}" timestamp="${xmlEscape(s.startedAt)}" hostname="${xmlEscape(result.environment.hostname)}">`,
        '    <properties>',
        ...props.map(([k, v]) => `      <property name="${k}" value="${xmlEscape(v!)}"/>`),
        '    </properties>',
        ...body,
        ...notes,
        '  </testsuite>',
      ].join('\n'),
    );
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="sync-harness ${xmlEscape(result.runId)}" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${secs(result.durationMs)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

export class JunitReporter implements Reporter {
  readonly file: string;
  private readonly maxViolations?: number;
  constructor(options: Record<string, unknown>, ctx: ReporterContext) {
    this.file = outputPath(ctx, options, 'junit.xml');
    if (typeof options.maxViolations === 'number') this.maxViolations = options.maxViolations;
  }
  async onEnd(result: RunResult) {
    await writeFileAtomic(this.file, renderJunit(result, { maxViolations: this.maxViolations }));
  }
}

export default function create(options: Record<string, unknown>, ctx: ReporterContext): Reporter {
  return new JunitReporter(options, ctx);
}
