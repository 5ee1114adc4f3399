/**
 * `dot`: one character per finished scenario (· passed, F failed, ± flaky, - skipped, E error), wrapped
 * at 80 columns, then the summary. For runs with many scenarios (repeat, matrix) where a line each is noise.
 */
import type { RunResult, ScenarioResult } from '../harness/results/types';
import { type Colors, colorsFor, stdoutOf, summaryLines } from './base';
import type { OutStream, Reporter, ReporterContext } from './types';

export class DotReporter implements Reporter {
  readonly printsToStdout = true;
  private readonly out: OutStream;
  private readonly c: Colors;
  private col = 0;

  constructor(_options: Record<string, unknown>, ctx: ReporterContext) {
    this.out = stdoutOf(ctx);
    this.c = colorsFor(this.out, ctx.env);
  }

  onScenarioEnd(s: ScenarioResult) {
    const ch =
      s.verdict === 'passed'
        ? this.c.green('·')
        : s.verdict === 'failed'
          ? this.c.red('F')
          : s.verdict === 'flaky'
            ? this.c.yellow('±')
            : s.verdict === 'error'
              ? this.c.red('E')
              : this.c.dim('-');
    this.out.write(ch);
    if (++this.col % 80 === 0) this.out.write('\n');
  }

  onEnd(result: RunResult) {
    if (this.col % 80 !== 0) this.out.write('\n');
    for (const l of summaryLines(result, this.c)) this.out.write(`${l}\n`);
  }
}

export default function create(options: Record<string, unknown>, ctx: ReporterContext): Reporter {
  return new DotReporter(options, ctx);
}
