/**
 * `html`: one self-contained `index.html` per run (see html/page.ts). Reads each scenario's history
 * file from the run folder to draw the timeline and the excerpts of failed checks.
 */
import { join } from 'node:path';
import type { RunResult } from '../harness/results/types';
import type { HistoryOp } from '../protocol/history';
import { openInBrowser, outputPath, writeFileAtomic } from './files';
import { type HistoryView, LazyHistory } from './history';
import { type RenderOptions, renderHtml } from './html/page';
import type { Reporter, ReporterContext } from './types';

/** Loads every distinct history file the run names, relative to the run folder. */
export async function loadHistories(runDir: string, result: RunResult): Promise<Map<string, HistoryView>> {
  const files = [...new Set(result.scenarios.map((s) => s.historyFile).filter(Boolean))];
  const loaded = await Promise.all(files.map(async (f) => [f, await LazyHistory.read(join(runDir, f))] as const));
  return new Map(loaded);
}

export class HtmlReporter implements Reporter {
  readonly file: string;
  private readonly runDir: string;
  private readonly render: RenderOptions;
  private readonly open: boolean;
  /** Histories handed in by the caller (tests, merge) instead of read from disk. */
  histories?: Map<string, HistoryOp[] | HistoryView>;

  constructor(options: Record<string, unknown>, ctx: ReporterContext) {
    this.file = outputPath(ctx, options, 'index.html');
    this.runDir = typeof options.runDir === 'string' ? options.runDir : ctx.outputDir;
    this.render = {};
    this.open = options.open === true;
    for (const k of ['maxTitledMarks', 'maxViolations', 'maxExcerptRows'] as const) {
      if (typeof options[k] === 'number') this.render[k] = options[k] as number;
    }
  }

  async onEnd(result: RunResult) {
    const histories = this.histories ?? (await loadHistories(this.runDir, result));
    await writeFileAtomic(this.file, renderHtml(result, histories, this.render));
    if (this.open) openInBrowser(this.file);
  }
}

export default function create(options: Record<string, unknown>, ctx: ReporterContext): Reporter {
  return new HtmlReporter(options, ctx);
}
