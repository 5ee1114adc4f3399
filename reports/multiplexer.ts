/**
 * Fans every hook out to all reporters. One broken reporter must not cost the others their output (a
 * crashing HTML reporter should still leave junit.xml for CI), so each call is isolated and its error
 * reported on stderr with HRN_ERR_REPORTER; `errors` keeps them for the caller's exit code.
 */
import type { RunResult, ScenarioResult } from '../harness/results/types';
import type { OutStream, ProgressInfo, Reporter, ReporterErrorInfo, RunBeginInfo, ScenarioInfo } from './types';

type Hook = Exclude<keyof Reporter, 'printsToStdout'>;

export class Multiplexer implements Reporter {
  readonly errors: Array<{ reporter: number; hook: Hook; error: unknown }> = [];

  constructor(
    readonly reporters: Reporter[],
    private readonly stderr: OutStream = process.stderr,
  ) {}

  get printsToStdout(): boolean {
    return this.reporters.some((r) => r.printsToStdout);
  }

  private async call(hook: Hook, arg: unknown, parallel = false) {
    const run = async (r: Reporter, i: number) => {
      const fn = r[hook] as ((a: unknown) => unknown) | undefined;
      if (!fn) return;
      try {
        await fn.call(r, arg);
      } catch (error) {
        this.errors.push({ reporter: i, hook, error });
        const name = r.constructor?.name ?? `reporter #${i}`;
        const msg = error instanceof Error ? error.message : String(error);
        this.stderr.write(`HRN_ERR_REPORTER: ${name}.${hook} failed: ${msg}\n`);
      }
    };
    if (parallel) await Promise.all(this.reporters.map(run));
    else for (let i = 0; i < this.reporters.length; i++) await run(this.reporters[i]!, i);
  }

  onBegin(run: RunBeginInfo) {
    return this.call('onBegin', run);
  }
  onScenarioBegin(s: ScenarioInfo) {
    return this.call('onScenarioBegin', s);
  }
  onProgress(p: ProgressInfo) {
    return this.call('onProgress', p);
  }
  onScenarioEnd(result: ScenarioResult) {
    return this.call('onScenarioEnd', result);
  }
  onError(e: ReporterErrorInfo | Error) {
    return this.call('onError', e);
  }
  /** File reporters are independent: write them concurrently. */
  onEnd(result: RunResult) {
    return this.call('onEnd', result, true);
  }
}
