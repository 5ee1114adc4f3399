/**
 * The layering rules of docs/CONVENTIONS.md, checked on every test run (Playwright's DEPS.list habit):
 * protocol/ imports nothing of ours; server/ never imports devices/ or harness/runner; devices/ never
 * import server/; reports/ never import the runner.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (e === 'node_modules' || e === 'dist') continue;
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|tsx)$/.test(e)) out.push(p);
  }
  return out;
}

function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const re = /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  const out: string[] = [];
  for (let m = re.exec(src); m; m = re.exec(src)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith('.')) out.push(relative(ROOT, resolve(file, '..', spec)));
  }
  return out;
}

const RULES: Array<{ from: string; forbidden: string[] }> = [
  { from: 'protocol', forbidden: ['harness', 'server', 'devices', 'reports'] },
  { from: 'server', forbidden: ['devices', 'harness/runner', 'reports'] },
  { from: 'devices', forbidden: ['server', 'harness/runner', 'reports'] },
  { from: 'reports', forbidden: ['harness/runner', 'server', 'devices'] },
];

describe('layering', () => {
  for (const rule of RULES) {
    it(`${rule.from}/ does not import ${rule.forbidden.join(', ')}`, () => {
      const bad: string[] = [];
      for (const f of files(join(ROOT, rule.from))) {
        // Tests and their support files may wire real servers to devices; product code may not.
        if (/test/.test(relative(ROOT, f).split('/').pop() ?? '')) continue;
        for (const imp of importsOf(f)) {
          if (rule.forbidden.some((p) => imp === p || imp.startsWith(`${p}/`)))
            bad.push(`${relative(ROOT, f)} → ${imp}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }
});
