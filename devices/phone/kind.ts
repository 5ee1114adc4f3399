/** Device kind `phone`: the real WatermelonDB app in a worker thread (see phone.ts). */
import type { DeviceKind } from '../../protocol/device';
import { PHONE_LTE } from '../energy/radio-model';
import { CLOUD_RADIOS, energyProfileOf } from '../energy/spec';
import type { PhoneDevice } from './phone';

declare module '../../protocol/device' {
  interface DeviceDrivers {
    phone: PhoneDevice;
  }
}

export const deviceKind: DeviceKind<'phone'> = {
  kind: 'phone',
  platform: 'ANDROID',
  summary: 'real WatermelonDB synchronize() in a worker thread (SQLite or LokiJS on file)',
  talks: 'contract',
  clockSkew: 'clock',
  radios: CLOUD_RADIOS,
  async create(id, spec, opts) {
    const { createPhone } = await import('./phone');
    return createPhone({
      id,
      schemaVersion: spec.schemaVersion ?? 2,
      autoTriggers: spec.autoSync ?? false,
      adapter: opts.phoneAdapter === 'lokijs' ? 'loki' : opts.phoneAdapter,
      energy: energyProfileOf(spec, PHONE_LTE),
      ...(spec.pushBatchBytes ? { pushBatchBytes: spec.pushBatchBytes } : {}),
    });
  },
};
