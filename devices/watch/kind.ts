/**
 * Device kind `watch`: a simulated watch (bleno in a worker on the virtual radio) reached by the
 * paired phone's noble bridge. Not a sync-contract client: its packs reach the server through the
 * phone (see pair.ts).
 */
import type { DeviceKind } from '../../protocol/device';
import { WATCH_RADIOS } from '../energy/spec';
import type { LinkProfileName } from '../radio/profiles';
import type { WatchDevice } from './device';
import { watchEnergyParams } from './energy';
import { pairWatchWithPhone } from './pair';

declare module '../../protocol/device' {
  interface DeviceDrivers {
    watch: WatchDevice;
  }
}

export const deviceKind: DeviceKind<'watch'> = {
  kind: 'watch',
  platform: 'WATCH_GARMIN',
  summary: 'simulated watch: bleno on the virtual BLE radio, paired with a phone',
  talks: 'paired',
  // The watch stamps nothing that reaches LWW: the phone writes the activity with its own clock.
  clockSkew: 'none',
  radios: WATCH_RADIOS,
  validate(id, spec, all) {
    if (!spec.pairedWith) return `devices.${id}: a watch needs pairedWith: '<phone id>'`;
    const peer = all[spec.pairedWith];
    if (peer && peer.kind !== 'phone')
      return `devices.${id}.pairedWith must name a phone, "${spec.pairedWith}" is a ${peer.kind}`;
    return undefined;
  },
  async create(id, spec) {
    const { createWatchDevice } = await import('./device');
    // An unknown profile is reported by the radio's resolveProfile (HRN_ERR_BLE_PROFILE) on start.
    return createWatchDevice({
      id,
      profile: spec.linkProfile as LinkProfileName | undefined,
      energy: watchEnergyParams(spec),
    });
  },
  pair: pairWatchWithPhone,
  async beginScenario({ seed }) {
    const { currentRadio, installVirtualRadio } = await import('../radio/install');
    (currentRadio() ?? installVirtualRadio({})).medium?.reseed(seed);
  },
  async shutdown() {
    const { currentRadio } = await import('../radio/install');
    currentRadio()?.medium?.close();
  },
  async doctor() {
    return [
      { area: 'watch (virtual radio)', ok: true, detail: 'simulated watches run bleno/noble on the virtual HCI radio' },
    ];
  },
};
