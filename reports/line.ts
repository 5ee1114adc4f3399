/**
 * `line`: plain, append-only lines for CI logs. Progress is throttled (default every 5 s per
 * scenario) so a long soak run does not produce megabytes of log. No ANSI unless stdout is a TTY
 * (and NO_COLOR is unset) or FORCE_COLOR is set.
 */
import type { RunResult, ScenarioResult } from '../harness/results/types';
import {
  type Colors,
  colorsFor,
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

export class LineReporter implements Reporter {
  readonly printsToStdout = true;
  private readonly out: OutStream;
  private readonly c: Colors;
  private readonly intervalMs: number;
  private lastProgress = new Map<string, number>();

  constructor(options: Record<string, unknown>, ctx: ReporterContext) {
    this.out = stdoutOf(ctx);
    this.c = colorsFor(this.out, ctx.env);
    this.intervalMs = typeof options.progressIntervalMs === 'number' ? options.progressIntervalMs : 5_000;
  }

  private println(s: string) {
    this.out.write(`${s}\n`);
  }

  onBegin(run: RunBeginInfo) {
    const shard = run.shard ? ` shard=${run.shard.index}/${run.shard.total}` : '';
    this.println(`run ${run.runId}: ${run.scenarios.length} scenarios seed=${run.seed}${shard} out=${run.outputDir}`);
  }

  onScenarioBegin(s: ScenarioInfo) {
    const tags = s.tags.length ? ` tags=${s.tags.join(',')}` : '';
    this.println(
      `[${s.name}] start devices=${s.devices.map((d) => d.id).join(',')}${tags}${s.attempt && s.attempt > 1 ? ` attempt=${s.attempt}` : ''}`,
    );
  }

  onProgress(p: ProgressInfo) {
    // The first line comes one interval in: at 0.5 s nothing has started yet ("0 ops devices=0").
    const last = this.lastProgress.get(p.scenario) ?? 0;
    if (p.elapsedMs - last < this.intervalMs) return;
    this.lastProgress.set(p.scenario, p.elapsedMs);
    const faults = p.faultsActive.length ? ` · faults ${p.faultsActive.join(',')}` : '';
    this.println(`[${p.scenario}] ${progressParts(p).join(' · ')} · ${formatDuration(p.elapsedMs)}${faults}`);
  }

  onScenarioEnd(s: ScenarioResult) {
    const failed = s.checks.filter((k) => !k.passed).map((k) => k.name);
    const thr = s.thresholds.filter((t) => !t.passed).map((t) => `${t.metric} ${t.expression}`);
    const extra = [
      failed.length ? `failed-checks=${failed.join(',')}` : '',
      thr.length ? `failed-thresholds=${thr.join(';')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    const v =
      s.verdict === 'passed'
        ? this.c.green(s.verdict)
        : s.verdict === 'flaky'
          ? this.c.yellow(s.verdict)
          : this.c.red(s.verdict);
    this.println(
      `[${s.name}] ${VERDICT_SYMBOL[s.verdict]} ${v} ops=${s.operations} duration=${formatDuration(s.durationMs)}${extra ? ` ${extra}` : ''}`,
    );
    for (const n of provedNotes(s)) this.println(`[${s.name}] ${n}`);
  }

  onError(e: ReporterErrorInfo | Error) {
    const code = 'code' in e && e.code ? `${e.code}: ` : '';
    const where = 'scenario' in e && e.scenario ? `[${e.scenario}] ` : '';
    this.println(`${where}error ${code}${e.message}`);
  }

  onEnd(result: RunResult) {
    for (const l of summaryLines(result, this.c)) this.println(l);
  }
}

export default function create(options: Record<string, unknown>, ctx: ReporterContext): Reporter {
  return new LineReporter(options, ctx);
}
