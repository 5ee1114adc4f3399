/**
 * Done-when of the real-device path, through the CLI: a scenario with a `detox` phone and a
 * `ble-watch` is `skipped` with the reasons on a machine without Detox or a Bluetooth adapter (exit 1,
 * 0 with --allow-skipped); the same scenario with the bridge pointed at the simulated phone passes.
 * Uses the machine's PostgreSQL when SYNC_TEST_DATABASE_URL is set.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'harness.js');
const pg = process.env.SYNC_TEST_DATABASE_URL;
const services = pg ? ['--services', 'url', '--database-url', pg] : ['--services', 'embedded'];

/** Asynchronous on purpose: a spawnSync blocks the test worker past vitest's 60 s RPC timeout on a loaded machine. */
async function run(args: string[]) {
  const out = mkdtempSync(join(tmpdir(), 'skip-test-'));
  const child = spawn(process.execPath, [BIN, 'run', 'real-devices-smoke', ...services, '--output', out, ...args], {
    cwd: ROOT,
    timeout: 240_000,
    env: { ...process.env, NO_COLOR: '1', CI: '1' },
  });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout.resume();
  const code = await new Promise<number | null>((done) => child.on('close', done));
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
  it.runIf(!detoxInstalled && noAdapter)('skipped with both reasons; exit 1, or 0 with --allow-skipped', async () => {
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
  });

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
