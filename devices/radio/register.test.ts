import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const script = fileURLToPath(new URL('./testdata/env-switch.cjs', import.meta.url));

async function child(env: Record<string, string>, args: string[]) {
  const { stdout } = await run(process.execPath, [...args, script], { cwd: root, env: { ...process.env, ...env } });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('switching the virtual radio', () => {
  it('without HARNESS_BLE=virtual the real native socket is used (no Bluetooth in this kernel)', async () => {
    const out = await child({ HARNESS_BLE: '' }, []);
    // On a machine with an adapter this would be a state instead; here the real socket cannot open.
    expect(out.loadError ?? out.state).toBeDefined();
    if (out.loadError) expect(out.loadError).toBe('EAFNOSUPPORT');
  });

  it('HARNESS_BLE=virtual with --require register.cjs: plain require of noble powers on, unchanged', async () => {
    const out = await child({ HARNESS_BLE: 'virtual' }, [
      '--import',
      'tsx',
      '--require',
      './devices/radio/register.cjs',
    ]);
    expect(out).toEqual({ state: 'poweredOn', address: 'c0:de:00:00:00:01' });
  });
});
