/**
 * Link profiles and the BLE timing physics they imply (design note ble-virtual-radio.md §5).
 * The link model (link.ts) charges exactly these air times; the functions here give the analytical
 * figures the tests compare it with.
 */

export type Phy = '1M' | '2M';

export interface LinkProfile {
  name: string;
  phy: Phy;
  /** LL data PDU payload (27 without Data Length Extension, up to 251 with it). */
  llPayload: number;
  /** Connection interval, ms (1.25 ms steps, 7.5 ms minimum). */
  connIntervalMs: number;
  /** Packet pairs per connection event the phone's stack allows (also capped by the event length). */
  pktsPerEvent: number;
  /** ATT MTU the phone's OS negotiates (noble always asks 256; the air clamps it, see README). */
  attMtu: number;
  /** Probability that a packet pair fails (CRC error); the PDU is retransmitted in the next event. */
  lossRate?: number;
  /** Supervision timeout, ms, when the link is lost (default: what the central asked for). */
  supervisionTimeoutMs?: number;
  /** Where the figures come from. */
  source: string;
}

export const T_IFS_US = 150;

/** Air time of one LL data PDU with `payload` bytes: preamble + access address 4 + header 2 + CRC 3. */
export function pduAirUs(phy: Phy, payload: number): number {
  return phy === '1M' ? (1 + 4 + 2 + payload + 3) * 8 : (2 + 4 + 2 + payload + 3) * 4;
}

/** One packet pair: central PDU, IFS, peripheral PDU, IFS. */
export function pairUs(phy: Phy, centralPayload: number, peripheralPayload: number): number {
  return pduAirUs(phy, centralPayload) + T_IFS_US + pduAirUs(phy, peripheralPayload) + T_IFS_US;
}

export function connIntervalUs(p: LinkProfile): number {
  return Math.round(p.connIntervalMs * 1000);
}

/** Pairs of (data, empty) that fit one event: the stack limit and the event length (one interval). */
export function pairsPerEvent(p: LinkProfile, dataPayload = p.llPayload): number {
  return Math.max(1, Math.min(p.pktsPerEvent, Math.floor(connIntervalUs(p) / pairUs(p.phy, dataPayload, 0))));
}

/** LL PDUs one ATT PDU of `attBytes` needs (+4 bytes L2CAP header). */
export function llPdusFor(attBytes: number, llPayload: number): number {
  return Math.ceil((attBytes + 4) / llPayload);
}

/**
 * Simulated µs to stream `appBytes` as notifications / writes without response of MTU-3 bytes each
 * (one direction, empty PDUs back), from the first anchor to the end of the last packet pair.
 */
export function streamTransferUs(p: LinkProfile, appBytes: number): number {
  const chunk = p.attMtu - 3;
  const full = Math.floor(appBytes / chunk);
  const rest = appBytes - full * chunk;
  // LL PDUs in order, by payload size.
  const sizes: number[] = [];
  const pushAtt = (valueLen: number) => {
    let l2cap = valueLen + 3 + 4;
    while (l2cap > 0) {
      const s = Math.min(p.llPayload, l2cap);
      sizes.push(s);
      l2cap -= s;
    }
  };
  for (let i = 0; i < full; i++) pushAtt(chunk);
  if (rest > 0) pushAtt(rest);
  return scheduleUs(p, sizes);
}

/** Lay PDUs of the given sizes into connection events (same rules as the link model, no loss). */
export function scheduleUs(p: LinkProfile, sizes: number[]): number {
  const ci = connIntervalUs(p);
  let t = 0;
  let i = 0;
  let anchor = 0;
  while (i < sizes.length) {
    let used = 0;
    let pairs = 0;
    while (i < sizes.length && pairs < p.pktsPerEvent) {
      const d = pairUs(p.phy, sizes[i], 0);
      if (pairs > 0 && used + d > ci) break;
      used += d;
      pairs++;
      i++;
    }
    t = anchor + used;
    anchor += ci;
  }
  return t;
}

/** Acknowledged writes (write request + response) of MTU-3 bytes: one op per two intervals. */
export function writeWithResponseUs(p: LinkProfile, appBytes: number): number {
  const ops = Math.ceil(appBytes / (p.attMtu - 3));
  const ci = connIntervalUs(p);
  // request in event 2k, response in event 2k+1; the last response ends the transfer.
  return (2 * ops - 1) * ci + pairUs(p.phy, 0, 5 + 4);
}

/**
 * A rigorous lower bound on the time any sequence of ATT PDUs can carry `appBytes` over profile `p`,
 * whatever the chunk sizes: app bytes per LL byte are at most (MTU-3)/(MTU+4), and no event carries
 * more LL bytes than the best packing of pairs into one interval.
 */
export function theoreticalMinUs(p: LinkProfile, appBytes: number): number {
  if (appBytes <= 0) return 0;
  const ci = connIntervalUs(p);
  // Pair time is affine in the data PDU size: a + b·s. k pairs carry at most (CI - k·a)/b bytes.
  const a = pairUs(p.phy, 0, 0);
  const b = p.phy === '1M' ? 8 : 4;
  let llBytesPerEvent = p.llPayload; // one pair always goes out, even if longer than the interval
  for (let k = 2; k <= p.pktsPerEvent; k++) {
    const fit = Math.floor((ci - k * a) / b);
    if (fit <= 0) break;
    llBytesPerEvent = Math.max(llBytesPerEvent, Math.min(k * p.llPayload, fit));
  }
  // Every ATT PDU of c value bytes costs c + 7 LL bytes (opcode, handle, L2CAP header): c/(c+7) ≤ (MTU-3)/(MTU+4).
  const llBytes = (appBytes * (p.attMtu + 4)) / (p.attMtu - 3);
  const events = Math.ceil(llBytes / llBytesPerEvent - 1e-9);
  return (events - 1) * ci + pairUs(p.phy, 1, 0);
}

const SRC_NOTE =
  'docs: shared/docs/ble-virtual-radio.md §5 (Core spec timing; Nordic/Silabs/Punch Through throughput notes)';

export const LINK_PROFILES = {
  worst: {
    name: 'worst',
    phy: '1M',
    llPayload: 27,
    connIntervalMs: 30,
    pktsPerEvent: 1,
    attMtu: 23,
    source: `${SRC_NOTE}: BT 4.0/4.1 phone, default MTU, one packet per event`,
  },
  'older-phone': {
    name: 'older-phone',
    phy: '1M',
    llPayload: 27,
    connIntervalMs: 30,
    pktsPerEvent: 4,
    attMtu: 185,
    source: `${SRC_NOTE}: legacy (no DLE) link, iOS-style 30 ms interval, 4 packets/event, MTU 185`,
  },
  'ios-typical': {
    name: 'ios-typical',
    phy: '2M',
    llPayload: 251,
    connIntervalMs: 15,
    pktsPerEvent: 5,
    attMtu: 185,
    source: `${SRC_NOTE}; Apple Accessory Design Guidelines (interval ≥ 15 ms, multiple of 15); ~5 pkts/event with DLE (Apple developer forum)`,
  },
  'android-fast': {
    name: 'android-fast',
    phy: '2M',
    llPayload: 251,
    connIntervalMs: 7.5,
    pktsPerEvent: 6,
    attMtu: 247,
    source: `${SRC_NOTE}: Android accepts 7.5 ms on many devices, ~6 pkts/event; 251-B PDUs clip it to 5 per 7.5 ms event`,
  },
  best: {
    name: 'best',
    phy: '2M',
    llPayload: 251,
    connIntervalMs: 7.5,
    pktsPerEvent: 255,
    attMtu: 247,
    source: `${SRC_NOTE}: (b) best case, MTU 247 fills one 251-B PDU, as many pairs as fit the 7.5 ms event`,
  },
} as const satisfies Record<string, LinkProfile>;

export type LinkProfileName = keyof typeof LINK_PROFILES;
export const LINK_PROFILE_NAMES = Object.keys(LINK_PROFILES) as LinkProfileName[];

export function resolveProfile(p: LinkProfileName | LinkProfile): LinkProfile {
  if (typeof p !== 'string') return p;
  const found = LINK_PROFILES[p];
  if (!found) {
    throw new Error(`HRN_ERR_BLE_PROFILE: unknown link profile "${p}"; use one of ${LINK_PROFILE_NAMES.join(', ')}`);
  }
  return { ...found };
}
