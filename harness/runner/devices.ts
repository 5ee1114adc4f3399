/**
 * The runner's side of the device-kind registry (devices/registry.ts): create a device of any kind,
 * and release what kinds share at the end of a run.
 */
import { deviceKind } from '../../devices/registry';
import type { Device, DeviceCreateOptions, DeviceKind, DeviceSpec } from '../../protocol/device';

export type { DeviceCreateOptions as DeviceFactoryOptions } from '../../protocol/device';

export async function createDevice(
  id: string,
  spec: DeviceSpec,
  opts: DeviceCreateOptions,
): Promise<{ dev: Device; kind: DeviceKind }> {
  const kind = await deviceKind(spec.kind);
  return { dev: await kind.create(id, spec, opts), kind };
}

/** Why each device this machine cannot run is unavailable ("<id> (<kind>): <reason>"); empty when all can run. */
export async function unavailableDevices(
  specs: Record<string, DeviceSpec>,
  opts: DeviceCreateOptions,
): Promise<string[]> {
  const out: string[] = [];
  for (const [id, spec] of Object.entries(specs)) {
    const why = await (await deviceKind(spec.kind)).unavailable?.(id, spec, opts);
    if (why) out.push(`${id} (${spec.kind}): ${why}`);
  }
  return out;
}

/** Release what device kinds share across a run (the web devices' browser, the radio medium). */
export async function shutdownDeviceKinds(kinds: Set<string>): Promise<void> {
  for (const name of kinds) {
    const k = await deviceKind(name).catch(() => undefined);
    await k?.shutdown?.();
  }
}
