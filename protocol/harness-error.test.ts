/** One error class and one hint table: every HRN_ERR_* code the code base raises is in it. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HistoryError } from '../harness/history/errors';
import { ReportError } from '../reports/errors';
import { PostgresServiceError } from '../server/services/postgres';
import { HARNESS_ERRORS, HarnessError } from './harness-error';

const ROOT = resolve(__dirname, '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (e === 'node_modules' || e === 'dist' || e === 'testdata') continue;
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|mjs|cjs)$/.test(e) && !e.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

describe('HarnessError', () => {
  it('every HRN_ERR_* code raised anywhere has an entry (exit code and hint)', () => {
    const used = new Set<string>();
    for (const dir of ['protocol', 'devices', 'server', 'harness', 'reports'])
      for (const f of sources(join(ROOT, dir)))
        for (const m of readFileSync(f, 'utf8').matchAll(/HRN_ERR_[A-Z_]*[A-Z]/g)) used.add(m[0]);
    const missing = [...used].filter((c) => !(c in HARNESS_ERRORS)).sort();
    expect(missing).toEqual([]);
    for (const e of Object.values(HARNESS_ERRORS)) expect(e.hint.length).toBeGreaterThan(10);
  });

  it('the other layers raise the same class with the table hint', () => {
    const errs = [
      new ReportError('HRN_ERR_RUN_DIR', 'x'),
      new HistoryError('x', 'fix the file', 3),
      new PostgresServiceError('HRN_ERR_POSTGRES_URL', 'x'),
    ];
    for (const e of errs) {
      expect(e).toBeInstanceOf(HarnessError);
      expect(e.exitCode).toBe(2);
    }
    expect(errs[0].hint).toBe(HARNESS_ERRORS.HRN_ERR_RUN_DIR.hint);
    expect(errs[1].code).toBe('HRN_ERR_HISTORY');
    expect(errs[2].hint).toBe(HARNESS_ERRORS.HRN_ERR_POSTGRES_URL.hint);
  });
});
