/**
 * adb for what Detox does not do: `adb reverse` of the device's proxy and the bridge, airplane mode,
 * and battery statistics (`dumpsys batterystats --reset` before, readings after) for the "measured"
 * energy beside the model's estimate.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MeasuredEnergy } from '../../protocol/device';

const run = promisify(execFile);

export function adbPath(explicit?: string): string {
  if (explicit) return explicit;
  const home = process.env.ANDROID_HOME ?? process.env.ANDROID_SDK_ROOT;
  const inSdk = home ? join(home, 'platform-tools', 'adb') : undefined;
  return inSdk && existsSync(inSdk) ? inSdk : 'adb';
}

export class Adb {
  constructor(
    readonly exe: string,
    /** The device's serial (`-s`); Detox's `device.id` on Android. */
    readonly serial?: string,
  ) {}

  async run(args: string[], timeoutMs = 30_000): Promise<string> {
    const full = this.serial ? ['-s', this.serial, ...args] : args;
    try {
      const { stdout } = await run(this.exe, full, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
      return stdout;
    } catch (e) {
      const err = e as Error & { stderr?: string };
      throw new Error(`adb ${full.join(' ')} failed: ${(err.stderr || err.message).trim()}`);
    }
  }

  shell(...cmd: string[]): Promise<string> {
    return this.run(['shell', ...cmd]);
  }

  reverse(port: number): Promise<string> {
    return this.run(['reverse', `tcp:${port}`, `tcp:${port}`]);
  }

  unreverse(port: number): Promise<string> {
    return this.run(['reverse', '--remove', `tcp:${port}`]);
  }

  /** Android 11+ (`cmd connectivity airplane-mode`); the OS then reports no network to the app. */
  airplaneMode(on: boolean): Promise<string> {
    return this.shell('cmd', 'connectivity', 'airplane-mode', on ? 'enable' : 'disable');
  }

  async devices(): Promise<Array<{ serial: string; state: string; model?: string }>> {
    return parseAdbDevices(await this.run(['devices', '-l'], 10_000));
  }
}

export function parseAdbDevices(out: string): Array<{ serial: string; state: string; model?: string }> {
  return out
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [serial, state, ...rest] = l.split(/\s+/);
      const model = rest.find((x) => x.startsWith('model:'))?.slice(6);
      return { serial, state, ...(model ? { model } : {}) };
    });
}

export interface BatterySnapshot {
  level: number;
  voltageMv?: number;
}

/** `dumpsys battery`: "level: 87", "voltage: 4200". */
export function parseBattery(out: string): BatterySnapshot {
  const level = /^\s*level:\s*(\d+)/m.exec(out);
  if (!level) throw new Error(`no battery level in dumpsys battery output: ${out.slice(0, 200)}`);
  const v = /^\s*voltage:\s*(\d+)/m.exec(out);
  return { level: Number(level[1]), ...(v ? { voltageMv: Number(v[1]) } : {}) };
}

/** `dumpsys package <pkg>`: "userId=10123". */
export function parseUid(out: string): number {
  const m = /userId=(\d+)/.exec(out);
  if (!m) throw new Error('no userId in dumpsys package output (is the app installed?)');
  return Number(m[1]);
}

/** Android's short form of an app UID: 10123 → u0a123 (user 0, app 123). */
export function shortUid(uid: number): string {
  const user = Math.floor(uid / 100_000);
  const app = uid % 100_000;
  return app >= 10_000 ? `u${user}a${app - 10_000}` : String(app);
}

/**
 * Estimated mAh of one UID from `dumpsys batterystats`' "Estimated power use (mAh)" section. Both
 * formats: "Uid u0a123: 1.23 ( cpu=… )" (Android ≤ 11) and "UID u0a123: 1.23 fg: …" (12+).
 */
export function parseUidMah(out: string, uid: number): number | undefined {
  const start = out.search(/Estimated power use \(mAh\)/i);
  if (start < 0) return undefined;
  const section = out.slice(start);
  const want = shortUid(uid);
  for (const line of section.split('\n').slice(1)) {
    const m = /^\s*uid\s+(\S+?):\s*([\d.]+)/i.exec(line);
    if (m && m[1] === want) return Number(m[2]);
  }
  return undefined;
}

/** The measured reading for the report: battery drop over the run and the app's estimated mAh. */
export function measuredReading(
  before: BatterySnapshot,
  after: BatterySnapshot,
  appMah: number | undefined,
  uid: number,
): MeasuredEnergy {
  const volts = (after.voltageMv ?? before.voltageMv ?? 3850) / 1000;
  const mah = appMah ?? 0;
  return {
    source: 'measured',
    joules: (mah / 1000) * 3600 * volts,
    batteryPct: before.level - after.level,
    details: {
      levelBefore: before.level,
      levelAfter: after.level,
      appMah: mah,
      uid,
      ...(appMah === undefined ? { appMahMissing: 1 } : {}),
    },
  };
}
