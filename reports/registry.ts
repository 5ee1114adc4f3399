/**
 * Reporter registry: `createReporters(specs, ctx)` resolves built-in names (and module paths for custom
 * reporters) into one Multiplexer the runner drives.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import dot from './dot';
import { ReportError } from './errors';
import html from './html';
import json from './json';
import junit from './junit';
import line from './line';
import list from './list';
import markdown from './markdown';
import { Multiplexer } from './multiplexer';
import type { Reporter, ReporterContext, ReporterFactory, ReporterSpec } from './types';

export const BUILTIN_REPORTERS: Record<string, ReporterFactory> = { list, dot, line, json, junit, markdown, html };

/** Terminal reporter by default: `list` on a TTY, `line` in CI logs and pipes. */
export function defaultTerminalReporter(ctx: ReporterContext): string {
  const env = ctx.env ?? process.env;
  const out = ctx.stdout ?? process.stdout;
  return out.isTTY && !env.CI ? 'list' : 'line';
}

/** What a run writes when the config names no reporters: a terminal one plus every file. */
export function defaultReporterSpecs(ctx: ReporterContext): ReporterSpec[] {
  return [defaultTerminalReporter(ctx), 'json', 'junit', 'markdown', 'html'];
}

async function resolveOne(spec: ReporterSpec | Reporter, ctx: ReporterContext): Promise<Reporter> {
  if (typeof spec === 'object' && !Array.isArray(spec)) return spec;
  const [name, options = {}] = typeof spec === 'string' ? [spec, {}] : spec;
  const builtin = BUILTIN_REPORTERS[name];
  if (builtin) return builtin(options, ctx);
  if (name.startsWith('.') || isAbsolute(name)) {
    // A custom reporter module: default export is a factory (options, ctx) => Reporter, or a class.
    const mod = await import(pathToFileURL(resolve(name)).href).catch((e: Error) => {
      throw new ReportError('HRN_ERR_CONFIG', `Reporter module ${name} could not be loaded: ${e.message}`);
    });
    const exp = mod.default;
    if (typeof exp !== 'function')
      throw new ReportError('HRN_ERR_CONFIG', `Reporter module ${name} has no default export.`);
    try {
      return exp(options, ctx) as Reporter;
    } catch {
      return new exp(options, ctx) as Reporter;
    }
  }
  throw new ReportError('HRN_ERR_CONFIG', `Unknown reporter "${name}".`);
}

export async function createReporters(
  specs: Array<ReporterSpec | Reporter>,
  ctx: ReporterContext,
): Promise<Multiplexer> {
  const list = specs.length ? specs : defaultReporterSpecs(ctx);
  const reporters = await Promise.all(list.map((s) => resolveOne(s, ctx)));
  return new Multiplexer(reporters, ctx.stderr);
}
