/**
 * The scenario library, run end to end the way a user runs it: every scenario except the @load ones
 * (each needs the machine to itself) and the @target ones (they test someone else's server; their
 * proof is target-suite.test.ts), with a fixed seed, through the CLI. Every scenario must pass, or be
 * skipped because hardware it needs is absent (reported, with the reason). The verdict table is
 * printed whatever the outcome, so a CI log shows what ran.
 */
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { RunResult } from '../harness/results/types';
import { runHarness } from './run-cli';

export const LIBRARY_SEED = 1;
export const LIBRARY_ARGS = ['--grep-invert', '^(load|target)$', '--seed', String(LIBRARY_SEED)];
/** Generous: the library takes minutes on a loaded 2-core machine; a hang must still end. */
const TIMEOUT_MS = 25 * 60_000;

const harness = (args: string[]) => runHarness(args, { timeoutMs: TIMEOUT_MS - 30_000 });

it(
  'the scenario library passes (all but @load and @target; skipped only for absent hardware)',
  async () => {
    const out = mkdtempSync(join(tmpdir(), 'hlib-'));
    chmodSync(out, 0o755); // embedded PostgreSQL runs as the postgres user and must reach its data folder
    const t0 = performance.now();
    const r = await harness(['run', ...LIBRARY_ARGS, '--allow-skipped', '--reporter', 'json', '--output', out]);
    const secs = (performance.now() - t0) / 1000;
    let result: RunResult;
    try {
      result = JSON.parse(readFileSync(join(out, 'latest', 'results.json'), 'utf8'));
    } catch {
      throw new Error(`the library run wrote no results (exit ${r.code}):\n${r.err.slice(-4000)}`);
    }
    const finals = new Map(result.scenarios.map((s) => [s.name, s]));
    const rows = [...finals.values()].map((s) => {
      const failed = [
        ...s.checks.filter((c) => !c.passed).map((c) => c.name),
        ...s.thresholds.filter((t) => !t.passed).map((t) => `${t.metric} ${t.expression} (measured ${t.measured})`),
      ];
      const why =
        s.verdict === 'skipped'
          ? (s.notes ?? []).join('; ')
          : s.verdict === 'passed'
            ? ''
            : [s.error?.message, failed.length ? `failed: ${failed.join(', ')}` : ''].filter(Boolean).join('; ');
      return { verdict: s.verdict, name: s.name, ops: s.operations, secs: s.durationMs / 1000, why };
    });
    const w = Math.max(...rows.map((x) => x.name.length));
    const table = rows
      .map(
        (x) =>
          `  ${x.verdict.padEnd(7)}  ${x.name.padEnd(w)}  ${String(x.ops).padStart(6)} ops  ${x.secs.toFixed(1).padStart(6)} s  ${x.why}`,
      )
      .join('\n');
    const count = (v: string) => rows.filter((x) => x.verdict === v).length;
    console.log(
      `scenario library (seed ${LIBRARY_SEED}, ${rows.length} scenarios in ${secs.toFixed(0)} s): ${count('passed')} passed, ${count('skipped')} skipped, ${rows.length - count('passed') - count('skipped')} not passed\n${table}`,
    );
    const bad = rows.filter((x) => x.verdict !== 'passed' && x.verdict !== 'skipped');
    expect(bad.map((x) => `${x.name}: ${x.verdict} (${x.why})`)).toEqual([]);
    // A skip is only ever for hardware or tooling this machine lacks, and says which.
    for (const x of rows.filter((y) => y.verdict === 'skipped')) expect(x.why, x.name).toMatch(/skipped: /);
    expect(rows.length).toBeGreaterThan(30);
    expect(r.code, r.err.slice(-2000)).toBe(0);
  },
  TIMEOUT_MS,
);
