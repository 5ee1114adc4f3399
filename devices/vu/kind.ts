/** Device kind `vu`: a protocol-level virtual user (no local database), for load and observation. */
import type { DeviceKind } from '../../protocol/device';
import { PHONE_LTE } from '../energy/radio-model';
import { CLOUD_RADIOS, energyProfileOf } from '../energy/spec';
import type { VirtualUser } from './virtual-user';

declare module '../../protocol/device' {
  interface DeviceDrivers {
    vu: VirtualUser;
  }
}

export const deviceKind: DeviceKind<'vu'> = {
  kind: 'vu',
  platform: 'IOS',
  summary: 'protocol-level virtual user for load (no local DB)',
  talks: 'contract',
  clockSkew: 'clock',
  radios: CLOUD_RADIOS,
  async create(id, spec) {
    const { createVirtualUser } = await import('./virtual-user');
    return createVirtualUser({
      id,
      schemaVersion: spec.schemaVersion ?? 2,
      energy: energyProfileOf(spec, PHONE_LTE),
      ...(spec.pushBatchBytes ? { pushBatchBytes: spec.pushBatchBytes } : {}),
    });
  },
};
