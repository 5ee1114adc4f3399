/**
 * Device kinds the runner can create. Each kind is imported only when a scenario uses it, so a
 * machine without Chromium can still run phone scenarios.
 */
import type { Device } from '../../protocol/device';
import type { Platform } from '../../protocol/records';
import { HarnessError } from '../config/errors';
import type { DeviceSpec } from './scenario';

export const PLATFORM_OF_KIND: Record<DeviceSpec['kind'], Platform> = {
  phone: 'ANDROID',
  detox: 'ANDROID',
  web: 'WEB',
  vu: 'IOS',
  watch: 'WATCH_GARMIN',
  'ble-watch': 'WATCH_GARMIN',
};

export interface DeviceFactoryOptions {
  phoneAdapter?: 'lokijs' | 'sqlite';
}

export async function createDevice(id: string, spec: DeviceSpec, opts: DeviceFactoryOptions): Promise<Device> {
  switch (spec.kind) {
    case 'phone': {
      const m = await import('../../devices/phone/index');
      return m.createPhone({
        id,
        schemaVersion: spec.schemaVersion ?? 2,
        autoTriggers: spec.autoSync ?? false,
        adapter: opts.phoneAdapter === 'lokijs' ? 'loki' : opts.phoneAdapter,
      });
    }
    case 'vu': {
      const m = await import('../../devices/vu/index');
      return m.createVirtualUser({ id, schemaVersion: spec.schemaVersion ?? 2 });
    }
    case 'web': {
      const m = await import('../../devices/web/index');
      return m.createWebDevice({
        id,
        tabs: spec.tabs ?? 1,
        schemaVersion: spec.schemaVersion ?? 2,
        autoSync: spec.autoSync ?? false,
      });
    }
    case 'watch': {
      if (!spec.pairedWith)
        throw new HarnessError('HRN_ERR_SCENARIO', `device "${id}": a watch needs pairedWith: '<phone id>'`);
      const m = await import('../../devices/watch/index');
      return m.createWatchDevice({ id, profile: spec.linkProfile as any });
    }
    case 'detox':
      throw new HarnessError(
        'HRN_ERR_DEVICE',
        `device "${id}": kind "detox" needs an Android emulator or iOS simulator with the app's Detox build; none is available here (see \`harness doctor\`)`,
      );
    case 'ble-watch':
      throw new HarnessError(
        'HRN_ERR_DEVICE',
        `device "${id}": kind "ble-watch" needs a Bluetooth adapter (set NOBLE_HCI_DEVICE_ID); this machine has none (see \`harness doctor\`)`,
      );
  }
}

/** Release what device kinds share across a run (the web devices' browser). */
export async function shutdownDeviceKinds(kinds: Set<string>): Promise<void> {
  if (kinds.has('watch')) {
    const { currentRadio } = await import('../../devices/radio/install');
    currentRadio()?.medium?.close();
  }
  if (kinds.has('web')) {
    const m = await import('../../devices/web/index');
    await m.closeSharedBrowser();
  }
}
