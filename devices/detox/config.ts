/**
 * The Detox configuration generated from harness.config.ts (`use.devices.detox`), so the app's repo
 * needs no .detoxrc of its own for harness runs (`harness detox-config` prints it for `detox build`).
 * Shape: Detox 20's DetoxConfig (devices / apps / configurations / behavior).
 */
import type { DetoxOptions } from './options';

export interface GeneratedDetoxConfig {
  behavior: Record<string, unknown>;
  devices: Record<string, Record<string, unknown>>;
  apps: Record<string, Record<string, unknown>>;
  configurations: Record<string, { device: string; app: string }>;
}

/** Only the selected configuration: Detox validates every app and device it is given. */
export function detoxConfig(o: DetoxOptions): GeneratedDetoxConfig {
  const behavior = {
    // The harness launches the app itself (with the bridge's launch arguments) and reads the
    // devices' state through the bridge, so Detox exposes no globals and does not auto-launch.
    init: { exposeGlobals: false, reinstallApp: true },
    launchApp: 'manual',
    cleanup: { shutdownDevice: false },
  };
  if (o.configuration === 'ios.sim') {
    const ios = o.ios!;
    return {
      behavior,
      devices: { simulator: { type: 'ios.simulator', device: { type: ios.simulator ?? 'iPhone 15' } } },
      apps: { 'ios.app': { type: 'ios.app', binaryPath: ios.binaryPath, bundleId: ios.bundleId } },
      configurations: { 'ios.sim': { device: 'simulator', app: 'ios.app' } },
    };
  }
  const a = o.android!;
  const app = {
    type: 'android.apk',
    binaryPath: a.binaryPath,
    ...(a.testBinaryPath ? { testBinaryPath: a.testBinaryPath } : {}),
  };
  const device =
    o.configuration === 'android.emu'
      ? { type: 'android.emulator', device: { avdName: a.avdName ?? 'Pixel_API_34' } }
      : { type: 'android.attached', device: { adbName: a.adbName ?? '.*' } };
  const deviceName = o.configuration === 'android.emu' ? 'emulator' : 'attached';
  return {
    behavior,
    devices: { [deviceName]: device },
    apps: { 'android.app': app },
    configurations: { [o.configuration]: { device: deviceName, app: 'android.app' } },
  };
}
