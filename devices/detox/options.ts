/**
 * `use.devices.detox` in harness.config.ts (a project may set its own): which app host, which Detox
 * configuration, where the app binaries are. Validated here, by the kind, naming the field.
 */
import { HarnessError } from '../../protocol/harness-error';

export const DETOX_CONFIGURATIONS = ['android.emu', 'android.attached', 'ios.sim'] as const;
export type DetoxConfigurationName = (typeof DETOX_CONFIGURATIONS)[number];

export interface DetoxOptions {
  /**
   * 'detox' (default): the real app under Detox. 'simulated': the simulated phone app behind the same
   * bridge, in this process (everything but the device runs; CI without emulators).
   */
  app: 'detox' | 'simulated';
  configuration: DetoxConfigurationName;
  android?: {
    /** The app's Detox build (`detox build`): the APK and its instrumentation test APK. */
    binaryPath: string;
    testBinaryPath?: string;
    /** Application id (for battery statistics per UID). */
    package: string;
    /** android.emu: the AVD to boot. */
    avdName?: string;
    /** android.attached: adb serial or a regex of it (default: any attached device). */
    adbName?: string;
  };
  ios?: {
    binaryPath: string;
    bundleId: string;
    /** Simulator device type, e.g. 'iPhone 15'. */
    simulator?: string;
  };
  /** Module exposing Detox's internals (default 'detox/internals', resolved from the working directory). */
  detoxModule: string;
  /** adb executable (default $ANDROID_HOME/platform-tools/adb, else `adb` on PATH). */
  adb?: string;
  /** Port of the harness bridge server (default 0: any free port; `adb reverse` maps whatever it is). */
  bridgePort: number;
  /** Wall ms to wait for the app to connect after a launch (default 120 s). */
  launchTimeoutMs: number;
  /** Android battery statistics before/after (default true; needs the device unplugged from charging stats). */
  battery: boolean;
}

const DEFAULTS: DetoxOptions = {
  app: 'detox',
  configuration: 'android.emu',
  detoxModule: 'detox/internals',
  bridgePort: 0,
  launchTimeoutMs: 120_000,
  battery: true,
};

function bad(field: string, expected: string, got: unknown): never {
  throw new HarnessError(
    'HRN_ERR_CONFIG',
    `config field "use.devices.detox.${field}" must be ${expected}, got ${JSON.stringify(got) ?? typeof got}`,
  );
}

const str = (o: Record<string, unknown>, k: string, field: string, required: boolean) => {
  const v = o[k];
  if (v === undefined && !required) return;
  if (typeof v !== 'string' || !v) bad(field, 'a non-empty string', v);
};

export function resolveDetoxOptions(raw: unknown): DetoxOptions {
  if (raw === undefined) return { ...DEFAULTS };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) bad('', 'an object', raw);
  const o = raw as Record<string, unknown>;
  const known = new Set([
    'app',
    'configuration',
    'android',
    'ios',
    'detoxModule',
    'adb',
    'bridgePort',
    'launchTimeoutMs',
    'battery',
  ]);
  for (const k of Object.keys(o)) if (!known.has(k)) bad(k, `one of the known fields (${[...known].join(', ')})`, k);
  if (o.app !== undefined && o.app !== 'detox' && o.app !== 'simulated') bad('app', '"detox" or "simulated"', o.app);
  if (o.configuration !== undefined && !DETOX_CONFIGURATIONS.includes(o.configuration as DetoxConfigurationName))
    bad('configuration', `one of ${DETOX_CONFIGURATIONS.join(', ')}`, o.configuration);
  if (o.android !== undefined) {
    if (!o.android || typeof o.android !== 'object') bad('android', 'an object', o.android);
    const a = o.android as Record<string, unknown>;
    str(a, 'binaryPath', 'android.binaryPath', true);
    str(a, 'package', 'android.package', true);
    for (const k of ['testBinaryPath', 'avdName', 'adbName']) str(a, k, `android.${k}`, false);
  }
  if (o.ios !== undefined) {
    if (!o.ios || typeof o.ios !== 'object') bad('ios', 'an object', o.ios);
    const i = o.ios as Record<string, unknown>;
    str(i, 'binaryPath', 'ios.binaryPath', true);
    str(i, 'bundleId', 'ios.bundleId', true);
    str(i, 'simulator', 'ios.simulator', false);
  }
  str(o, 'detoxModule', 'detoxModule', false);
  str(o, 'adb', 'adb', false);
  if (
    o.bridgePort !== undefined &&
    !(Number.isInteger(o.bridgePort) && (o.bridgePort as number) >= 0 && (o.bridgePort as number) < 65536)
  )
    bad('bridgePort', 'an integer 0-65535', o.bridgePort);
  if (o.launchTimeoutMs !== undefined && !(typeof o.launchTimeoutMs === 'number' && o.launchTimeoutMs > 0))
    bad('launchTimeoutMs', 'a number > 0', o.launchTimeoutMs);
  if (o.battery !== undefined && typeof o.battery !== 'boolean') bad('battery', 'a boolean', o.battery);
  return { ...DEFAULTS, ...(o as Partial<DetoxOptions>) };
}

/** The app binaries the selected configuration needs; a config error when they are not configured. */
export function requireTarget(o: DetoxOptions): void {
  if (o.app !== 'detox') return;
  if (o.configuration.startsWith('android') && !o.android)
    bad('android', `an object { binaryPath, package } for configuration ${o.configuration}`, undefined);
  if (o.configuration === 'ios.sim' && !o.ios) bad('ios', 'an object { binaryPath, bundleId } for ios.sim', undefined);
}

export const isAndroid = (o: DetoxOptions) => o.configuration.startsWith('android');
