/** `harness devices` for kind detox: Android devices/emulators (adb) and iOS simulators (xcrun simctl, macOS). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AttachedDevice } from '../../protocol/device';
import { Adb, adbPath } from './adb';

const run = promisify(execFile);

/** `xcrun simctl list devices --json`: { devices: { "<runtime>": [{ udid, name, state, isAvailable }] } }. */
export function parseSimctl(json: string): AttachedDevice[] {
  const data = JSON.parse(json) as {
    devices?: Record<string, Array<{ udid: string; name: string; state: string; isAvailable?: boolean }>>;
  };
  return Object.entries(data.devices ?? {}).flatMap(([runtime, list]) =>
    list
      .filter((d) => d.isAvailable !== false)
      .map((d) => ({
        kind: 'detox' as const,
        id: d.udid,
        name: d.name,
        state: d.state.toLowerCase(),
        via: 'xcrun simctl',
        detail: runtime.replace(/^com\.apple\.CoreSimulator\.SimRuntime\./, ''),
      })),
  );
}

export async function attachedMobileDevices(
  adbExe = adbPath(),
): Promise<{ devices: AttachedDevice[]; notes: string[] }> {
  const devices: AttachedDevice[] = [];
  const notes: string[] = [];
  try {
    for (const d of await new Adb(adbExe).devices())
      devices.push({ kind: 'detox', id: d.serial, ...(d.model ? { name: d.model } : {}), state: d.state, via: 'adb' });
  } catch (e) {
    notes.push(`adb: not available (${adbExe}): ${(e as Error).message.split('\n')[0].slice(0, 120)}`);
  }
  if (process.platform === 'darwin') {
    try {
      const { stdout } = await run('xcrun', ['simctl', 'list', 'devices', '--json'], {
        timeout: 15_000,
        maxBuffer: 16 << 20,
      });
      devices.push(...parseSimctl(stdout).filter((d) => d.state === 'booted' || /iPhone|iPad/.test(d.name ?? '')));
    } catch (e) {
      notes.push(`xcrun simctl: not available: ${(e as Error).message.split('\n')[0].slice(0, 120)}`);
    }
  } else notes.push('iOS simulators: macOS only');
  return { devices, notes };
}
