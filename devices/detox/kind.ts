/**
 * Device kind `detox`: the React Native app under Detox on an Android emulator or iOS simulator.
 * No driver on this machine yet; the kind is declared so scenarios validate and doctor reports it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Device, DeviceKind } from '../../protocol/device';
import { HarnessError } from '../../protocol/harness-error';

declare module '../../protocol/device' {
  interface DeviceDrivers {
    detox: Device;
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
  summary: 'React Native app under Detox on an emulator/simulator',
  talks: 'contract',
  clockSkew: 'clock',
  async create(id) {
    throw new HarnessError(
      'HRN_ERR_DEVICE',
      `device "${id}": kind "detox" needs an Android emulator or iOS simulator with the app's Detox build; none is available here (see \`harness doctor\`)`,
    );
  },
  async doctor() {
    const adb = await version('adb', ['version']);
    const emulator = !!process.env.ANDROID_HOME && existsSync(`${process.env.ANDROID_HOME}/emulator/emulator`);
    const xcrun = process.platform === 'darwin' ? await version('xcrun', ['simctl', 'help']) : undefined;
    return [
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
    ];
  },
};
