/**
 * A radio + CPU energy model per sync for the devices that reach the cloud (phones, the web client's
 * laptop, virtual users). Every figure comes from ../shared/docs/network-and-energy-references.md §5
 * ("refs §5" below). The radio is an RRC-like state machine: a promotion from idle, an active state
 * whose power may depend on throughput, then a tail of one or more states the radio falls through
 * before it is idle again. A sync that starts while the radio is still in its tail pays only that
 * state's promotion (none for LTE's DRX tail, FACH→DCH for 3G) and cuts the tail short: the batching
 * lever the reference points out. Idle paging and the screen are not the app's energy and are left out
 * (refs §5: ARO's idle base is 0 W with screen and base excluded).
 *
 * Times are on the device's simulated clock (ms); transfer durations are measured wall time, since
 * real I/O is not scaled. BLE (watches) is the link model of devices/radio/energy.ts.
 */
import type { RadioKind } from '../../protocol/device';

export type CloudRadioKind = Exclude<RadioKind, 'ble'>;

/** One state the radio falls through after the last byte, until idle. */
export interface TailState {
  name: string;
  /** Time spent in this state when nothing is sent (s). */
  s: number;
  /** Average power in it (W). */
  w: number;
  /** Promotion back to the active state from this one (s at W); 0 when data flows at once. */
  resumeS: number;
  resumeW: number;
}

export interface RadioProfile {
  kind: CloudRadioKind;
  /** IDLE → active promotion. */
  promotionS: number;
  promotionW: number;
  /** Active power P = alphaUp·Mbps_up + alphaDown·Mbps_down + beta (W, Mbps). */
  alphaUpWPerMbps: number;
  alphaDownWPerMbps: number;
  betaW: number;
  /** The tail states in order (inactivity timer, DRX, FACH…). */
  tail: TailState[];
  /** Nominal link rates used to turn bytes into a minimum air time when the measured one is shorter. */
  upMbps: number;
  downMbps: number;
  /** Where the figures come from. */
  source: string;
}

/**
 * refs §5, AT&T ARO ProfileLTE defaults (Huang et al., MobiSys 2012): promotion 0.26 s @ 1.21 W;
 * αu 438.39 mW/Mbps, αd 51.97 mW/Mbps, β 1.2 W; tail = 0.1 s inactivity timer + 10 s long DRX at
 * 1.06 W with 2 ms on-durations at 1.68 W every 40 ms (≈1.09 W average). Link rates: Huang et al.'s
 * median LTE throughput, 13 Mbps down / 6 Mbps up.
 */
export const LTE: RadioProfile = {
  kind: 'lte',
  promotionS: 0.26,
  promotionW: 1.21,
  alphaUpWPerMbps: 0.43839,
  alphaDownWPerMbps: 0.05197,
  betaW: 1.2,
  tail: [{ name: 'drx', s: 10.1, w: 1.09, resumeS: 0, resumeW: 0 }],
  upMbps: 6,
  downMbps: 13,
  source: 'AT&T ARO ProfileLTE (Huang et al., MobiSys 2012), refs §5',
};

/**
 * refs §5, ARO Profile3G defaults: DCH 0.7 W, FACH 0.35 W, IDLE 0 W; DCH→FACH after 5 s, FACH→IDLE
 * after 12 s; promotion IDLE→DCH 2.0 s at 0.53 W, FACH→DCH 1.5 s at 0.55 W. DCH power does not depend
 * on throughput in ARO's 3G profile. Link rates: Apple NLC "3G" 780/330 kbps (refs §4).
 */
export const UMTS_3G: RadioProfile = {
  kind: '3g',
  promotionS: 2.0,
  promotionW: 0.53,
  alphaUpWPerMbps: 0,
  alphaDownWPerMbps: 0,
  betaW: 0.7,
  tail: [
    { name: 'dch', s: 5, w: 0.7, resumeS: 0, resumeW: 0 },
    { name: 'fach', s: 12, w: 0.35, resumeS: 1.5, resumeW: 0.55 },
  ],
  upMbps: 0.33,
  downMbps: 0.78,
  source: 'AT&T ARO Profile3G, refs §5',
};

/**
 * refs §5, ARO ProfileWiFi: active 0.403 W, tail 0.25 s (at the active power), standby 0.02 W (the
 * idle baseline, left out); no promotion. Link rates: Apple NLC "WiFi" 40/33 Mbps (refs §4).
 */
export const WIFI: RadioProfile = {
  kind: 'wifi',
  promotionS: 0,
  promotionW: 0,
  alphaUpWPerMbps: 0,
  alphaDownWPerMbps: 0,
  betaW: 0.403,
  tail: [{ name: 'tail', s: 0.25, w: 0.403, resumeS: 0, resumeW: 0 }],
  upMbps: 33,
  downMbps: 40,
  source: 'AT&T ARO ProfileWiFi, refs §5',
};

export const RADIOS: Readonly<Record<CloudRadioKind, RadioProfile>> = { lte: LTE, '3g': UMTS_3G, wifi: WIFI };

export interface DeviceEnergyProfile {
  name: string;
  radio: RadioProfile;
  batteryMah: number;
  batteryVolts: number;
  /**
   * CPU power while the app computes a sync, charged per second of CPU time (or of awake time when
   * the device cannot report its CPU time). Android's model is the same product, current ×
   * active time from power_profile.xml (refs §5); the reference gives no CPU current, so this is an
   * assumption (low confidence): a few hundred mA at 3.85 V on a big core cluster. Replace it with
   * the device's power_profile.xml `cpu.active` on the real-device lane.
   */
  cpuActiveW: number;
}

/**
 * A 4000 mAh × 3.85 V phone battery (55.4 kJ): the capacity refs §5's worked estimate uses.
 */
const PHONE_BATTERY = { batteryMah: 4000, batteryVolts: 3.85 };
const CPU_ACTIVE_W = 0.6;

export const PHONE_LTE: DeviceEnergyProfile = {
  name: 'phone-lte',
  radio: LTE,
  ...PHONE_BATTERY,
  cpuActiveW: CPU_ACTIVE_W,
};
export const PHONE_3G: DeviceEnergyProfile = {
  name: 'phone-3g',
  radio: UMTS_3G,
  ...PHONE_BATTERY,
  cpuActiveW: CPU_ACTIVE_W,
};
export const PHONE_WIFI: DeviceEnergyProfile = {
  name: 'phone-wifi',
  radio: WIFI,
  ...PHONE_BATTERY,
  cpuActiveW: CPU_ACTIVE_W,
};
/**
 * The web client's laptop on Wi-Fi. Assumption (no figure in the reference): a 50 Wh pack at 11.55 V
 * (3 cells), the same CPU power as the phone; give the real one in the device spec (`battery.wh`).
 */
export const LAPTOP_WIFI: DeviceEnergyProfile = {
  name: 'laptop-wifi',
  radio: WIFI,
  batteryMah: (50 * 1000) / 11.55,
  batteryVolts: 11.55,
  cpuActiveW: CPU_ACTIVE_W,
};
export const ENERGY_PROFILES: Record<string, DeviceEnergyProfile> = {
  'phone-lte': PHONE_LTE,
  'phone-3g': PHONE_3G,
  'phone-wifi': PHONE_WIFI,
  'laptop-wifi': LAPTOP_WIFI,
};

export interface SyncEnergyInput {
  /** Device clock (simulated ms) when the sync started. */
  startedAt: number;
  /** Measured wall duration of the sync (ms). */
  durationMs: number;
  bytesUp: number;
  bytesDown: number;
  /** CPU time the app spent on the sync (ms), when the device can measure it; else the awake time counts. */
  cpuMs?: number;
}

export interface SyncEnergy {
  promotionJ: number;
  activeJ: number;
  cpuJ: number;
  /** The full tail after this sync (an isolated sync's cost). */
  tailJ: number;
  totalJ: number;
}

export function batteryJoules(p: DeviceEnergyProfile): number {
  return (p.batteryMah / 1000) * 3600 * p.batteryVolts;
}

function tailSeconds(r: RadioProfile): number {
  return r.tail.reduce((s, t) => s + t.s, 0);
}

/** Energy of the first `gapS` seconds of the tail (all of it when the gap is longer). */
export function tailJoules(r: RadioProfile, gapS = Number.POSITIVE_INFINITY): number {
  let left = Math.max(0, gapS);
  let j = 0;
  for (const t of r.tail) {
    const s = Math.min(left, t.s);
    j += s * t.w;
    left -= s;
  }
  return j;
}

/** Promotion cost of a transfer starting `gapS` after the last one ended (undefined: from idle). */
export function promotionJoules(r: RadioProfile, gapS?: number): number {
  if (gapS !== undefined) {
    let at = Math.max(0, gapS);
    for (const t of r.tail) {
      if (at < t.s) return t.resumeS * t.resumeW;
      at -= t.s;
    }
  }
  return r.promotionS * r.promotionW;
}

/** Accumulates the energy of a device's syncs. */
export class EnergyMeter {
  private promotionJ = 0;
  private activeJ = 0;
  private cpuJ = 0;
  private cpuMs = 0;
  private closedTailJ = 0;
  private syncs = 0;
  private lastEnd: number | undefined;
  private maxSyncJ = 0;
  private lastSyncJ = 0;
  private since: number | undefined;

  constructor(readonly profile: DeviceEnergyProfile = PHONE_LTE) {}

  /** Where the device's time on the meter starts (device clock ms): the span behind per-day figures. */
  begin(at: number): void {
    this.since ??= at;
  }

  /** Charges one sync; returns its energy with the full tail (an isolated sync's cost). */
  record(s: SyncEnergyInput): SyncEnergy {
    const r = this.profile.radio;
    this.since ??= s.startedAt;
    const upMb = (s.bytesUp * 8) / 1e6;
    const downMb = (s.bytesDown * 8) / 1e6;
    // Air time can never beat the link rate; otherwise the measured time is what the radio was up.
    const activeS = Math.max(s.durationMs / 1000, upMb / r.upMbps + downMb / r.downMbps, 0.001);
    const activeW = r.alphaUpWPerMbps * (upMb / activeS) + r.alphaDownWPerMbps * (downMb / activeS) + r.betaW;
    // Still in the previous tail? Then that tail only lasted until now, and the promotion is the one
    // from the state the radio is in.
    const gapS = this.lastEnd === undefined ? undefined : (s.startedAt - this.lastEnd) / 1000;
    const promotionJ = promotionJoules(r, gapS);
    if (gapS !== undefined) this.closedTailJ += tailJoules(r, gapS);
    const activeJ = activeW * activeS;
    const cpuS = s.cpuMs !== undefined ? s.cpuMs / 1000 : activeS;
    const cpuJ = this.profile.cpuActiveW * cpuS;
    const tailJ = tailJoules(r);
    this.promotionJ += promotionJ;
    this.activeJ += activeJ;
    this.cpuJ += cpuJ;
    this.cpuMs += cpuS * 1000;
    this.lastEnd = s.startedAt + activeS * 1000;
    this.syncs++;
    const totalJ = promotionJ + activeJ + cpuJ + tailJ;
    this.lastSyncJ = totalJ;
    this.maxSyncJ = Math.max(this.maxSyncJ, totalJ);
    return { promotionJ, activeJ, cpuJ, tailJ, totalJ };
  }

  /**
   * Total so far, counting the last sync's tail as complete. The span runs from begin() (or the first
   * sync) to the end of that tail: the time the syncs were spread over, not how long the run idled after.
   */
  reading() {
    const r = this.profile.radio;
    const tailJ = this.closedTailJ + (this.lastEnd === undefined ? 0 : tailJoules(r));
    const joules = this.promotionJ + this.activeJ + this.cpuJ + tailJ;
    const cap = batteryJoules(this.profile);
    const end = this.lastEnd === undefined ? 0 : this.lastEnd + tailSeconds(r) * 1000;
    return {
      source: 'modelled' as const,
      joules,
      batteryPct: (joules / cap) * 100,
      radio: r.kind,
      ...(this.since !== undefined && end > this.since ? { spanMs: end - this.since } : {}),
      details: {
        syncs: this.syncs,
        promotionJ: this.promotionJ,
        activeJ: this.activeJ,
        cpuJ: this.cpuJ,
        cpuMs: this.cpuMs,
        tailJ,
        lastSyncJ: this.lastSyncJ,
        maxSyncJ: this.maxSyncJ,
        maxSyncBatteryPct: (this.maxSyncJ / cap) * 100,
        batteryCapacityJ: cap,
      },
    };
  }
}
