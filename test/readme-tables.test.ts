/**
 * The README's scenario-library table says only what runs: every scenario `harness list` prints is
 * in it, every name in it is a scenario `harness list` prints, and each sits in a row of a tag it
 * carries. Its RFC thresholds table names exactly the RFC default keys and expressions.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RFC_TARGETS } from '../harness/metrics/rfc-targets';

const ROOT = resolve(__dirname, '..');

/** `harness list`: one line per scenario, `name  @tag @tag  devices`. */
function listed(): Map<string, Set<string>> {
  const out = execFileSync(process.execPath, [resolve(ROOT, 'bin/harness.js'), 'list'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const m = new Map<string, Set<string>>();
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length > 1 && f[1]!.startsWith('@')) m.set(f[0]!, new Set(f.filter((x) => x.startsWith('@'))));
  }
  return m;
}

/** Rows of the table under "## The scenario library": the row's tags and the scenario names it lists. */
function readmeRows(): Array<{ tags: string[]; names: string[] }> {
  const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## The scenario library');
  expect(start).toBeGreaterThan(-1);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `@'))
    .map((l) => {
      const [, tagCol = '', nameCol = ''] = l.split('|');
      return {
        tags: [...tagCol.matchAll(/`(@[a-z0-9-]+)`/g)].map((x) => x[1]!),
        names: [...nameCol.matchAll(/`([a-z0-9-]+)`/g)].map((x) => x[1]!),
      };
    });
}

describe('README scenario table matches harness list', () => {
  it('names exactly the scenarios that exist, each under a tag it carries', () => {
    const scenarios = listed();
    const rows = readmeRows();
    expect(scenarios.size).toBeGreaterThan(10);
    const inReadme = new Set(rows.flatMap((r) => r.names));
    expect(
      [...scenarios.keys()].filter((n) => !inReadme.has(n)),
      'scenarios missing from the README',
    ).toEqual([]);
    expect(
      [...inReadme].filter((n) => !scenarios.has(n)),
      'README names no scenario has',
    ).toEqual([]);
    const misfiled = rows.flatMap((r) =>
      r.names.filter((n) => !r.tags.some((t) => scenarios.get(n)?.has(t))).map((n) => `${n} under ${r.tags.join(',')}`),
    );
    expect(misfiled, 'scenarios in a row of a tag they do not carry').toEqual([]);
  }, 60_000);
});

describe('README RFC thresholds table matches harness/metrics/rfc-targets.ts', () => {
  it('lists every RFC default threshold with its key and expression, and no other key', () => {
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('### Thresholds (RFC 0006 defaults)');
    expect(start).toBeGreaterThan(-1);
    const section = readme.slice(start, readme.indexOf('\n#', start + 5));
    const rows = section
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => {
        const [, key = '', expr = ''] = l.split('|');
        return [/`([^`]+)`/.exec(key)?.[1], /`([^`]+)`/.exec(expr)?.[1]];
      });
    expect(rows).toEqual(Object.values(RFC_TARGETS).map((t) => [t.key, t.threshold]));
  });
});
