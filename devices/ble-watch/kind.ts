/**
 * Device kind `ble-watch`: a real watch through noble on a Bluetooth adapter (the same WatchBridge
 * as kind `watch`); `use.devices['ble-watch'].transport = 'virtual'` runs the same central code on
 * the virtual radio against a simulated watch. No adapter: the scenario is `skipped` with the reason.
 */
import type { DeviceKind } from '../../protocol/device';
import { WATCH_RADIOS } from '../energy/spec';
import { watchEnergyParams } from '../watch/energy';
import { pairWatchWithPhone } from '../watch/pair';
import { bleAdapterUnavailable, hciAdapters } from './adapter';
import type { BleWatchDevice } from './device';
import { resolveBleWatchOptions } from './options';

declare module '../../protocol/device' {
  interface DeviceDrivers {
    'ble-watch': BleWatchDevice;
  }
}

export const deviceKind: DeviceKind<'ble-watch'> = {
  kind: 'ble-watch',
  platform: 'WATCH_GARMIN',
  summary: 'a real watch through noble on a Bluetooth adapter (or the virtual radio with transport "virtual")',
  talks: 'paired',
  clockSkew: 'none',
  radios: WATCH_RADIOS,
  validate(id, spec, all) {
    if (!spec.pairedWith) return `devices.${id}: a ble-watch needs pairedWith: '<phone id>'`;
    const peer = all[spec.pairedWith];
    if (peer && peer.kind !== 'phone' && peer.kind !== 'detox')
      return `devices.${id}.pairedWith must name a phone (kind phone or detox), "${spec.pairedWith}" is a ${peer.kind}`;
    return undefined;
  },
  async unavailable(_id, _spec, opts) {
    const o = resolveBleWatchOptions(opts.devices?.['ble-watch']);
    return o.transport === 'virtual' ? undefined : bleAdapterUnavailable(o.adapter);
  },
  async create(id, spec, opts) {
    const { BleWatchDevice } = await import('./device');
    return new BleWatchDevice(id, resolveBleWatchOptions(opts.devices?.['ble-watch']), watchEnergyParams(spec));
  },
  pair: pairWatchWithPhone,
  async attached({ scanMs }) {
    const why = bleAdapterUnavailable();
    if (why) return { devices: [], notes: [`BLE scan: ${why}`] };
    try {
      const { loadNoble, currentRadio } = await import('../radio/install');
      if (currentRadio()) return { devices: [], notes: ['BLE scan: the virtual radio is installed in this process'] };
      const { asAttached, scanForWatches } = await import('./scan');
      return { devices: asAttached(await scanForWatches(loadNoble(), { scanMs })), notes: [] };
    } catch (e) {
      return { devices: [], notes: [`BLE scan: ${(e as Error).message}`] };
    }
  },
  async shutdown() {
    const { currentRadio } = await import('../radio/install');
    currentRadio()?.medium?.close();
  },
  async doctor() {
    const found = hciAdapters();
    const why = bleAdapterUnavailable();
    return [
      {
        area: 'ble-watch (real adapter)',
        ok: !why,
        detail: why ?? (found.length ? `adapters: ${found.join(', ')}` : 'native noble bindings (macOS/Windows)'),
        fix: 'optional: a BLE adapter (use.devices["ble-watch"].adapter) for real watches',
      },
      {
        area: 'ble-watch (virtual transport)',
        ok: true,
        detail: 'transport "virtual": the same noble central on the virtual radio against a simulated watch',
      },
    ];
  },
};
