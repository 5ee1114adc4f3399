/**
 * The report commands the CLI wires up: `harness report`, `harness serve`, `harness compare` and
 * `harness merge-reports`. Each works from files on disk only (results.json + history files), so they
 * run anywhere the artifacts were downloaded to.
 */
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { readRunResult } from '../harness/results/read';
import {
  type CheckResult,
  RESULTS_SCHEMA_VERSION,
  type RunResult,
  type ScenarioResult,
  type Verdict,
} from '../harness/results/types';
import { colorsFor, exitCodeFor, finalScenarios, formatMeasured, table } from './base';
import { ReportError } from './errors';
import { openInBrowser, writeFileAtomic } from './files';
import { mdCell } from './markdown';
import { createReporters } from './registry';
import { betterDirection, canonicalMetricKey, metricKey, parseThresholdExpression } from './rfc-targets';
import type { OutStream, Reporter, ReporterSpec, RunResultExtensions, ScenarioResultExtensions } from './types';

export { readRunResult };

const FILE_OF: Record<string, string> = {
  json: 'results.json',
  junit: 'junit.xml',
  markdown: 'summary.md',
  html: 'index.html',
};

async function runReporters(
  result: RunResult,
  specs: Array<ReporterSpec | Reporter>,
  outDir: string,
  stdout?: OutStream,
) {
  const mux = await createReporters(specs, { outputDir: outDir, stdout });
  await mux.onBegin({
    runId: result.runId,
    outputDir: outDir,
    seed: result.seed,
    shard: result.shard,
    scenarios: result.scenarios.map((s) => ({
      name: s.name,
      tags: s.tags,
      devices: s.devices.map((d) => ({ id: d.id, kind: d.kind })),
      attempt: s.attempt,
    })),
  });
  for (const s of result.scenarios) await mux.onScenarioEnd(s);
  await mux.onEnd(result);
  if (mux.errors.length)
    throw new ReportError('HRN_ERR_REPORTER', `${mux.errors.length} reporter hook(s) failed (see above).`);
  return specs
    .map((s) => (typeof s === 'string' ? s : Array.isArray(s) ? s[0] : ''))
    .filter((n) => FILE_OF[n])
    .map((n) => join(outDir, FILE_OF[n]!));
}

export interface GenerateReportOptions {
  /** Default: json, junit, markdown, html (json re-serialises the results.json it read). */
  reporters?: Array<ReporterSpec | Reporter>;
  open?: boolean;
  stdout?: OutStream;
}

/** `harness report <run-dir>`: re-runs the reporters from results.json + history files. */
export async function generateReport(
  runDir: string,
  options: GenerateReportOptions = {},
): Promise<{ result: RunResult; files: string[]; exitCode: 0 | 1 }> {
  const result = await readRunResult(runDir);
  const files = await runReporters(
    result,
    options.reporters ?? ['json', 'junit', 'markdown', 'html'],
    runDir,
    options.stdout,
  );
  const html = join(runDir, 'index.html');
  if (options.open) openInBrowser(html);
  return { result, files, exitCode: exitCodeFor(result) };
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/x-ndjson; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
};

export interface ServeHandle {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** `harness serve <run-dir>`: a tiny static server for the run folder (index.html by default). */
export async function serveReport(
  runDir: string,
  port = 9323,
  options: { host?: string; stdout?: OutStream } = {},
): Promise<ServeHandle> {
  const root = resolve(runDir);
  const hasIndex = await stat(join(root, 'index.html')).then(
    () => true,
    () => false,
  );
  if (!hasIndex) await generateReport(root, { reporters: ['html'] });
  const host = options.host ?? '127.0.0.1';
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    // Never serve outside the run folder.
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': MIME[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(
        e.code === 'EADDRINUSE'
          ? new ReportError(
              'HRN_ERR_USAGE',
              `Port ${port} is in use.`,
              'Pass another port, e.g. --port 0 for any free one.',
            )
          : e,
      ),
    );
    server.listen(port, host, () => ok());
  });
  const addr = server.address();
  const url = `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}/`;
  (options.stdout ?? process.stdout).write(`Serving ${root} at ${url}  (Ctrl+C to stop)\n`);
  return { url, server, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

// ---------------------------------------------------------------- compare

export type CompareStatus = 'regression' | 'improvement' | 'unchanged' | 'new' | 'removed';

export interface CompareRow {
  scenario: string;
  kind: 'metric' | 'threshold' | 'check';
  /** Metric key (name{tags}), threshold `metric expression`, or check name. */
  metric: string;
  /** p50/p95/p99/mean/value for metrics; the expression for thresholds; 'result' for checks. */
  stat: string;
  unit?: string;
  a: number | null;
  b: number | null;
  /** (b - a) / |a| × 100; null when undefined (missing side, or a = 0 and b = 0). ±Infinity when a = 0. */
  deltaPct: number | null;
  better: 'lower' | 'higher';
  status: CompareStatus;
  reason?: string;
}

export interface CompareResult {
  rows: CompareRow[];
  regressions: CompareRow[];
}

const TREND_STATS = ['p50', 'p95', 'p99', 'mean'] as const;

function keyed(run: RunResult): Map<string, ScenarioResult> {
  // Same scenario twice (matrix shards, retries): keep them apart by occurrence.
  const seen = new Map<string, number>();
  const out = new Map<string, ScenarioResult>();
  for (const s of finalScenarios(run.scenarios)) {
    const n = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, n);
    out.set(n === 1 ? s.name : `${s.name} #${n}`, s);
  }
  return out;
}

function metricValues(
  s: ScenarioResult,
): Map<string, { value: number | null; unit: string; key: string; stat: string }> {
  const out = new Map<string, { value: number | null; unit: string; key: string; stat: string }>();
  for (const m of s.metrics) {
    const key = metricKey(m.name, m.tags);
    if (m.kind === 'trend')
      for (const st of TREND_STATS) out.set(`${key} ${st}`, { value: m[st] ?? null, unit: m.unit, key, stat: st });
    else out.set(`${key} value`, { value: m.value ?? null, unit: m.unit, key, stat: 'value' });
  }
  return out;
}

/** Which compare row a threshold bounds: p(95) → p95, avg → mean, anything else → value. */
function thresholdStat(expression: string): string | null {
  const p = parseThresholdExpression(expression);
  if (!p) return null;
  if (/^p\d/.test(p.stat)) return p.stat;
  return p.stat === 'avg' || p.stat === 'mean' ? 'mean' : 'value';
}

function delta(a: number | null, b: number | null): number | null {
  if (a === null || b === null) return null;
  if (a === 0) return b === 0 ? 0 : b > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return ((b - a) / Math.abs(a)) * 100;
}

export function diffRuns(a: RunResult, b: RunResult, thresholdPct = 10): CompareResult {
  const rows: CompareRow[] = [];
  const sa = keyed(a);
  const sb = keyed(b);
  for (const name of new Set([...sa.keys(), ...sb.keys()])) {
    const A = sa.get(name);
    const B = sb.get(name);
    const ma = A ? metricValues(A) : new Map();
    const mb = B ? metricValues(B) : new Map();
    // Thresholds first: a metric that crossed its threshold is a regression whatever the percentage.
    const crossed = new Set<string>();
    const ta = new Map((A?.thresholds ?? []).map((t) => [`${t.metric} ${t.expression}`, t]));
    const tb = new Map((B?.thresholds ?? []).map((t) => [`${t.metric} ${t.expression}`, t]));
    const thresholdRows: CompareRow[] = [];
    for (const k of new Set([...ta.keys(), ...tb.keys()])) {
      const x = ta.get(k);
      const y = tb.get(k);
      const t = (y ?? x)!;
      let status: CompareStatus = !x ? 'new' : !y ? 'removed' : 'unchanged';
      let reason: string | undefined;
      if (x && y && x.passed && !y.passed) {
        status = 'regression';
        reason = `crossed threshold ${t.expression}`;
        crossed.add(t.metric);
      } else if (x && y && !x.passed && y.passed) status = 'improvement';
      else if (!x && y && !y.passed) {
        status = 'regression';
        reason = `new threshold ${t.expression} fails`;
      }
      thresholdRows.push({
        scenario: name,
        kind: 'threshold',
        metric: t.metric,
        stat: t.expression,
        a: x?.measured ?? null,
        b: y?.measured ?? null,
        deltaPct: delta(x?.measured ?? null, y?.measured ?? null),
        better: betterDirection(t.metric),
        status,
        reason,
      });
    }
    for (const k of new Set([...ma.keys(), ...mb.keys()])) {
      const x = ma.get(k);
      const y = mb.get(k);
      const info = (y ?? x)!;
      const better = betterDirection(info.key, info.unit);
      const d = delta(x?.value ?? null, y?.value ?? null);
      let status: CompareStatus = !x ? 'new' : !y ? 'removed' : 'unchanged';
      let reason: string | undefined;
      if (x && y && d !== null) {
        const worse = better === 'lower' ? d > thresholdPct : d < -thresholdPct;
        const improved = better === 'lower' ? d < -thresholdPct : d > thresholdPct;
        if (worse) {
          status = 'regression';
          reason = `${better === 'lower' ? 'rose' : 'fell'} more than ${thresholdPct}%`;
        } else if (improved) status = 'improvement';
      }
      // The stat a crossed threshold bounds is a regression even when it moved less than thresholdPct.
      const bounded = [...tb.values()].find(
        (t) =>
          canonicalMetricKey(t.metric) === info.key &&
          crossed.has(t.metric) &&
          !t.passed &&
          ta.get(`${t.metric} ${t.expression}`)?.passed &&
          thresholdStat(t.expression) === info.stat,
      );
      if (bounded) {
        status = 'regression';
        reason = `crossed threshold ${bounded.expression}`;
      }
      rows.push({
        scenario: name,
        kind: 'metric',
        metric: info.key,
        stat: info.stat,
        unit: info.unit,
        a: x?.value ?? null,
        b: y?.value ?? null,
        deltaPct: d,
        better,
        status,
        reason,
      });
    }
    rows.push(...thresholdRows);
    const ca = new Map((A?.checks ?? []).map((c) => [c.name, c]));
    const cb = new Map((B?.checks ?? []).map((c) => [c.name, c]));
    for (const k of new Set([...ca.keys(), ...cb.keys()])) {
      const x = ca.get(k);
      const y = cb.get(k);
      const status: CompareStatus = !x
        ? y && !y.passed
          ? 'regression'
          : 'new'
        : !y
          ? 'removed'
          : x.passed && !y.passed
            ? 'regression'
            : !x.passed && y.passed
              ? 'improvement'
              : 'unchanged';
      rows.push({
        scenario: name,
        kind: 'check',
        metric: k,
        stat: 'result',
        a: x ? Number(x.passed) : null,
        b: y ? Number(y.passed) : null,
        deltaPct: null,
        better: 'higher',
        status,
        reason: status === 'regression' ? y?.summary : undefined,
      });
    }
  }
  return { rows, regressions: rows.filter((r) => r.status === 'regression') };
}

function fmtDelta(d: number | null): string {
  if (d === null) return '';
  if (!Number.isFinite(d)) return d > 0 ? '+∞%' : '−∞%';
  return `${d > 0 ? '+' : ''}${d.toFixed(1)}%`;
}

function fmtVal(r: CompareRow, v: number | null): string {
  if (v === null) return '–';
  if (r.kind === 'check') return v ? 'ok' : 'FAILED';
  return formatMeasured(v, r.unit === 'ms' ? `${r.metric}_ms` : r.unit === 'bytes' ? 'bytes' : r.metric);
}

const MARK: Record<CompareStatus, string> = {
  regression: '▲ regression',
  improvement: '▼ improved',
  unchanged: '',
  new: 'new',
  removed: 'removed',
};

export function renderCompareMarkdown(res: CompareResult, a: RunResult, b: RunResult, thresholdPct: number): string {
  const lines = [
    `## sync-harness compare: ${res.regressions.length ? `❌ ${res.regressions.length} regression(s)` : '✅ no regressions'}`,
    '',
    `A: \`${a.runId}\` (${a.startedAt}) → B: \`${b.runId}\` (${b.startedAt}) · regression when a metric gets worse by more than ${thresholdPct}% or crosses its threshold, or a check starts failing.`,
    '',
    '| | Scenario | Kind | Metric | Stat | A | B | Δ | Why |',
    '|---|---|---|---|---|--:|--:|--:|---|',
  ];
  const order: Record<CompareStatus, number> = { regression: 0, improvement: 1, new: 2, removed: 3, unchanged: 4 };
  const rows = [...res.rows].sort((x, y) => order[x.status] - order[y.status]);
  for (const r of rows) {
    const icon = r.status === 'regression' ? '❌' : r.status === 'improvement' ? '✅' : '';
    lines.push(
      `| ${icon} | ${mdCell(r.scenario)} | ${r.kind} | \`${mdCell(r.metric)}\` | ${mdCell(r.stat)} | ${fmtVal(r, r.a)} | ${fmtVal(r, r.b)} | ${fmtDelta(r.deltaPct)} | ${mdCell(r.reason ?? MARK[r.status])} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const violationsOf = (k: CheckResult | undefined): number =>
  !k ? 0 : k.passed ? 0 : Math.max(1, k.violationCount ?? k.violations.length);

/** Verdicts, checks that changed (with violation counts), thresholds crossed: the lines compare leads with. */
export function compareHeadline(
  res: CompareResult,
  a: RunResult,
  b: RunResult,
  thresholdPct: number,
  c: ReturnType<typeof colorsFor>,
): string[] {
  const lines = [`verdict: ${a.verdict} → ${b.verdict}${a.verdict === b.verdict ? '' : ' (changed)'}`];
  const sa = keyed(a);
  const sb = keyed(b);
  for (const name of new Set([...sa.keys(), ...sb.keys()])) {
    const x = sa.get(name);
    const y = sb.get(name);
    if (x?.verdict !== y?.verdict) lines.push(`  ${name}: ${x?.verdict ?? 'absent'} → ${y?.verdict ?? 'absent'}`);
    const cx = new Map((x?.checks ?? []).map((k) => [k.name, k]));
    for (const k of y?.checks ?? []) {
      const before = cx.get(k.name);
      const nb = violationsOf(k);
      const na = violationsOf(before);
      if (before && before.passed === k.passed && na === nb) continue;
      const state = (r: CheckResult | undefined, n: number) =>
        !r ? 'absent' : r.passed ? 'ok' : `FAILED (${n} violation${n === 1 ? '' : 's'})`;
      const mark = k.passed ? c.green('▼') : c.red('▲');
      lines.push(
        `  ${mark} ${name} check ${k.name}: ${state(before, na)} → ${state(k, nb)}${k.passed ? '' : `: ${k.summary}`}`,
      );
    }
  }
  // Crossed either way; a scenario present in one run only is already named above by its verdict.
  const moved = (r: CompareRow) => r.status === 'regression' || r.status === 'improvement';
  for (const r of res.rows.filter((r) => r.kind === 'threshold' && moved(r)))
    lines.push(
      `  ${r.status === 'regression' ? c.red('▲') : r.status === 'improvement' ? c.green('▼') : c.dim('•')} ${r.scenario} threshold ${r.metric} ${r.stat}: ${fmtVal(r, r.a)} → ${fmtVal(r, r.b)}${r.reason ? ` (${r.reason})` : r.status === 'improvement' ? ' (now met)' : ''}`,
    );
  if (lines.length === 1) lines.push(`  no check or threshold changed (metrics compared at ${thresholdPct}%)`);
  return lines;
}

export interface CompareOptions {
  thresholdPct?: number;
  /** Where compare.md and compare.json go (default: dirB). */
  outDir?: string;
  stdout?: OutStream;
  /** Print only changed rows to the terminal (files always hold every row). */
  onlyChanged?: boolean;
}

/** `harness compare A B`: every metric, threshold and check of B against A. */
export async function compareRuns(dirA: string, dirB: string, options: CompareOptions = {}): Promise<CompareResult> {
  const thresholdPct = options.thresholdPct ?? 10;
  const [a, b] = await Promise.all([readRunResult(dirA), readRunResult(dirB)]);
  const res = diffRuns(a, b, thresholdPct);
  const out = options.stdout ?? process.stdout;
  const c = colorsFor(out);
  // What a reader needs first: the verdicts, the checks that changed, the thresholds crossed and the
  // metrics that moved beyond noise. The full table (every row) is in compare.md and compare.json.
  for (const l of compareHeadline(res, a, b, thresholdPct, c)) out.write(`${l}\n`);
  const shown = res.rows.filter((r) => r.status !== 'unchanged' || !options.onlyChanged);
  const changed = shown.filter((r) => (r.status === 'regression' || r.status === 'improvement') && r.kind === 'metric');
  if (changed.length) {
    out.write(`\n${c.dim(`metrics that moved more than ${thresholdPct}% or crossed a threshold`)}\n`);
    const head = ['', 'scenario', 'metric', 'stat', 'A', 'B', 'Δ'].map((h) => c.dim(h));
    const body = changed.map((r) => [
      r.status === 'regression' ? c.red('▲') : r.status === 'improvement' ? c.green('▼') : c.dim('•'),
      r.scenario,
      r.metric,
      r.stat,
      fmtVal(r, r.a),
      fmtVal(r, r.b),
      r.status === 'regression' ? c.red(fmtDelta(r.deltaPct)) : fmtDelta(r.deltaPct),
    ]);
    for (const l of table([head, ...body], ['l', 'l', 'l', 'l', 'r', 'r', 'r'])) out.write(`  ${l}\n`);
  }
  const unchanged = res.rows.filter(
    (r) => r.status === 'unchanged' || r.status === 'new' || r.status === 'removed',
  ).length;
  out.write(
    `\n${res.regressions.length ? c.red(`${res.regressions.length} regression(s)`) : c.green('no regressions')} (${a.runId} → ${b.runId}, threshold ${thresholdPct}%); ${unchanged} more rows (unchanged, new or removed) in compare.md\n`,
  );
  const outDir = options.outDir ?? dirB;
  await writeFileAtomic(join(outDir, 'compare.md'), renderCompareMarkdown(res, a, b, thresholdPct));
  await writeFileAtomic(
    join(outDir, 'compare.json'),
    `${JSON.stringify({ a: { dir: resolve(dirA), runId: a.runId }, b: { dir: resolve(dirB), runId: b.runId }, thresholdPct, ...res }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? (v > 0 ? 'Infinity' : '-Infinity') : v), 2)}\n`,
  );
  return res;
}

// ---------------------------------------------------------------- merge

/**
 * What sets each run apart from the others being merged, from their command lines: `--network lte`
 * in one matrix cell and `--network wifi` in another gives the labels 'network=lte' / 'network=wifi'.
 * Shard numbers, seeds, reporters, output folders and scenario arguments are left out; runs that
 * differ in none of their options are labelled 'run <k>'.
 */
export function matrixLabels(results: RunResult[]): string[] {
  const IGNORE = new Set(['--shard', '--output', '--reporter', '--seed']);
  const tokens = results.map((r) => {
    const out: string[] = [];
    const argv = r.argv.slice(r.argv.indexOf('run') + 1);
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a.startsWith('--')) {
        const [flag, inline] = a.split('=', 2) as [string, string | undefined];
        const value = inline ?? (argv[i + 1] && !argv[i + 1]!.startsWith('-') ? argv[++i] : 'true');
        if (!IGNORE.has(flag)) out.push(`${flag.slice(2)}=${value}`);
      }
    }
    return out;
  });
  const common = tokens.length ? tokens.reduce((acc, t) => acc.filter((x) => t.includes(x))) : [];
  // Nothing on the command line tells two runs apart (same flags, other scenarios): number them.
  return tokens.map((t, i) => t.filter((x) => !common.includes(x)).join(' ') || `run ${i + 1}`);
}

const VERDICT_RANK: Record<Verdict, number> = { skipped: 0, passed: 1, flaky: 2, failed: 3, error: 4 };

export interface MergeOptions {
  /** Default: json, junit, markdown, html. */
  reporters?: Array<ReporterSpec | Reporter>;
  runId?: string;
  stdout?: OutStream;
}

/**
 * `harness merge-reports <dirs...> --output <dir>` (Playwright's merge-reports): one run from the
 * shards' results.json and history files. Histories are copied under `shard-<i>/` so scenarios from
 * different shards never overwrite each other, and every reporter is re-run on the merged result.
 */
export async function mergeReports(
  dirs: string[],
  outDir: string,
  options: MergeOptions = {},
): Promise<RunResult & RunResultExtensions> {
  if (!dirs.length) throw new ReportError('HRN_ERR_USAGE', 'merge-reports needs at least one run folder.');
  const runs = await Promise.all(dirs.map(async (d) => ({ dir: d, result: await readRunResult(d) })));
  runs.sort((x, y) => (x.result.shard?.index ?? 0) - (y.result.shard?.index ?? 0));
  await mkdir(outDir, { recursive: true });
  const scenarios: Array<ScenarioResult & ScenarioResultExtensions> = [];
  const stats = { passed: 0, failed: 0, flaky: 0, skipped: 0, error: 0 };
  let verdict: Verdict = 'skipped';
  let start = Number.POSITIVE_INFINITY;
  let end = 0;
  const labels = matrixLabels(runs.map((r) => r.result));
  const usedDirs = new Set<string>();
  const perRun: Array<Array<ScenarioResult & ScenarioResultExtensions>> = [];
  for (const [i, { dir, result }] of runs.entries()) {
    const shard = result.shard ?? { index: i + 1, total: runs.length };
    // Matrix jobs repeat shard numbers (shard 1 of wifi, shard 1 of lte): keep their files apart.
    let sub = `shard-${shard.index}`;
    if (usedDirs.has(sub)) sub = `${sub}-run-${i + 1}`;
    usedDirs.add(sub);
    const copied = new Map<string, string>();
    const mine: Array<ScenarioResult & ScenarioResultExtensions> = [];
    for (const s of result.scenarios) {
      let dest = copied.get(s.historyFile);
      if (dest === undefined) {
        dest = `${sub}/${s.historyFile}`;
        copied.set(s.historyFile, dest);
        await mkdir(dirname(join(outDir, dest)), { recursive: true });
        await copyFile(join(dir, s.historyFile), join(outDir, dest)).catch(() => {
          // A shard without its history still merges; the HTML says the excerpt is missing.
        });
      }
      mine.push({ ...s, historyFile: dest, shard });
    }
    perRun.push(mine);
    for (const k of Object.keys(stats) as Array<keyof typeof stats>) stats[k] += result.stats[k] ?? 0;
    if (VERDICT_RANK[result.verdict] > VERDICT_RANK[verdict]) verdict = result.verdict;
    const t0 = Date.parse(result.startedAt);
    start = Math.min(start, t0);
    end = Math.max(end, t0 + result.durationMs);
  }
  // The same scenario from two matrix cells gets the cell's distinguishing options in its name.
  const runsWith = new Map<string, number>();
  for (const mine of perRun)
    for (const n of new Set(mine.map((s) => s.name))) runsWith.set(n, (runsWith.get(n) ?? 0) + 1);
  perRun.forEach((mine, i) => {
    for (const s of mine) scenarios.push(runsWith.get(s.name)! > 1 ? { ...s, name: `${s.name} [${labels[i]}]` } : s);
  });
  const first = runs[0]!.result;
  const merged: RunResult & RunResultExtensions = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    runId: options.runId ?? `merged-${first.runId}`,
    startedAt: new Date(start).toISOString(),
    durationMs: Math.max(0, end - start),
    harnessVersion: first.harnessVersion,
    argv: ['harness', 'merge-reports', ...dirs, '--output', outDir],
    seed: first.seed,
    target: first.target,
    environment: first.environment,
    scenarios,
    verdict,
    stats,
    mergedFrom: runs.map(({ dir, result }) => ({
      runId: result.runId,
      dir: resolve(dir),
      ...(result.shard ? { shard: result.shard } : {}),
    })),
  };
  await runReporters(merged, options.reporters ?? ['json', 'junit', 'markdown', 'html'], outDir, options.stdout);
  return merged;
}
