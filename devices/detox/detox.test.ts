/**
 * The detox kind end to end with test doubles only at the hardware boundary: a fake `detox/internals`
 * (records calls; its launchApp starts the app-side bridge with the simulated phone) and a fake `adb`
 * executable (records its argv). The bridge, the harness server, the sync server and PostgreSQL are
 * real (HARNESS_PG_URL for `url` mode).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeDevice } from '../bridge/bridge-device';
import { closeSharedBridgeServer } from '../bridge/server';
import { type Gate, startGate, startTestEnv, type TestEnv } from '../phone/test-support';
import { parseBattery, parseUidMah, shortUid } from './adb';
import { attachedMobileDevices, parseSimctl } from './attached';
import { detoxConfig } from './config';
import { DetoxAppHost, detoxUnavailable } from './host';
import { deviceKind } from './kind';
import { requireTarget, resolveDetoxOptions } from './options';
import { calls } from './testing/fake-detox';

const here = dirname(fileURLToPath(import.meta.url));
const FAKE_DETOX = join(here, 'testing', 'fake-detox.ts');
const FAKE_ADB = join(here, 'testing', 'fake-adb.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'detox-test-'));
const apk = join(tmp, 'app-release.apk');
writeFileSync(apk, 'not really an apk');

describe('config generation and options', () => {
  it('generates one Detox configuration per target', () => {
    const android = { binaryPath: apk, testBinaryPath: `${apk}.test`, package: 'com.example.app', avdName: 'Pixel_7' };
    expect(detoxConfig(resolveDetoxOptions({ configuration: 'android.emu', android }))).toEqual({
      behavior: {
        init: { exposeGlobals: false, reinstallApp: true },
        launchApp: 'manual',
        cleanup: { shutdownDevice: false },
      },
      devices: { emulator: { type: 'android.emulator', device: { avdName: 'Pixel_7' } } },
      apps: { 'android.app': { type: 'android.apk', binaryPath: apk, testBinaryPath: `${apk}.test` } },
      configurations: { 'android.emu': { device: 'emulator', app: 'android.app' } },
    });
    const attached = detoxConfig(
      resolveDetoxOptions({ configuration: 'android.attached', android: { ...android, adbName: 'R58M.*' } }),
    );
    expect(attached.devices).toEqual({ attached: { type: 'android.attached', device: { adbName: 'R58M.*' } } });
    expect(attached.configurations).toEqual({ 'android.attached': { device: 'attached', app: 'android.app' } });
    const ios = detoxConfig(
      resolveDetoxOptions({
        configuration: 'ios.sim',
        ios: { binaryPath: '/b/App.app', bundleId: 'com.example.app', simulator: 'iPhone 15 Pro' },
      }),
    );
    expect(ios.devices).toEqual({ simulator: { type: 'ios.simulator', device: { type: 'iPhone 15 Pro' } } });
    expect(ios.apps).toEqual({ 'ios.app': { type: 'ios.app', binaryPath: '/b/App.app', bundleId: 'com.example.app' } });
  });

  it('an app on an iOS simulator is an IOS device (JWT, history), otherwise ANDROID', () => {
    const ios = { configuration: 'ios.sim', ios: { binaryPath: '/b/App.app', bundleId: 'com.example.app' } };
    expect(deviceKind.platformOf!({ kind: 'detox' }, { devices: { detox: ios } })).toBe('IOS');
    expect(deviceKind.platformOf!({ kind: 'detox' }, {})).toBe('ANDROID');
  });

  it('rejects bad options naming the field', () => {
    expect(() => resolveDetoxOptions({ configuration: 'android.emulator' })).toThrow(
      /use\.devices\.detox\.configuration" must be one of android\.emu, android\.attached, ios\.sim/,
    );
    expect(() => requireTarget(resolveDetoxOptions({ configuration: 'android.emu' }))).toThrow(
      /use\.devices\.detox\.android" must be an object/,
    );
    expect(() => resolveDetoxOptions({ android: { binaryPath: apk } })).toThrow(/android\.package/);
    expect(() => resolveDetoxOptions({ app: 'real' })).toThrow(/app" must be "detox" or "simulated"/);
    expect(() => resolveDetoxOptions({ bridgePrt: 1 })).toThrow(/use\.devices\.detox\.bridgePrt/);
    expect(() => resolveDetoxOptions({ app: 'simulated' })).not.toThrow();
  });

  it('says why it cannot run: no Detox, no adb, no binary', async () => {
    const android = { binaryPath: apk, package: 'com.example.app' };
    expect(await detoxUnavailable(resolveDetoxOptions({ android }))).toMatch(
      /^Detox is not installed: cannot resolve "detox\/internals"/,
    );
    expect(
      await detoxUnavailable(resolveDetoxOptions({ android, detoxModule: FAKE_DETOX, adb: join(tmp, 'no-adb') })),
    ).toMatch(/^no adb/);
    expect(
      await detoxUnavailable(
        resolveDetoxOptions({
          android: { ...android, binaryPath: join(tmp, 'x.apk') },
          detoxModule: FAKE_DETOX,
          adb: FAKE_ADB,
        }),
      ),
    ).toMatch(/app binary .*x\.apk not found \(build it: detox build -c android\.emu\)/);
    expect(
      await detoxUnavailable(resolveDetoxOptions({ android, detoxModule: FAKE_DETOX, adb: FAKE_ADB })),
    ).toBeUndefined();
    expect(await detoxUnavailable(resolveDetoxOptions({ app: 'simulated' }))).toBeUndefined();
  });

  it('lists attached devices (adb, simctl) and says when a tool is absent', async () => {
    const a = await attachedMobileDevices(FAKE_ADB);
    expect(a.devices).toEqual([{ kind: 'detox', id: 'emulator-5554', name: 'Pixel_7', state: 'device', via: 'adb' }]);
    const none = await attachedMobileDevices(join(tmp, 'no-adb'));
    expect(none.devices).toEqual([]);
    expect(none.notes[0]).toMatch(/^adb: not available/);
    const sims = parseSimctl(
      JSON.stringify({
        devices: {
          'com.apple.CoreSimulator.SimRuntime.iOS-17-2': [
            { udid: 'A1', name: 'iPhone 15', state: 'Booted', isAvailable: true },
            { udid: 'B2', name: 'iPhone 14', state: 'Shutdown', isAvailable: false },
          ],
        },
      }),
    );
    expect(sims).toEqual([
      { kind: 'detox', id: 'A1', name: 'iPhone 15', state: 'booted', via: 'xcrun simctl', detail: 'iOS-17-2' },
    ]);
  });

  it('parses battery readings of both dumpsys formats', () => {
    expect(parseBattery('  AC powered: false\n  level: 57\n  voltage: 3999\n')).toEqual({ level: 57, voltageMv: 3999 });
    expect(shortUid(10123)).toBe('u0a123');
    expect(shortUid(1010123)).toBe('u10a123');
    const old =
      'Estimated power use (mAh):\n    Capacity: 3000, Computed drain: 5\n    Uid u0a123: 1.25 ( cpu=1.0 wake=0.25 )\n';
    expect(parseUidMah(old, 10123)).toBe(1.25);
    expect(parseUidMah('Estimated power use (mAh):\n    UID u0a1234: 3 fg: 1\n', 10123)).toBeUndefined();
  });
});

describe('detox device against fake detox + adb', () => {
  let env: TestEnv;
  let gate: Gate;
  const adbLog = join(tmp, 'adb.log');
  beforeAll(async () => {
    env = await startTestEnv();
    gate = await startGate(env.serverUrl); // stands in for the device's fault proxy
    process.env.FAKE_ADB_LOG = adbLog;
    process.env.FAKE_ADB_STATE = join(tmp, 'adb-state.json');
  });
  afterAll(async () => {
    await closeSharedBridgeServer();
    await gate?.close();
    await env?.close();
  });

  it('init with the generated config, adb reverse, launch args, URL blacklist, faults, measured battery', async () => {
    const o = resolveDetoxOptions({
      android: { binaryPath: apk, package: 'com.example.app' },
      detoxModule: FAKE_DETOX,
      adb: FAKE_ADB,
    });
    const host = new DetoxAppHost(o, 'phoneA');
    const dev = new BridgeDevice({ id: 'phoneA', kind: 'detox', host, connectTimeoutMs: 30_000 });
    const user = `detox-${Date.now().toString(36)}`;
    await dev.start(env.ctx({ userId: user, deviceId: `d-${user}`, serverUrl: gate.url }));
    const proxyPort = Number(new URL(gate.url).port);
    const bridgePort = Number(
      new URL((calls.find((c) => c.method === 'device.launchApp')!.args[0] as any).launchArgs.harnessBridgeUrl).port,
    );
    try {
      const init = calls.find((c) => c.method === 'init')!.args[0] as Record<string, any>;
      expect(init.override).toEqual(detoxConfig(o));
      expect(init.argv).toEqual({ configuration: 'android.emu' });
      const launch = calls.find((c) => c.method === 'device.launchApp')!.args[0] as any;
      expect(launch.newInstance).toBe(true);
      expect(launch.launchArgs.harnessApiBase).toBe(gate.url);
      const blacklist = calls.find((c) => c.method === 'device.setURLBlacklist')!.args[0] as string[];
      expect(blacklist).toContain(`.*127\\.0\\.0\\.1:${proxyPort}.*`);
      expect(blacklist).toContain(`.*127\\.0\\.0\\.1:${bridgePort}.*`);

      // Sync traffic really goes through the app to the server.
      await dev.write({
        op: 'create',
        table: 'activities',
        id: `a-${user}`,
        values: { sport: 'run', duration_s: 60, updated_at: Date.now() },
      });
      expect(await dev.sync('manual')).toMatchObject({ ok: true, pushed: 1 });

      await dev.kill();
      await dev.restart();
      expect((await dev.snapshot()).activities.map((r) => r.id)).toContain(`a-${user}`);
      expect(await dev.sync('app_launch')).toMatchObject({ ok: true, pushed: 0 });
      await dev.setOffline(true);
      await dev.setOffline(false);
      await dev.background();
      await dev.foreground();
      expect(await dev.pendingChanges()).toBe(0);
    } finally {
      await dev.stop();
    }
    const methods = calls.map((c) => c.method);
    expect(methods).toEqual([
      'init',
      'device.launchApp',
      'device.setURLBlacklist',
      'device.terminateApp',
      'device.launchApp',
      'device.setURLBlacklist',
      'device.sendToHome',
      'device.launchApp',
      'cleanup',
    ]);
    expect((calls[7].args[0] as any).newInstance).toBe(false);
    const adb = readFileSync(adbLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).join(' '));
    expect(adb).toEqual([
      `-s emulator-5554 reverse tcp:${proxyPort} tcp:${proxyPort}`,
      `-s emulator-5554 reverse tcp:${bridgePort} tcp:${bridgePort}`,
      '-s emulator-5554 shell dumpsys battery unplug',
      '-s emulator-5554 shell dumpsys batterystats --reset',
      '-s emulator-5554 shell dumpsys battery',
      '-s emulator-5554 shell dumpsys package com.example.app',
      '-s emulator-5554 shell cmd connectivity airplane-mode enable',
      '-s emulator-5554 shell cmd connectivity airplane-mode disable',
      '-s emulator-5554 shell dumpsys battery',
      '-s emulator-5554 shell dumpsys batterystats --charged',
      '-s emulator-5554 shell dumpsys battery reset',
      `-s emulator-5554 reverse --remove tcp:${proxyPort}`,
      `-s emulator-5554 reverse --remove tcp:${bridgePort}`,
    ]);
    const e = dev.energy();
    expect(e.source).toBe('modelled');
    expect(e.joules).toBeGreaterThan(0);
    expect(e.measured).toMatchObject({ source: 'measured', batteryPct: 1 });
    expect(e.measured?.details).toMatchObject({ levelBefore: 80, levelAfter: 79, appMah: 2.5, uid: 10123 });
    expect(e.measured?.joules).toBeCloseTo((2.5 / 1000) * 3600 * 4.012, 6);
  });
});
