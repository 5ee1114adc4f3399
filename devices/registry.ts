/**
 * The device-kind registry: every folder `devices/<kind>/` with a `kind.ts` exporting `deviceKind`
 * is a kind. The loader, runner, CLI (`harness devices`) and doctor read this, so adding a kind is
 * adding a folder. Kind modules are light (drivers load in `create`), and a kind is imported only
 * when something asks for it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DeviceKind, DeviceKindName } from '../protocol/device';
import { HarnessError } from '../protocol/harness-error';

const DEVICES_DIR = dirname(fileURLToPath(import.meta.url));

let names: DeviceKindName[] | undefined;
const loaded = new Map<string, Promise<DeviceKind>>();

function kindFile(name: string): string | undefined {
  for (const ext of ['ts', 'js', 'mjs']) {
    const f = join(DEVICES_DIR, name, `kind.${ext}`);
    if (existsSync(f)) return f;
  }
  return undefined;
}

/** Kind names, sorted (a folder listing: cheap enough for synchronous validation). */
export function deviceKindNames(): DeviceKindName[] {
  names ??= readdirSync(DEVICES_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && kindFile(e.name))
    .map((e) => e.name as DeviceKindName)
    .sort();
  return names;
}

export function isDeviceKind(name: unknown): name is DeviceKindName {
  return typeof name === 'string' && deviceKindNames().includes(name as DeviceKindName);
}

export function deviceKind(name: string): Promise<DeviceKind> {
  let p = loaded.get(name);
  if (!p) {
    const file = isDeviceKind(name) ? kindFile(name) : undefined;
    if (!file)
      return Promise.reject(
        new HarnessError(
          'HRN_ERR_SCENARIO',
          `unknown device kind "${name}"; known kinds: ${deviceKindNames().join(', ')}`,
        ),
      );
    p = import(pathToFileURL(file).href).then((m: { deviceKind?: DeviceKind }) => {
      const k = m.deviceKind;
      if (!k || k.kind !== name)
        throw new HarnessError(
          'HRN_ERR_DEVICE',
          `${file} must export \`deviceKind\` with kind "${name}" (the folder's name), got ${JSON.stringify(k?.kind)}`,
        );
      return k;
    });
    loaded.set(name, p);
  }
  return p;
}

export function allDeviceKinds(): Promise<DeviceKind[]> {
  return Promise.all(deviceKindNames().map(deviceKind));
}
