/**
 * Done-when of the real-device path, through the CLI: a scenario with a `detox` phone and a
 * `ble-watch` is `skipped` with the reasons on a machine without Detox or a Bluetooth adapter (exit 1,
 * 0 with --allow-skipped); the same scenario with the bridge pointed at the simulated phone passes.
 * Uses the machine's PostgreSQL when SYNC_TEST_DATABASE_URL is set.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runHarness } from '../../test/run-cli';

const pg = process.env.SYNC_TEST_DATABASE_URL;
const services = pg ? ['--services', 'url', '--database-url', pg] : ['--services', 'embedded'];

async function run(args: string[]) {
  const out = mkdtempSync(join(tmpdir(), 'skip-test-'));
  const { code, err } = await runHarness(['run', 'real-devices-smoke', ...services, '--output', out, ...args]);
  const latest = join(out, 'latest', 'results.json');
  return {
    code,
    err,
    result: existsSync(latest) ? JSON.parse(readFileSync(latest, 'utf8')) : undefined,
  };
}

let detoxInstalled = true;
try {
  createRequire(join(ROOT, 'package.json')).resolve('detox/internals');
} catch {
  detoxInstalled = false;
}
const noAdapter =
  process.platform === 'linux' &&
  (!existsSync('/sys/class/bluetooth') || readdirSync('/sys/class/bluetooth').length === 0);

describe('real devices absent: skipped, never passed', () => {
  it.runIf(!detoxInstalled && noAdapter)(
    'skipped with both reasons; exit 1, or 0 with --allow-skipped',
    async () => {
      const r = await run([]);
      expect(r.code).toBe(1);
      expect(r.result.verdict).toBe('skipped');
      const s = r.result.scenarios[0];
      expect(s.verdict).toBe('skipped');
      expect(s.skipReason).toMatch(/phone \(detox\): Detox is not installed/);
      expect(s.skipReason).toMatch(/watch \(ble-watch\): no Bluetooth adapter/);
      expect(s.operations).toBe(0);
      expect(r.err).toMatch(/skipped: phone \(detox\)/);
      expect((await run(['--allow-skipped'])).code).toBe(0);
      // Two harness runs, each starting its services: 60 s was not enough at load average 10.
    },
    180_000,
  );

  it('the same scenario with the bridge pointed at the simulated phone passes', async () => {
    const r = await run(['--project', 'simulated']);
    expect(r.err).not.toMatch(/skipped/);
    expect(r.code).toBe(0);
    const s = r.result.scenarios[0];
    expect(s.verdict).toBe('passed');
    const watch = s.devices.find((d: { id: string }) => d.id === 'watch');
    expect(watch.energy.measured.details.levelBefore).toBeGreaterThan(0);
  });
});
