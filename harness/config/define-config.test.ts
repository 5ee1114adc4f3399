/** defineConfig merges like Playwright's; resolveConfig fills defaults and names the field at fault. */
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../../protocol/harness-error';
import { DEFAULT_CONFIG, defineConfig, resolveConfig } from './define-config';

function problem(user: unknown): string {
  try {
    resolveConfig(user as never);
  } catch (e) {
    expect(e).toBeInstanceOf(HarnessError);
    expect((e as HarnessError).code).toBe('HRN_ERR_CONFIG');
    expect((e as HarnessError).exitCode).toBe(2);
    return (e as Error).message;
  }
  return 'accepted';
}

describe('defineConfig', () => {
  it('later configs override earlier ones; use, services and thresholds merge deeply', () => {
    const merged = defineConfig(
      { repeat: 2, use: { timeScale: 10 }, thresholds: { a: ['max<1'] }, reporters: ['list'] },
      { repeat: 3, use: { network: 'lte' }, thresholds: { b: ['max<2'] }, reporters: ['dot'] },
    );
    expect(merged).toEqual({
      repeat: 3,
      use: { timeScale: 10, network: 'lte' },
      thresholds: { a: ['max<1'], b: ['max<2'] },
      reporters: ['dot'],
    });
  });
});

describe('resolveConfig', () => {
  it('fills the defaults', () => {
    expect(resolveConfig({})).toEqual(DEFAULT_CONFIG);
    const c = resolveConfig({ services: { postgres: 'url' as never, proxy: { mode: 'embedded' } } as never });
    expect(c.services.postgres).toEqual({ mode: 'url' });
    expect(c.services.objectStore).toEqual(DEFAULT_CONFIG.services.objectStore);
  });
  it('names the field at fault', () => {
    expect(problem({ scenarioDirs: 'x' })).toMatch(/unknown config field "scenarioDirs"/);
    expect(problem({ repeat: 0 })).toMatch(/"repeat" must be an integer >= 1/);
    expect(problem({ services: { postgres: 'cloud' } })).toMatch(/"services.postgres" must be one of auto/);
    expect(problem({ services: { redis: 'url' } })).toMatch(/unknown service "services.redis"/);
    expect(problem({ server: { target: 'ftp://x' } })).toMatch(/"server.target" must be an http\(s\) URL/);
    expect(problem({ thresholds: { x: 'p(95)<1' } })).toMatch(/thresholds\["x"\]/);
    expect(problem({ use: { network: 'moon' } })).toMatch(/"use.network" must be one of/);
    expect(problem({ use: { timeScale: 0 } })).toMatch(/"use.timeScale" must be a number > 0/);
    expect(problem({ projects: [{}] })).toMatch(/"projects\[0\]\.name" must be a string/);
  });
});
