/**
 * An emulated LE controller behind one virtual HCI socket: answers the HCI command subset noble and
 * bleno send, keeps advertising/scanning state, owns its connection handles and hands ACL data to the
 * links. Everything it tells its host is delivered asynchronously on the simulated clock, like a real
 * controller answering over a transport.
 */
import {
  ENERGY_PROFILES,
  type EnergyCounters,
  type EnergyParams,
  emptyCounters,
  energyOf,
  type RadioEnergy,
} from './energy';
import {
  addrToBuf,
  bufToAddr,
  cmdComplete,
  cmdStatus,
  H4_ACL,
  H4_COMMAND,
  leConnComplete,
  OP,
  PB_CONT,
  STATUS,
} from './hci';
import type { Link } from './link';
import type { Medium } from './medium';

export interface HostPort {
  /** Deliver one H4 packet to the host stack. */
  deliver(pkt: Buffer): void;
  /** Optional: called when the controller is detached. */
  close?(): void;
}

export interface AdvState {
  enabled: boolean;
  intervalUs: number;
  advData: Buffer;
  scanRsp: Buffer;
  /** Bumped at every enable, so scheduled reports of an older advertising set are dropped. */
  session: number;
  sinceUs: number;
}

export interface ScanState {
  enabled: boolean;
  filterDuplicates: boolean;
  session: number;
  reported: Set<string>;
}

export interface PendingConnect {
  peer: string;
  supervisionUs: number;
  session: number;
}

/**
 * ACL buffers we announce: 251 B (one DLE PDU) × 64. Enough that a streaming host stays several events
 * ahead of the air even with Number Of Completed Packets batched (link.ts), as on real controllers.
 */
export const ACL_BUFFER_LEN = 251;
export const ACL_BUFFER_NUM = 64;

export class Controller {
  host: HostPort | null = null;
  readonly adv: AdvState = {
    enabled: false,
    intervalUs: 100_000,
    advData: Buffer.alloc(0),
    scanRsp: Buffer.alloc(0),
    session: 0,
    sinceUs: 0,
  };
  readonly scan: ScanState = { enabled: false, filterDuplicates: true, session: 0, reported: new Set() };
  pendingConnect: PendingConnect | null = null;
  private connectSession = 0;
  readonly links = new Map<number, Link>();
  /** Counters of links already closed and of advertising already accounted. */
  readonly counters: EnergyCounters = emptyCounters();
  inRange = true;
  closed = false;
  rssi = -60;

  constructor(
    readonly medium: Medium,
    readonly address: string,
    public energyParams: EnergyParams = ENERGY_PROFILES['mcu-watch'],
  ) {}

  attach(host: HostPort): void {
    this.host = host;
  }

  /** Deliver to the host at the current instant, after the caller's turn (no re-entrancy into the host). */
  toHost(pkt: Buffer): void {
    this.medium.clock.after(0, () => this.toHostNow(pkt));
  }
  toHostNow(pkt: Buffer): void {
    if (this.closed || !this.host) return;
    this.medium.clock.markDelivered();
    this.host.deliver(pkt);
  }

  energy(): RadioEnergy {
    const c = { ...this.counters };
    const now = this.medium.clock.nowUs();
    if (this.adv.enabled) c.advEvents += Math.floor((now - this.adv.sinceUs) / this.adv.intervalUs);
    for (const link of this.links.values()) {
      const lc = link.countersNow(link.side(this));
      for (const k of Object.keys(c) as (keyof EnergyCounters)[]) c[k] += lc[k];
    }
    // Advertising events: 3 channels × (ADV_IND + IFS + listen for a request) ≈ 3 × (47 B at 1M + 150 + 80) µs.
    c.radioUs += c.advEvents * 3 * ((1 + 4 + 2 + 37 + 3) * 8 + 150 + 80);
    return energyOf(c, this.energyParams);
  }

  /** Fold a closed link's counters into ours. */
  absorb(link: Link): void {
    const lc = link.counters[link.side(this)];
    for (const k of Object.keys(lc) as (keyof EnergyCounters)[]) this.counters[k] += lc[k];
    this.links.delete(link.handleOf(this));
  }

  /** Called by the socket for every H4 packet the host writes. */
  fromHost(pkt: Buffer): void {
    if (this.closed || pkt.length < 1) return;
    const type = pkt[0];
    if (type === H4_COMMAND) this.command(pkt.readUInt16LE(1), pkt.subarray(4, 4 + pkt[3]));
    else if (type === H4_ACL) this.acl(pkt);
  }

  private acl(pkt: Buffer): void {
    const hf = pkt.readUInt16LE(1);
    const handle = hf & 0x0fff;
    const pb = hf >> 12;
    const len = pkt.readUInt16LE(3);
    const data = pkt.subarray(5, 5 + len);
    const link = this.links.get(handle);
    if (!link) {
      // Buffer freed anyway, or the host would stall (Core spec: flushed on disconnect).
      return;
    }
    link.send(this, pb !== PB_CONT, data);
  }

  private ok(opcode: number, ...ret: number[]): void {
    this.toHost(cmdComplete(opcode, Buffer.from([STATUS.SUCCESS, ...ret])));
  }

  private command(opcode: number, p: Buffer): void {
    switch (opcode) {
      case OP.RESET:
        this.reset();
        this.ok(opcode);
        return;
      case OP.SET_EVENT_MASK:
      case OP.LE_SET_EVENT_MASK:
      case OP.WRITE_LE_HOST_SUPPORTED:
      case OP.LE_SET_RANDOM_ADDRESS:
      case OP.LE_SET_SCAN_PARAMS:
      case OP.LE_SET_ADV_DATA:
      case OP.LE_SET_SCAN_RSP_DATA:
        if (opcode === OP.LE_SET_ADV_DATA) this.adv.advData = Buffer.from(p.subarray(1, 1 + p[0]));
        if (opcode === OP.LE_SET_SCAN_RSP_DATA) this.adv.scanRsp = Buffer.from(p.subarray(1, 1 + p[0]));
        this.ok(opcode);
        return;
      case OP.READ_LE_HOST_SUPPORTED:
        this.ok(opcode, 1, 0);
        return;
      case OP.READ_LOCAL_VERSION: {
        // HCI 5.0 (0x09; the stacks need >= 6), revision, LMP 5.0, manufacturer 0x05f1 (Linux Foundation).
        const r = Buffer.alloc(9);
        r.writeUInt8(0, 0);
        r.writeUInt8(0x09, 1);
        r.writeUInt16LE(0x0001, 2);
        r.writeUInt8(0x09, 4);
        r.writeUInt16LE(0x05f1, 5);
        r.writeUInt16LE(0x0001, 7);
        this.toHost(cmdComplete(opcode, r));
        return;
      }
      case OP.READ_SUPPORTED_COMMANDS:
        this.toHost(cmdComplete(opcode, Buffer.alloc(65)));
        return;
      case OP.READ_BUFFER_SIZE: {
        const r = Buffer.alloc(8);
        r.writeUInt16LE(ACL_BUFFER_LEN, 1);
        r.writeUInt16LE(ACL_BUFFER_NUM, 4);
        this.toHost(cmdComplete(opcode, r));
        return;
      }
      case OP.LE_READ_BUFFER_SIZE: {
        const r = Buffer.alloc(4);
        r.writeUInt16LE(ACL_BUFFER_LEN, 1);
        r.writeUInt8(ACL_BUFFER_NUM, 3);
        this.toHost(cmdComplete(opcode, r));
        return;
      }
      case OP.READ_BD_ADDR:
        this.toHost(cmdComplete(opcode, Buffer.concat([Buffer.from([0]), addrToBuf(this.address)])));
        return;
      case OP.LE_SET_ADV_PARAMS:
        // Interval in 0.625 ms units (bleno: BLENO_ADVERTISING_INTERVAL ms × 1.6).
        this.adv.intervalUs = Math.max(20_000, Math.round(p.readUInt16LE(0) * 625));
        this.ok(opcode);
        return;
      case OP.LE_SET_ADV_ENABLE:
        this.setAdvertising(p[0] === 1);
        this.ok(opcode);
        return;
      case OP.LE_SET_SCAN_ENABLE:
        this.setScanning(p[0] === 1, p[1] === 1);
        this.ok(opcode);
        return;
      case OP.LE_CREATE_CONN: {
        if (this.pendingConnect) {
          this.toHost(cmdStatus(opcode, STATUS.COMMAND_DISALLOWED));
          return;
        }
        const peer = bufToAddr(p.subarray(6, 12));
        const supervisionUs = p.readUInt16LE(19) * 10_000;
        this.pendingConnect = { peer, supervisionUs, session: ++this.connectSession };
        this.toHost(cmdStatus(opcode, STATUS.SUCCESS));
        this.medium.tryConnect(this);
        return;
      }
      case OP.LE_CREATE_CONN_CANCEL: {
        const pending = this.pendingConnect;
        this.pendingConnect = null;
        if (!pending) {
          this.toHost(cmdComplete(opcode, Buffer.from([STATUS.COMMAND_DISALLOWED])));
          return;
        }
        this.ok(opcode);
        this.toHost(
          leConnComplete({
            status: STATUS.UNKNOWN_CONNECTION_ID,
            handle: 0,
            role: 0,
            peerAddress: pending.peer,
            intervalUnits: 0,
            latency: 0,
            supervisionUnits: 0,
          }),
        );
        return;
      }
      case OP.DISCONNECT: {
        const handle = p.readUInt16LE(0);
        const link = this.links.get(handle);
        if (link?.state !== 'up') {
          this.toHost(cmdStatus(opcode, STATUS.UNKNOWN_CONNECTION_ID));
          return;
        }
        this.toHost(cmdStatus(opcode, STATUS.SUCCESS));
        link.terminate(this, p[2] || STATUS.REMOTE_USER_TERMINATED);
        return;
      }
      case OP.LE_CONN_UPDATE: {
        // The phone's OS keeps the interval of the link profile; report it back.
        const handle = p.readUInt16LE(0);
        const link = this.links.get(handle);
        this.toHost(cmdStatus(opcode, link ? STATUS.SUCCESS : STATUS.UNKNOWN_CONNECTION_ID));
        if (link) link.reportParams();
        return;
      }
      case OP.READ_RSSI: {
        const r = Buffer.alloc(4);
        r.writeUInt16LE(p.readUInt16LE(0), 1);
        r.writeInt8(this.rssi, 3);
        this.toHost(cmdComplete(opcode, r));
        return;
      }
      case OP.LE_LTK_NEG_REPLY: {
        const r = Buffer.alloc(3);
        r.writeUInt16LE(p.readUInt16LE(0), 1);
        this.toHost(cmdComplete(opcode, r));
        return;
      }
      case OP.LE_SET_PHY:
        // PHY is the link profile's; accept and keep it.
        this.toHost(cmdStatus(opcode, STATUS.SUCCESS));
        return;
      case OP.LE_START_ENCRYPTION:
        // Pairing/encryption is not emulated (design note §2.3).
        this.toHost(cmdStatus(opcode, STATUS.UNKNOWN_COMMAND));
        return;
      default:
        this.toHost(cmdComplete(opcode, Buffer.from([STATUS.UNKNOWN_COMMAND])));
    }
  }

  setAdvertising(on: boolean): void {
    const now = this.medium.clock.nowUs();
    if (this.adv.enabled) this.counters.advEvents += Math.floor((now - this.adv.sinceUs) / this.adv.intervalUs);
    this.adv.enabled = on;
    this.adv.sinceUs = now;
    if (on) {
      this.adv.session++;
      this.medium.advertisingChanged(this);
    }
  }

  private setScanning(on: boolean, filterDuplicates: boolean): void {
    const wasOn = this.scan.enabled;
    this.scan.enabled = on;
    this.scan.filterDuplicates = filterDuplicates;
    if (on && !wasOn) {
      this.scan.session++;
      this.scan.reported = new Set();
      this.medium.scanningStarted(this);
    }
  }

  private reset(): void {
    this.setAdvertising(false);
    this.scan.enabled = false;
    this.pendingConnect = null;
    for (const link of [...this.links.values()]) link.abandon(this);
  }

  /** The host went away (socket closed, worker terminated). */
  detach(): void {
    if (this.closed) return;
    this.setAdvertising(false);
    this.scan.enabled = false;
    this.pendingConnect = null;
    for (const link of [...this.links.values()]) link.abandon(this);
    this.closed = true;
    this.host?.close?.();
    this.host = null;
    this.medium.removeController(this);
  }
}
