/**
 * Device kind `detox`: the phone app driven through the test bridge (devices/bridge), launched by
 * Detox on an Android emulator / attached device or an iOS simulator (`use.devices.detox`, see
 * README.md). With `app: 'simulated'` the same driver runs the simulated phone app instead, so every
 * part but the device runs on any machine. Detox itself is loaded only when a device starts.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { DeviceKind } from '../../protocol/device';
import type { BridgeDevice } from '../bridge/bridge-device';
import { PHONE_LTE } from '../energy/radio-model';
import { CLOUD_RADIOS, energyProfileOf } from '../energy/spec';
import { requireTarget, resolveDetoxOptions } from './options';

declare module '../../protocol/device' {
  interface DeviceDrivers {
    detox: BridgeDevice;
  }
}

const run = promisify(execFile);
const version = (cmd: string, args: string[]) =>
  run(cmd, args, { timeout: 5000 }).then(
    (r) => r.stdout.trim().split('\n')[0],
    () => undefined,
  );

export const deviceKind: DeviceKind<'detox'> = {
  kind: 'detox',
  platform: 'ANDROID',
  summary: 'the React Native app under Detox (emulator, attached device, iOS simulator) via the test bridge',
  talks: 'contract',
  clockSkew: 'clock',
  platformOf: (_spec, opts) =>
    resolveDetoxOptions(opts.devices?.detox).configuration === 'ios.sim' ? 'IOS' : 'ANDROID',
  async unavailable(_id, _spec, opts) {
    const { detoxUnavailable } = await import('./host');
    return detoxUnavailable(resolveDetoxOptions(opts.devices?.detox));
  },
  radios: CLOUD_RADIOS,
  async create(id, spec, opts) {
    const o = resolveDetoxOptions(opts.devices?.detox);
    requireTarget(o);
    const { BridgeDevice } = await import('../bridge/bridge-device');
    const host =
      o.app === 'simulated'
        ? new (await import('../bridge/sim-host')).SimulatedAppHost()
        : new (await import('./host')).DetoxAppHost(o, id);
    const e = energyProfileOf(spec, PHONE_LTE);
    return new BridgeDevice({
      id,
      kind: 'detox',
      host,
      bridgePort: o.bridgePort,
      connectTimeoutMs: o.launchTimeoutMs,
      energy: { radio: e.radio.kind, batteryMah: e.batteryMah, batteryVolts: e.batteryVolts },
    });
  },
  async attached() {
    const { attachedMobileDevices } = await import('./attached');
    return attachedMobileDevices();
  },
  async shutdown() {
    const { closeSharedBridgeServer } = await import('../bridge/server');
    await closeSharedBridgeServer();
  },
  async doctor() {
    const { adbPath } = await import('./adb');
    const { detoxUnavailable } = await import('./host');
    const adb = await version(adbPath(), ['version']);
    const emulator = !!process.env.ANDROID_HOME && existsSync(`${process.env.ANDROID_HOME}/emulator/emulator`);
    const xcrun = process.platform === 'darwin' ? await version('xcrun', ['simctl', 'help']) : undefined;
    const noDetox = await detoxUnavailable({
      ...resolveDetoxOptions(undefined),
      android: { binaryPath: '/', package: 'x' },
    });
    const detoxMissing = noDetox?.startsWith('Detox is not installed') ? noDetox : undefined;
    return [
      {
        area: 'detox: module',
        ok: !detoxMissing,
        detail: detoxMissing ?? 'detox/internals resolves',
        fix: "optional: npm install -D detox in the app's project (the harness loads it from the working directory)",
      },
      {
        area: 'detox: Android',
        ok: !!adb && emulator,
        detail: adb
          ? `adb: ${adb}${emulator ? ', emulator present' : ', no emulator (set ANDROID_HOME)'}`
          : 'no adb / Android SDK',
        fix: 'optional: Android SDK + an AVD and the app built with its Detox config',
      },
      {
        area: 'detox: iOS',
        ok: !!xcrun,
        detail:
          process.platform === 'darwin' ? (xcrun ? 'xcrun simctl present' : 'no Xcode') : 'iOS simulators need macOS',
        fix: 'optional: macOS with Xcode and applesimutils',
      },
      {
        area: 'detox: simulated app',
        ok: true,
        detail: "use.devices.detox.app = 'simulated' drives the simulated phone through the same bridge",
      },
    ];
  },
};
