/**
 * App host `detox`: the real React Native app on an Android emulator / attached device or an iOS
 * simulator, started through Detox's programmatic API (`detox/internals`: init → worker.device →
 * cleanup). Detox is loaded only here, lazily, from the app's project (the harness does not depend
 * on it); without it the kind reports the scenario skipped (see `detoxUnavailable`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { DeviceContext, MeasuredEnergy } from '../../protocol/device';
import { HarnessError } from '../../protocol/harness-error';
import type { AppHost, LaunchRequest } from '../bridge/bridge-device';
import { Adb, adbPath, type BatterySnapshot, measuredReading, parseBattery, parseUid, parseUidMah } from './adb';
import { detoxConfig } from './config';
import { type DetoxOptions, isAndroid, requireTarget } from './options';

const run = promisify(execFile);

/** The part of Detox's `device` object the harness uses (Detox 20 `Detox.DeviceFacade`). */
export interface DetoxDevice {
  readonly id: string;
  launchApp(params?: { newInstance?: boolean; launchArgs?: Record<string, unknown> }): Promise<void>;
  terminateApp(): Promise<void>;
  sendToHome(): Promise<void>;
  setURLBlacklist(patterns: string[]): Promise<void>;
}

/** The part of `detox/internals` the harness uses. */
export interface DetoxInternals {
  init(options: Record<string, unknown>): Promise<void>;
  cleanup(): Promise<void>;
  readonly worker?: { device?: DetoxDevice };
}

function resolveModule(spec: string): string | undefined {
  for (const base of [join(process.cwd(), 'package.json'), import.meta.url]) {
    try {
      return createRequire(base).resolve(spec);
    } catch {
      // next base
    }
  }
  return undefined;
}

export async function loadDetoxInternals(spec: string): Promise<DetoxInternals> {
  const file = resolveModule(spec);
  if (!file) throw new HarnessError('HRN_ERR_DEVICE', notInstalled(spec));
  const m = (await import(pathToFileURL(file).href)) as { default?: DetoxInternals } & DetoxInternals;
  return m.default?.init ? m.default : m;
}

const notInstalled = (spec: string) =>
  `Detox is not installed: cannot resolve "${spec}" from ${process.cwd()} (npm install -D detox in the app's project, then build the app with \`detox build\`)`;

async function runs(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args, { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** Why a detox device cannot run on this machine (the scenario is then `skipped`), or undefined. */
export async function detoxUnavailable(o: DetoxOptions): Promise<string | undefined> {
  if (o.app === 'simulated') return undefined;
  if (!resolveModule(o.detoxModule)) return notInstalled(o.detoxModule);
  requireTarget(o);
  if (isAndroid(o)) {
    const adb = adbPath(o.adb);
    if (!(await runs(adb, ['version'])))
      return `no adb ("${adb}"): install the Android SDK platform-tools or set ANDROID_HOME`;
    if (!existsSync(o.android!.binaryPath))
      return `app binary ${o.android!.binaryPath} not found (build it: detox build -c ${o.configuration})`;
    if (o.configuration === 'android.attached') {
      const list = await new Adb(adb).devices().catch(() => []);
      if (!list.some((d) => d.state === 'device')) return 'no Android device attached (adb devices lists none ready)';
    }
    return undefined;
  }
  if (process.platform !== 'darwin') return 'ios.sim needs macOS with Xcode (xcrun simctl)';
  if (!(await runs('xcrun', ['simctl', 'help']))) return 'xcrun simctl is not available (install Xcode)';
  if (!existsSync(o.ios!.binaryPath))
    return `app binary ${o.ios!.binaryPath} not found (build it: detox build -c ios.sim)`;
  return undefined;
}

/** Detox drives one device per worker; a harness process runs at most one detox device at a time. */
let active: DetoxAppHost | undefined;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class DetoxAppHost implements AppHost {
  readonly name: string;
  private internals?: DetoxInternals;
  private device?: DetoxDevice;
  private adb?: Adb;
  private readonly reversed: number[] = [];
  private battery?: { before: BatterySnapshot; uid: number };

  constructor(
    private readonly o: DetoxOptions,
    private readonly id: string,
  ) {
    this.name = `Detox (${o.configuration})`;
  }

  async prepare(ctx: DeviceContext, bridgePort: number): Promise<void> {
    if (active)
      throw new HarnessError(
        'HRN_ERR_DEVICE',
        `device "${this.id}": one detox device per harness process (Detox drives one device per worker); use --shard to spread devices over runners`,
      );
    this.internals = await loadDetoxInternals(this.o.detoxModule);
    active = this;
    const config = detoxConfig(this.o);
    // `override` (Detox ≥ 20.1) merges over any .detoxrc; the selected configuration is the only one.
    await this.internals.init({
      argv: { configuration: this.o.configuration },
      override: config,
      workerId: `harness-${this.id}`,
      global: {},
    });
    const device = this.internals.worker?.device;
    if (!device) throw new HarnessError('HRN_ERR_DEVICE', 'Detox initialised without a device (worker.device missing)');
    this.device = device;
    if (!isAndroid(this.o)) return; // the iOS simulator shares the Mac's localhost
    this.adb = new Adb(adbPath(this.o.adb), device.id);
    for (const port of new Set([localPort(ctx.serverUrl), bridgePort])) {
      if (port === undefined) continue;
      await this.adb.reverse(port);
      this.reversed.push(port);
    }
    if (this.o.battery) {
      const pkg = this.o.android!.package;
      // Unplugged, so the OS accounts the run to the battery; reset, so the statistics are this run's.
      await this.adb.shell('dumpsys', 'battery', 'unplug');
      await this.adb.shell('dumpsys', 'batterystats', '--reset');
      const before = parseBattery(await this.adb.shell('dumpsys', 'battery'));
      const uid = parseUid(await this.adb.shell('dumpsys', 'package', pkg));
      this.battery = { before, uid };
    }
  }

  private launchArgs(r: LaunchRequest) {
    return { harnessBridgeUrl: r.bridgeUrl, harnessSession: r.session, harnessApiBase: r.apiBase };
  }

  async launch(r: LaunchRequest): Promise<void> {
    const d = this.need();
    await d.launchApp({ newInstance: r.newInstance, launchArgs: this.launchArgs(r) });
    // Sync traffic and the bridge socket must not hold Detox's idle synchronization.
    const ports = [localPort(r.apiBase), r.bridgePort].filter((p): p is number => p !== undefined);
    const hosts = [new URL(r.apiBase).hostname, '127.0.0.1', 'localhost'];
    await d.setURLBlacklist([...new Set(hosts)].flatMap((h) => ports.map((p) => `.*${escapeRe(h)}:${p}.*`)));
  }

  async terminate(): Promise<void> {
    await this.need().terminateApp();
  }

  async background(): Promise<void> {
    await this.need().sendToHome();
  }

  async foreground(r: LaunchRequest): Promise<void> {
    await this.need().launchApp({ newInstance: false, launchArgs: this.launchArgs(r) });
  }

  async setOffline(offline: boolean): Promise<void> {
    if (!this.adb)
      throw new HarnessError(
        'HRN_ERR_FAULT_UNSUPPORTED',
        `device "${this.id}": the iOS simulator has no airplane mode (it shares the Mac's network); the proxy's offline fault still cuts its sync traffic`,
      );
    // `adb reverse` traffic does not pass the radio: airplane mode is what the OS and app *see*
    // (NetInfo, background fetch); the proxy cut does the rest.
    await this.adb.airplaneMode(offline);
  }

  async measureEnergy(): Promise<MeasuredEnergy | undefined> {
    if (!this.adb || !this.battery) return undefined;
    const after = parseBattery(await this.adb.shell('dumpsys', 'battery'));
    const mah = parseUidMah(await this.adb.shell('dumpsys', 'batterystats', '--charged'), this.battery.uid);
    await this.adb.shell('dumpsys', 'battery', 'reset');
    return measuredReading(this.battery.before, after, mah, this.battery.uid);
  }

  async stop(): Promise<void> {
    try {
      for (const p of this.reversed.splice(0)) await this.adb?.unreverse(p).catch(() => {});
      await this.internals?.cleanup();
    } finally {
      if (active === this) active = undefined;
      this.device = undefined;
    }
  }

  private need(): DetoxDevice {
    if (!this.device) throw new HarnessError('HRN_ERR_DEVICE', `device "${this.id}": Detox is not initialised`);
    return this.device;
  }
}

/** The port of a URL on this host (what `adb reverse` can map), else undefined (a routable address). */
function localPort(url: string): number | undefined {
  const u = new URL(url);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(u.hostname)) return undefined;
  return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
}
