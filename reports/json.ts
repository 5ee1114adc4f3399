/** `json`: writes `results.json` (schema in harness/results/types.ts, documented in reports/README.md). */
import type { RunResult } from '../harness/results/types';
import { outputPath, writeFileAtomic } from './files';
import type { Reporter, ReporterContext } from './types';

export class JsonReporter implements Reporter {
  readonly file: string;
  constructor(options: Record<string, unknown>, ctx: ReporterContext) {
    this.file = outputPath(ctx, options, 'results.json');
  }

  async onEnd(result: RunResult) {
    await writeFileAtomic(this.file, `${JSON.stringify(result, null, 2)}\n`);
  }
}

export default function create(options: Record<string, unknown>, ctx: ReporterContext): Reporter {
  return new JsonReporter(options, ctx);
}
