/**
 * `list` (default on a TTY): one live progress line redrawn in place while a scenario runs, a line
 * per finished scenario, and the summary table at the end. Off a TTY it degrades to `line`-style
 * output without redraws, so logs never fill with carriage returns.
 */
import type { RunResult, ScenarioResult } from '../harness/results/types';
import {
  type Colors,
  colorsFor,
  colorVerdict,
  formatDuration,
  progressParts,
  provedNotes,
  stdoutOf,
  summaryLines,
  VERDICT_SYMBOL,
} from './base';
import type {
  OutStream,
  ProgressInfo,
  Reporter,
  ReporterContext,
  ReporterErrorInfo,
  RunBeginInfo,
  ScenarioInfo,
} from './types';

export class ListReporter implements Reporter {
  readonly printsToStdout = true;
  private readonly out: OutStream;
  private readonly c: Colors;
  private readonly live: boolean;
  private liveShown = false;
  private total = 0;
  private done = 0;

  constructor(_options: Record<string, unknown>, ctx: ReporterContext) {
    this.out = stdoutOf(ctx);
    this.c = colorsFor(this.out, ctx.env);
    this.live = !!this.out.isTTY;
  }

  private clearLive() {
    if (this.liveShown) this.out.write('\r\x1b[2K');
    this.liveShown = false;
  }

  private println(s: string) {
    this.clearLive();
    this.out.write(`${s}\n`);
  }

  onBegin(run: RunBeginInfo) {
    this.total = run.scenarios.length;
    const shard = run.shard ? ` · shard ${run.shard.index}/${run.shard.total}` : '';
    this.println(
      `Running ${run.scenarios.length} scenario${run.scenarios.length === 1 ? '' : 's'} · seed ${run.seed}${shard} · ${this.c.dim(run.outputDir)}`,
    );
  }

  onScenarioBegin(s: ScenarioInfo) {
    if (!this.live) this.println(`  ${this.c.dim('▸')} ${s.name} ${this.c.dim(`(${s.devices.length} devices)`)}`);
  }

  onProgress(p: ProgressInfo) {
    if (!this.live) return;
    const pct = p.opsTotal ? ` ${Math.min(100, Math.floor((p.opsDone / p.opsTotal) * 100))}%` : '';
    const faults = p.faultsActive.length ? this.c.yellow(` ⚡ ${p.faultsActive.join(', ')}`) : '';
    let line = `  ${this.c.cyan('●')} [${this.done + 1}/${this.total}] ${p.scenario}${pct}${faults} · ${progressParts(p).join(' · ')} · ${formatDuration(p.elapsedMs)}`;
    // A pty without a size reports 0 columns.
    const cols = this.out.columns && this.out.columns > 20 ? this.out.columns : 120;
    // Never wrap: a wrapped line cannot be redrawn with \r.
    if (line.length > cols - 1) line = `${line.slice(0, cols - 2)}…`;
    this.out.write(`\r\x1b[2K${line}`);
    this.liveShown = true;
  }

  onScenarioEnd(s: ScenarioResult) {
    this.done++;
    const sym = colorVerdict(this.c, s.verdict, VERDICT_SYMBOL[s.verdict]);
    const attempt = s.attempt > 1 ? this.c.dim(` (attempt ${s.attempt})`) : '';
    const failed = s.checks.filter((k) => !k.passed).map((k) => k.name);
    const why = failed.length ? this.c.red(` failed: ${failed.join(', ')}`) : '';
    this.println(
      `  ${sym} ${s.name}${attempt} ${this.c.dim(`${s.operations} ops · ${formatDuration(s.durationMs)}`)}${why}`,
    );
    for (const n of provedNotes(s)) this.println(`    ${this.c.dim(n)}`);
  }

  onError(e: ReporterErrorInfo | Error) {
    const code = 'code' in e && e.code ? `${e.code}: ` : '';
    this.println(this.c.red(`  error ${code}${e.message}`));
  }

  onEnd(result: RunResult) {
    this.clearLive();
    for (const l of summaryLines(result, this.c)) this.out.write(`${l}\n`);
  }
}

export default function create(options: Record<string, unknown>, ctx: ReporterContext): Reporter {
  return new ListReporter(options, ctx);
}
