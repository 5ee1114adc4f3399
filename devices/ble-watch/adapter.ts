/**
 * Is there a Bluetooth adapter noble can use? On Linux noble opens a raw HCI socket while loading,
 * which throws EAFNOSUPPORT on a kernel without Bluetooth; so look at the kernel's view first, and
 * never load noble just to find out.
 */
import { existsSync, readdirSync } from 'node:fs';

export function hciAdapters(): string[] {
  try {
    return existsSync('/sys/class/bluetooth')
      ? readdirSync('/sys/class/bluetooth').filter((n) => n.startsWith('hci'))
      : [];
  } catch {
    return [];
  }
}

/** Why real BLE cannot run here, or undefined. */
export function bleAdapterUnavailable(adapter?: number): string | undefined {
  if (process.platform === 'darwin' || process.platform === 'win32') return undefined; // native bindings decide at start
  const found = hciAdapters();
  if (found.length === 0)
    return 'no Bluetooth adapter (/sys/class/bluetooth lists none: no adapter, or a kernel without Bluetooth); plug in a BLE adapter or use transport "virtual"';
  if (adapter !== undefined && !found.includes(`hci${adapter}`))
    return `Bluetooth adapter hci${adapter} not present (found ${found.join(', ')})`;
  return undefined;
}
