/**
 * The layering, checked on every test run (Playwright's DEPS.list habit), with no exceptions:
 *
 *   protocol  ←  devices, server  ←  harness  ←  reports  ←  harness/cli
 *
 * Each folder may import only the folders listed for it. Tests (`*.test.ts`) may wire real servers
 * to real devices; so may the test-support files named in TEST_SUPPORT, and nothing else.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');

/** Folder → folders it may import (a folder may always import itself). Longest prefix wins. */
const DEPS: Record<string, string[]> = {
  protocol: [],
  devices: ['protocol'],
  server: ['protocol'],
  harness: ['protocol', 'devices', 'server'],
  reports: ['protocol', 'harness/results', 'harness/config', 'harness/history', 'harness/metrics', 'harness/checkers'],
  'harness/cli': ['protocol', 'devices', 'server', 'harness', 'reports'],
  // Inside harness/: the pieces the runner composes never reach back into it.
  'harness/results': ['protocol'],
  'harness/history': ['protocol', 'harness/results'],
  // The independent statements of the contract's rules the checkers and the @target probes judge by.
  'harness/oracle': ['protocol'],
  'harness/checkers': ['protocol', 'harness/results', 'harness/config', 'harness/history', 'harness/oracle'],
  'harness/metrics': ['protocol', 'harness/results', 'harness/config', 'harness/checkers', 'harness/history'],
  'harness/faults': ['protocol', 'devices', 'harness/config', 'harness/services'],
};

/** Test-support files that start real servers for device tests (they cross layers on purpose). */
const TEST_SUPPORT = ['devices/phone/test-support.ts', 'devices/web/test-env.ts'];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (e === 'node_modules' || e === 'dist') continue;
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|tsx|mjs|cjs)$/.test(e)) out.push(p);
  }
  return out;
}

function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const re =
    /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;
  const out: string[] = [];
  for (let m = re.exec(src); m; m = re.exec(src)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith('.')) out.push(relative(ROOT, resolve(file, '..', spec)));
  }
  return out;
}

const under = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

function ruleOf(path: string): string | undefined {
  return Object.keys(DEPS)
    .filter((f) => under(path, f))
    .sort((a, b) => b.length - a.length)[0];
}

/** Whether `from` (a file) may import `to` (a path). */
function allowed(from: string, to: string): boolean {
  const rule = ruleOf(from);
  if (!rule) return true;
  const target = ruleOf(to);
  if (!target) return true; // outside the layered folders (node_modules-like assets, fixtures)
  if (target === rule || under(to, rule)) return true;
  return DEPS[rule].some((f) => under(to, f));
}

describe('layering', () => {
  for (const folder of Object.keys(DEPS)) {
    it(`${folder}/ imports only ${[folder, ...DEPS[folder]].join(', ')}`, () => {
      const bad: string[] = [];
      for (const f of files(join(ROOT, folder))) {
        const rel = relative(ROOT, f);
        if (ruleOf(rel) !== folder) continue; // a nested folder with its own rule
        if (rel.endsWith('.test.ts') || TEST_SUPPORT.includes(rel)) continue;
        for (const imp of importsOf(f)) if (!allowed(rel, imp)) bad.push(`${rel} → ${imp}`);
      }
      expect(bad).toEqual([]);
    });
  }

  it('forbids the arrows issue 17 found (the rule catches each one)', () => {
    expect(allowed('server/main.ts', 'harness/services/postgres/index')).toBe(false);
    expect(allowed('devices/web/chromium.ts', 'harness/config/errors')).toBe(false);
    expect(allowed('harness/runner/replay.ts', 'reports/commands')).toBe(false);
    expect(allowed('harness/runner/shrink.ts', 'reports/commands')).toBe(false);
    expect(allowed('harness/runner/run.ts', 'reports/index')).toBe(false);
    expect(allowed('reports/commands.ts', 'harness/runner/run')).toBe(false);
    expect(allowed('protocol/device.ts', 'devices/registry')).toBe(false);
    expect(allowed('devices/phone/phone.ts', 'server/index')).toBe(false);
    expect(allowed('harness/faults/nemesis.ts', 'harness/runner/rng')).toBe(false);
    expect(allowed('harness/faults/nemesis.ts', 'protocol/rng')).toBe(true);
    expect(allowed('harness/cli/commands.ts', 'reports/index')).toBe(true);
  });
});
