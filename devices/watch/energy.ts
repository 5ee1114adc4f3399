/** A watch's BLE energy parameters with the battery a scenario's device spec gives. */
import type { DeviceSpec } from '../../protocol/device';
import { batteryMah } from '../energy/spec';
import { ENERGY_PROFILES, type EnergyParams } from '../radio/energy';

/** The link model reports joules at 3 V (devices/radio/energy.ts): a Wh figure is read at that voltage. */
const WATCH_VOLTS = 3;

export function watchEnergyParams(spec: Pick<DeviceSpec, 'battery'>): EnergyParams {
  const base = ENERGY_PROFILES['mcu-watch'];
  return { ...base, batteryMAh: batteryMah(spec.battery, base.batteryMAh, spec.battery?.volts ?? WATCH_VOLTS) };
}
