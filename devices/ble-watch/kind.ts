/**
 * Device kind `ble-watch`: a real watch reached through noble on a Bluetooth adapter (the same
 * WatchBridge as kind `watch`, with the virtual radio off). No adapter on this machine yet.
 */
import { existsSync, readdirSync } from 'node:fs';
import type { Device, DeviceKind } from '../../protocol/device';
import { HarnessError } from '../../protocol/harness-error';

declare module '../../protocol/device' {
  interface DeviceDrivers {
    'ble-watch': Device;
  }
}

export const deviceKind: DeviceKind<'ble-watch'> = {
  kind: 'ble-watch',
  platform: 'WATCH_GARMIN',
  summary: 'a real watch through noble on a Bluetooth adapter',
  talks: 'paired',
  clockSkew: 'none',
  async create(id) {
    throw new HarnessError(
      'HRN_ERR_DEVICE',
      `device "${id}": kind "ble-watch" needs a Bluetooth adapter (set NOBLE_HCI_DEVICE_ID); this machine has none (see \`harness doctor\`)`,
    );
  },
  async doctor() {
    let bt = false;
    try {
      bt = existsSync('/sys/class/bluetooth') && readdirSync('/sys/class/bluetooth').length > 0;
    } catch {
      bt = false;
    }
    return [
      {
        area: 'ble-watch (real adapter)',
        ok: bt,
        detail: bt ? 'a Bluetooth adapter is present' : 'no Bluetooth adapter; simulated watches use the virtual radio',
        fix: 'optional: a BLE adapter + NOBLE_HCI_DEVICE_ID for real watches',
      },
    ];
  },
};
