/**
 * From a scenario's device spec (`radio`, `battery`, `network`) to the energy profile a kind charges,
 * and the checks of those fields. One place, so every kind resolves them the same way.
 */
import { type BatterySpec, type DeviceSpec, RADIO_KINDS, type RadioKind } from '../../protocol/device';
import { type CloudRadioKind, type DeviceEnergyProfile, RADIOS } from './radio-model';

/** The radio a network preset runs on, when the spec names no radio. */
const RADIO_OF_PRESET: Record<string, CloudRadioKind> = {
  wifi: 'wifi',
  lte: 'lte',
  '3g': '3g',
  'slow-3g': '3g',
  edge: '3g',
};

/** Capacity in mAh at the given nominal voltage. */
export function batteryMah(b: BatterySpec | undefined, defaultMah: number, defaultVolts: number): number {
  if (b?.wh !== undefined) return (b.wh * 1000) / (b.volts ?? defaultVolts);
  return b?.mAh ?? defaultMah;
}

/** The kind's default profile with the spec's radio and battery applied. */
export function energyProfileOf(
  spec: Pick<DeviceSpec, 'radio' | 'battery' | 'network'>,
  base: DeviceEnergyProfile,
): DeviceEnergyProfile {
  const kind = (spec.radio ?? (spec.network ? RADIO_OF_PRESET[spec.network] : undefined) ?? base.radio.kind) as
    | CloudRadioKind
    | 'ble';
  if (kind === 'ble') throw new Error(`radio "ble" is a watch's radio; this device reaches the cloud over lte|3g|wifi`);
  const volts = spec.battery?.volts ?? base.batteryVolts;
  const radio = RADIOS[kind];
  return {
    ...base,
    name: `${base.name.split('-')[0]}-${kind}`,
    radio,
    batteryVolts: volts,
    batteryMah: batteryMah(spec.battery, base.batteryMah, volts),
  };
}

/** Problems with `radio` and `battery` in a spec, for the scenario loader; `allowed` is the kind's radios. */
export function energySpecProblem(
  id: string,
  spec: Pick<DeviceSpec, 'radio' | 'battery'>,
  allowed: readonly RadioKind[] = RADIO_KINDS,
): string | undefined {
  if (spec.radio !== undefined && !allowed.includes(spec.radio))
    return `devices.${id}.radio must be one of ${allowed.join(', ')} for this kind, got ${JSON.stringify(spec.radio)}`;
  const b = spec.battery;
  if (b === undefined) return undefined;
  if (!b || typeof b !== 'object') return `devices.${id}.battery must be { mAh, volts? } or { wh, volts? }`;
  for (const k of Object.keys(b))
    if (!['mAh', 'volts', 'wh'].includes(k)) return `devices.${id}.battery has unknown field "${k}" (mAh, volts, wh)`;
  for (const k of ['mAh', 'volts', 'wh'] as const) {
    const v = b[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0))
      return `devices.${id}.battery.${k} must be a number > 0, got ${JSON.stringify(v)}`;
  }
  if (b.mAh !== undefined && b.wh !== undefined) return `devices.${id}.battery: give mAh or wh, not both`;
  if (b.mAh === undefined && b.wh === undefined) return `devices.${id}.battery needs mAh or wh`;
  return undefined;
}

export const CLOUD_RADIOS: readonly RadioKind[] = ['lte', '3g', 'wifi'];
export const WATCH_RADIOS: readonly RadioKind[] = ['ble'];
