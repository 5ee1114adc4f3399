/**
 * Helpers shared by the reporters: colours (honouring NO_COLOR / FORCE_COLOR / TTY), durations,
 * byte sizes, verdict symbols, tables, and the final summary the terminal reporters print.
 */
import type {
  AlertResult,
  CheckResult,
  RunResult,
  ScenarioResult,
  ThresholdResult,
  Verdict,
} from '../harness/results/types';
import type { OutStream, ProgressInfo, ReporterContext } from './types';

export interface Colors {
  enabled: boolean;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  cyan(s: string): string;
}

const wrap = (on: boolean, open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);

/** no-color.org: NO_COLOR (non-empty) wins; FORCE_COLOR=0 disables, any other FORCE_COLOR enables; else TTY. */
export function colorsFor(
  stream: OutStream | undefined,
  env: Record<string, string | undefined> = process.env,
): Colors {
  let on = !!stream?.isTTY;
  if (env.FORCE_COLOR !== undefined) on = env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  if (env.NO_COLOR) on = false;
  return {
    enabled: on,
    // Blue/orange rather than green/red where it matters would be kinder, but terminals theme these; the
    // symbols (✓ ✘ ±) carry the meaning on their own.
    green: wrap(on, 32, 39),
    red: wrap(on, 31, 39),
    yellow: wrap(on, 33, 39),
    dim: wrap(on, 2, 22),
    bold: wrap(on, 1, 22),
    cyan: wrap(on, 36, 39),
  };
}

export function stdoutOf(ctx: ReporterContext): OutStream {
  return ctx.stdout ?? process.stdout;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 1) return `${ms.toFixed(2)}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  if (m < 60) return s ? `${m}m ${s}s` : `${m}m`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** A threshold as a person reads it: judged pass or fail, or not judged for lack of data. */
export function thresholdStatus(t: ThresholdResult): 'pass' | 'fail' | 'no data' {
  return t.noData ? 'no data' : t.passed ? 'pass' : 'fail';
}

/** "passed/judged", plus how many had no data: a threshold without data is never counted as passed. */
export function thresholdTally(ts: readonly ThresholdResult[]): string {
  const noData = ts.filter((t) => t.noData).length;
  const ok = ts.filter((t) => t.passed && !t.noData).length;
  return `${ok}/${ts.length - noData}${noData ? ` (${noData} no data)` : ''}`;
}

/**
 * The running summary of a scenario, k6-style: devices up, syncs and their rate, p95 so far,
 * failures. Shared by the list and line reporters so both say the same thing.
 */
export function progressParts(p: ProgressInfo): string[] {
  const parts = [`${p.opsDone}${p.opsTotal ? `/${p.opsTotal}` : ''} ops`];
  parts.push(`${p.devices}${p.devicesTotal !== undefined ? `/${p.devicesTotal}` : ''} devices`);
  if (p.syncs !== undefined) {
    const rate = p.elapsedMs > 0 ? p.syncs / (p.elapsedMs / 1000) : 0;
    parts.push(`${p.syncs} syncs (${rate.toFixed(1)}/s)`);
    if (p.syncP95Ms !== undefined) parts.push(`p95 ${formatDuration(p.syncP95Ms)}`);
    parts.push(`${p.syncsFailed ?? 0} failed`);
  }
  return parts;
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/** A measured value with the metric's unit, compact (e.g. 1.9s, 0.4%, 12 KB). */
export function formatMeasured(v: number | null | undefined, metric = ''): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  // Rates are ratios: 0.0276 reads better as 2.76%.
  if (/_rate(\{|$)/.test(metric)) return `${round(v * 100, 2)}%`;
  if (/_ms\b|_ms\{|_ms$/.test(metric)) return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${round(v)} ms`;
  if (/bytes/.test(metric)) return formatBytes(v);
  return String(round(v));
}

export function round(v: number, digits = 3): number {
  if (!Number.isFinite(v)) return v;
  const abs = Math.abs(v);
  const d = abs >= 100 ? 1 : abs >= 1 ? 2 : digits + 1;
  return Number(v.toFixed(d));
}

export const VERDICT_SYMBOL: Record<Verdict, string> = {
  passed: '✓',
  failed: '✘',
  flaky: '±',
  skipped: '-',
  error: '!',
};

export function colorVerdict(c: Colors, v: Verdict, text: string = v): string {
  if (v === 'passed') return c.green(text);
  if (v === 'failed' || v === 'error') return c.red(text);
  if (v === 'flaky') return c.yellow(text);
  return c.dim(text);
}

export function failedChecks(s: ScenarioResult): CheckResult[] {
  return s.checks.filter((c) => !c.passed);
}

/**
 * Notes a scenario writes as `proved: …` (operations scenarios say what they showed): the terminal
 * reporters print them under the scenario's line.
 */
export function provedNotes(s: ScenarioResult): string[] {
  // A failed scenario proved nothing: its notes stay in the reports, not on the terminal line.
  if (s.verdict !== 'passed' && s.verdict !== 'flaky') return [];
  return (s.notes ?? []).filter((n) => n.startsWith('proved:'));
}

export function firedAlerts(s: ScenarioResult): AlertResult[] {
  return (s.alerts ?? []).filter((a) => a.fired);
}

/** 'critical → PagerDuty: sync failure rate > 5 % (sync_success_rate rate<0.95, measured 81.25%)'. */
export function alertLine(a: AlertResult): string {
  return `${a.severity} → ${a.channel}: ${a.condition} (${a.metric} ${a.fires}, measured ${formatMeasured(a.measured, a.metric)})`;
}

export function failedThresholds(s: ScenarioResult): ThresholdResult[] {
  return s.thresholds.filter((t) => !t.passed);
}

/**
 * The runner keeps a failed attempt that was retried in `scenarios` (for the report) and counts only
 * the last attempt of each scenario. Key: name + seed (+ shard of a merged run).
 */
function attemptKey(s: ScenarioResult): string {
  const shard = (s as ScenarioResult & { shard?: { index: number } }).shard;
  return `${s.name}\u0000${s.seed}\u0000${shard?.index ?? ''}`;
}

/** The last attempt of each scenario, in run order. */
export function finalScenarios(scenarios: ScenarioResult[]): ScenarioResult[] {
  const last = new Map<string, ScenarioResult>();
  for (const s of scenarios) last.set(attemptKey(s), s);
  return scenarios.filter((s) => last.get(attemptKey(s)) === s);
}

/** Earlier attempts of the scenario `final` is the last attempt of. */
export function earlierAttempts(scenarios: ScenarioResult[], final: ScenarioResult): ScenarioResult[] {
  const k = attemptKey(final);
  return scenarios.filter((s) => s !== final && attemptKey(s) === k);
}

/** One line about earlier attempts: 'attempt 1 failed: lost-writes, convergence'. */
export function attemptsNote(earlier: ScenarioResult[]): string {
  return earlier
    .map((e) => {
      const what = [
        ...e.checks.filter((c) => !c.passed).map((c) => c.name),
        ...e.thresholds.filter((t) => !t.passed).map((t) => `${t.metric} ${t.expression}`),
        ...(e.error ? [e.error.code] : []),
      ];
      return `attempt ${e.attempt} ${e.verdict}${what.length ? `: ${what.join(', ')}` : ''}`;
    })
    .join('; ');
}

/** 0 when the run passed (flaky counts as passed, as in Playwright), 1 when a check/threshold failed or a scenario errored. */
export function exitCodeFor(result: RunResult): 0 | 1 {
  const finals = finalScenarios(result.scenarios);
  return finals.some((s) => s.verdict === 'failed' || s.verdict === 'error') ? 1 : 0;
}

/** Visible width (ANSI escapes removed), for padding coloured cells. */
export function visibleLength(s: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes is the point
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

export function table(rows: string[][], align: Array<'l' | 'r'> = []): string[] {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell));
    });
  }
  return rows.map((r) =>
    r
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i]! - visibleLength(cell));
        return align[i] === 'r' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd(),
  );
}

/** The closing summary of list/line/dot: a table of scenarios, failed checks and thresholds, totals. */
export function summaryLines(result: RunResult, c: Colors, maxViolations = 5): string[] {
  const out: string[] = [''];
  const rows: string[][] = [
    ['', 'scenario', 'checks', 'thresholds', 'ops', 'devices', 'duration'].map((h) => c.dim(h)),
  ];
  const finals = finalScenarios(result.scenarios);
  for (const s of finals) {
    const checksOk = s.checks.filter((k) => k.passed).length;
    rows.push([
      colorVerdict(c, s.verdict, VERDICT_SYMBOL[s.verdict]),
      s.attempt > 1 ? `${s.name} ${c.dim(`(attempt ${s.attempt})`)}` : s.name,
      `${checksOk}/${s.checks.length}`,
      thresholdTally(s.thresholds),
      String(s.operations),
      String(s.devices.length),
      formatDuration(s.durationMs),
    ]);
  }
  out.push(...table(rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r']).map((l) => `  ${l}`));

  for (const s of finals) {
    const earlier = earlierAttempts(result.scenarios, s);
    if (s.verdict === 'flaky' && earlier.length) {
      out.push(
        '',
        `  ${colorVerdict(c, 'flaky', `± ${s.name}`)} passed on attempt ${s.attempt}; ${attemptsNote(earlier)}`,
      );
    }
    const fc = failedChecks(s);
    const ft = failedThresholds(s);
    if (!fc.length && !ft.length && !s.error) continue;
    out.push(
      '',
      `  ${colorVerdict(c, s.verdict, `${VERDICT_SYMBOL[s.verdict]} ${s.name}`)} ${c.dim(`seed ${s.seed}`)}`,
    );
    if (s.error) out.push(`    ${c.red(`${s.error.code}: ${s.error.message}`)}`);
    for (const k of fc) {
      out.push(`    ${c.red('check')} ${c.bold(k.name)}: ${k.summary}`);
      for (const v of k.violations.slice(0, maxViolations)) {
        const ops = v.historyIndexes?.length ? c.dim(` [ops ${v.historyIndexes.slice(0, 6).join(', ')}]`) : '';
        out.push(`      - ${v.message}${ops}`);
      }
      if (k.violations.length > maxViolations)
        out.push(c.dim(`      … ${k.violations.length - maxViolations} more (see index.html)`));
    }
    for (const t of ft) {
      out.push(
        `    ${c.red('threshold')} ${t.metric} ${t.expression}: measured ${formatMeasured(t.measured, t.metric)}`,
      );
    }
  }

  const st = result.stats;
  const parts = [
    st.passed && c.green(`${st.passed} passed`),
    st.failed && c.red(`${st.failed} failed`),
    st.flaky && c.yellow(`${st.flaky} flaky`),
    st.error && c.red(`${st.error} error`),
    st.skipped && c.dim(`${st.skipped} skipped`),
  ].filter(Boolean);
  out.push(
    '',
    `  ${parts.join(', ') || 'no scenarios'} ${c.dim(`(${formatDuration(result.durationMs)})`)}  ${c.dim(`seed ${result.seed} · run ${result.runId}`)}`,
  );
  return out;
}

/** Three significant digits, no exponent: 16.107481764887808 → 16.1, 0.0058107 → 0.00581. */
export function sig(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  const abs = Math.abs(v);
  const digits = Math.max(0, Math.min(8, 2 - Math.floor(Math.log10(abs))));
  return Number(v.toFixed(digits)).toString();
}
