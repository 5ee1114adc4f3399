/**
 * Radio energy model of one controller (design note §6):
 *   Q = Q_adv + Σ_events (I_radio · t_radio_event + Q_wake) + I_sys · T_awake
 * The link model feeds the counters (radio-on µs, events, awake µs); this file only turns them into
 * charge. Defaults are the note's MCU-class watch; make I_sys a device parameter for other watches.
 */

export interface EnergyParams {
  /** TX and RX current at 0 dBm, 1M/2M (nRF52840 6.4/6.26 mA, nRF52832 5.3/5.4 mA, CC2340 5.1/5.3 mA). */
  radioMA: number;
  /** Charge per wake-up for a connection or advertising event (HFXO start, CPU), µC. Estimate. */
  wakeUC: number;
  /** Radio ramp-up per event, µs (40-140 µs per switch on nRF52; counted once per event). */
  rampUs: number;
  /** System current while the device is awake for a transfer (MCU, flash, app), mA. */
  systemMA: number;
  /** Battery capacity, mAh. */
  batteryMAh: number;
}

export const ENERGY_PROFILES = {
  /** MCU-class watch (nRF52-like SoC, 300 mAh). */
  'mcu-watch': { radioMA: 6, wakeUC: 2, rampUs: 140, systemMA: 4, batteryMAh: 300 },
  /** Application-processor smartwatch (the system term dominates). */
  'ap-watch': { radioMA: 6, wakeUC: 2, rampUs: 140, systemMA: 100, batteryMAh: 300 },
  /** A phone's BLE radio only (the phone being awake is modelled elsewhere). */
  'phone-radio': { radioMA: 6, wakeUC: 2, rampUs: 140, systemMA: 0, batteryMAh: 4000 },
} as const satisfies Record<string, EnergyParams>;

export interface EnergyCounters {
  /** Radio on (TX + RX + IFS + ramp), µs. */
  radioUs: number;
  txUs: number;
  rxUs: number;
  /** Connection events taken part in (data and empty). */
  connEvents: number;
  /** Advertising events sent. */
  advEvents: number;
  /** Time with a transfer in flight (first data event of a burst to the end of its last), µs. */
  awakeUs: number;
  /** Time connected, µs. */
  connectedUs: number;
  bytesTx: number;
  bytesRx: number;
}

export function emptyCounters(): EnergyCounters {
  return {
    radioUs: 0,
    txUs: 0,
    rxUs: 0,
    connEvents: 0,
    advEvents: 0,
    awakeUs: 0,
    connectedUs: 0,
    bytesTx: 0,
    bytesRx: 0,
  };
}

export interface RadioEnergy {
  /** Total charge, mC. */
  chargeMC: number;
  mAh: number;
  /** Share of the battery capacity, %. */
  batteryPct: number;
  /** Joules at 3 V (for the harness EnergyReading). */
  joules: number;
  breakdownMC: { radio: number; wake: number; system: number };
  counters: EnergyCounters;
  radioOnMs: number;
  awakeMs: number;
  connectedMs: number;
}

export function energyOf(c: EnergyCounters, p: EnergyParams): RadioEnergy {
  // mA · µs = nC; /1e6 → mC. µC → mC: /1000.
  const radio = (p.radioMA * (c.radioUs + p.rampUs * (c.connEvents + c.advEvents))) / 1e6;
  const wake = (p.wakeUC * (c.connEvents + c.advEvents)) / 1000;
  const system = (p.systemMA * c.awakeUs) / 1e6;
  const chargeMC = radio + wake + system;
  const mAh = chargeMC / 3600;
  return {
    chargeMC,
    mAh,
    batteryPct: (100 * mAh) / p.batteryMAh,
    joules: (chargeMC / 1000) * 3,
    breakdownMC: { radio, wake, system },
    counters: { ...c },
    radioOnMs: c.radioUs / 1000,
    awakeMs: c.awakeUs / 1000,
    connectedMs: c.connectedUs / 1000,
  };
}
