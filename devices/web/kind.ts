/** Device kind `web`: the Dexie app with its service worker in Chromium (see driver.ts). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DeviceKind } from '../../protocol/device';
import { LAPTOP_WIFI } from '../energy/radio-model';
import { energyProfileOf } from '../energy/spec';
import type { WebDevice } from './driver';

declare module '../../protocol/device' {
  interface DeviceDrivers {
    web: WebDevice;
  }
}

export const deviceKind: DeviceKind<'web'> = {
  kind: 'web',
  platform: 'WEB',
  summary: 'Dexie app + service worker in Chromium under Playwright',
  talks: 'contract',
  clockSkew: 'clock',
  radios: ['wifi', 'lte', '3g'],
  validate(id, spec) {
    if (spec.tabs !== undefined && !(Number.isInteger(spec.tabs) && spec.tabs >= 1))
      return `devices.${id}.tabs must be an integer >= 1, got ${JSON.stringify(spec.tabs)}`;
    return undefined;
  },
  async create(id, spec) {
    const { createWebDevice } = await import('./driver');
    return createWebDevice({
      id,
      tabs: spec.tabs ?? 1,
      schemaVersion: spec.schemaVersion ?? 2,
      autoSync: spec.autoSync ?? false,
      ...(spec.pushBatchBytes ? { pushBatchBytes: spec.pushBatchBytes } : {}),
      energy: energyProfileOf(spec, LAPTOP_WIFI),
    });
  },
  async shutdown() {
    const { closeSharedBrowser } = await import('./chromium');
    await closeSharedBrowser();
  },
  async doctor() {
    const { CHROMIUM_PATH } = await import('./chromium');
    const version = await promisify(execFile)(CHROMIUM_PATH, ['--version'], { timeout: 5000 }).then(
      (r) => r.stdout.trim().split('\n')[0],
      () => undefined,
    );
    return [
      {
        area: 'web devices (chromium)',
        ok: !!version,
        detail: version ?? `no Chromium at ${CHROMIUM_PATH}`,
        fix: 'make setup (apt-get install -y chromium)',
      },
    ];
  },
};
