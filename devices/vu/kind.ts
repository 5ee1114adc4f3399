/** Device kind `vu`: a protocol-level virtual user (no local database), for load and observation. */
import type { DeviceKind } from '../../protocol/device';
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
  async create(id, spec) {
    const { createVirtualUser } = await import('./virtual-user');
    return createVirtualUser({ id, schemaVersion: spec.schemaVersion ?? 2 });
  },
};
