/**
 * One BLE connection between two emulated controllers, as discrete connection events on the simulated
 * clock. Per event: up to `pktsPerEvent` packet pairs (central PDU, IFS, peripheral PDU, IFS) that fit
 * the interval; each LL PDU carries at most `llPayload` bytes. Received fragments reach the hosts at the
 * end of the event, so an answer goes out at the earliest in the next event (write request = 2 CI).
 * A lost pair ends the event and its PDUs are sent again in the next one (SN/NESN: never duplicated).
 */
import type { SimClock, TimerHandle } from './clock';
import type { Controller } from './controller';
import { type EnergyCounters, emptyCounters } from './energy';
import { aclPacket, disconnComplete, leConnUpdateComplete, numCompleted, PB_CONT, PB_START, STATUS } from './hci';
import { connIntervalUs, type LinkProfile, pairUs, pduAirUs, T_IFS_US } from './profiles';

interface Pdu {
  data: Buffer;
  start: boolean;
  /** Last LL PDU of a host ACL packet: its buffer is freed (Number Of Completed Packets) when acked. */
  completesHci: boolean;
}

export interface LinkStats {
  events: number;
  dataEvents: number;
  pdus: [number, number];
  bytes: [number, number];
  lostPairs: number;
  startedUs: number;
  endedUs: number | null;
  /** Anchor of the first event that carried data, and end of the last one (simulated µs). */
  firstDataUs: number | null;
  lastDataEndUs: number | null;
}

/** FIFO with O(1) shift (Array#shift is O(n) on long queues: a 200 KB upload queues 10k PDUs). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get length() {
    return this.items.length - this.head;
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  push(x: T) {
    this.items.push(x);
  }
  shift(): T | undefined {
    const x = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
  clear() {
    this.items = [];
    this.head = 0;
  }
}

/** Completed ACL buffers reported together (a quarter of the 64 the controller announces). */
const NOCP_BATCH = 16;

const CENTRAL = 0;
const PERIPH = 1;

export class Link {
  readonly ends: [Controller, Controller];
  readonly handles: [number, number];
  private readonly q: [Fifo<Pdu>, Fifo<Pdu>] = [new Fifo(), new Fifo()];
  private ciUs: number;
  private anchor0: number;
  private lastAnchor: number | null = null;
  private scheduled: TimerHandle | null = null;
  private busySince: number | null = null;
  private lastDataEnd = 0;
  private dropAfter: number | null = null;
  private carried = 0;
  private readonly unreported: [number, number] = [0, 0];
  /** Energy counters per end (central, peripheral). */
  readonly counters: [EnergyCounters, EnergyCounters] = [emptyCounters(), emptyCounters()];
  readonly stats: LinkStats;
  state: 'up' | 'broken' | 'closed' = 'up';

  constructor(
    private readonly clock: SimClock,
    private readonly rng: () => number,
    central: Controller,
    peripheral: Controller,
    handles: [number, number],
    public profile: LinkProfile,
    readonly supervisionUs: number,
    private readonly onClosed: (link: Link) => void,
  ) {
    this.ends = [central, peripheral];
    this.handles = handles;
    this.ciUs = connIntervalUs(profile);
    // CONNECT_IND + transmit window delay (1.25 ms) before the first anchor.
    this.anchor0 = clock.nowUs() + 1250;
    this.stats = {
      events: 0,
      dataEvents: 0,
      pdus: [0, 0],
      bytes: [0, 0],
      lostPairs: 0,
      startedUs: clock.nowUs(),
      endedUs: null,
      firstDataUs: null,
      lastDataEndUs: null,
    };
  }

  get intervalUnits(): number {
    return Math.round(this.ciUs / 1250);
  }

  side(c: Controller): 0 | 1 {
    return this.ends[CENTRAL] === c ? CENTRAL : PERIPH;
  }
  peerOf(c: Controller): Controller {
    return this.ends[1 - this.side(c)];
  }
  handleOf(c: Controller): number {
    return this.handles[this.side(c)];
  }

  /**
   * A host ACL packet (HCI fragment of an L2CAP PDU) to send. The LL splits it into PDUs of at most
   * `llPayload` bytes. The ATT MTU the link profile allows is applied here, on the air: the MTU field of
   * an Exchange MTU request/response is clamped (noble always asks 256; see README "MTU").
   */
  send(from: Controller, startOfL2cap: boolean, data: Buffer): void {
    if (this.state !== 'up') return;
    const side = this.side(from);
    if (startOfL2cap && data.length >= 7 && data.readUInt16LE(2) === 0x0004 && (data[4] === 0x02 || data[4] === 0x03)) {
      data = Buffer.from(data);
      data.writeUInt16LE(Math.min(data.readUInt16LE(5), this.profile.attMtu), 5);
    }
    const ll = this.profile.llPayload;
    for (let off = 0; off < data.length || off === 0; off += ll) {
      const chunk = data.subarray(off, off + ll);
      this.q[side].push({
        data: chunk,
        start: startOfL2cap && off === 0,
        completesHci: off + ll >= data.length,
      });
      if (data.length === 0) break;
    }
    this.ensureScheduled();
  }

  /** Change link parameters mid-connection (fault "profile change"). MTU applies from the next exchange. */
  update(profile: LinkProfile): void {
    const oldCi = this.ciUs;
    this.profile = profile;
    const ci = connIntervalUs(profile);
    if (ci !== oldCi && this.state === 'up') {
      // The new interval starts at the next anchor (LL connection update procedure, instant simplified).
      const next = this.nextAnchor();
      this.anchor0 = next;
      this.lastAnchor = null;
      this.ciUs = ci;
      for (let s = 0; s < 2; s++) {
        this.ends[s].toHost(leConnUpdateComplete(this.handles[s], this.intervalUnits, 0, this.supervisionUs / 10_000));
      }
      if (this.scheduled) {
        this.scheduled.cancel();
        this.scheduled = null;
        this.ensureScheduled();
      }
    }
  }

  /** Tell both hosts the current connection parameters (LE Connection Update Complete). */
  reportParams(): void {
    if (this.state !== 'up') return;
    for (let s = 0; s < 2; s++) {
      this.ends[s].toHost(leConnUpdateComplete(this.handles[s], this.intervalUnits, 0, this.supervisionUs / 10_000));
    }
  }

  /** Fault: lose the link after `bytes` more payload bytes have crossed it (0 = now). */
  dropAfterBytes(bytes: number): void {
    this.dropAfter = this.carried + Math.max(0, bytes);
    if (bytes <= 0) this.lose();
  }

  /** Both ends stop hearing each other; the supervision timeout then reports it to both hosts. */
  lose(): void {
    if (this.state !== 'up') return;
    this.state = 'broken';
    this.scheduled?.cancel();
    this.scheduled = null;
    this.closeBurst();
    this.clock.after(this.supervisionUs, () => this.close(STATUS.CONNECTION_TIMEOUT, STATUS.CONNECTION_TIMEOUT));
  }

  /** Host asked to disconnect: LL_TERMINATE_IND goes out in the next event and is acked. */
  terminate(by: Controller, reason: number): void {
    if (this.state !== 'up') return;
    const at = this.nextAnchor() + pairUs(this.profile.phy, 2, 0);
    this.state = 'broken';
    this.scheduled?.cancel();
    this.scheduled = null;
    this.closeBurst();
    const side = this.side(by);
    this.clock.at(at, () => {
      const reasons: [number, number] = [0, 0];
      reasons[side] = STATUS.LOCAL_HOST_TERMINATED;
      reasons[1 - side] = reason;
      this.close(reasons[0], reasons[1]);
    });
  }

  /** One end vanished (controller reset, worker terminated): the other times out. */
  abandon(gone: Controller): void {
    const other = this.peerOf(gone);
    if (this.state === 'closed') return;
    this.state = 'broken';
    this.scheduled?.cancel();
    this.closeBurst();
    const timeout = STATUS.CONNECTION_TIMEOUT;
    this.clock.after(this.supervisionUs, () =>
      this.ends[0] === other ? this.close(timeout, -1) : this.close(-1, timeout),
    );
  }

  private close(reasonCentral: number, reasonPeriph: number): void {
    if (this.state === 'closed') return;
    this.accountIdle(this.clock.nowUs());
    this.state = 'closed';
    this.stats.endedUs = this.clock.nowUs();
    for (let s = 0; s < 2; s++) {
      this.counters[s].connectedUs += this.clock.nowUs() - this.stats.startedUs;
      const reason = s === 0 ? reasonCentral : reasonPeriph;
      if (reason >= 0) this.ends[s].toHost(disconnComplete(this.handles[s], reason));
    }
    this.q[0].clear();
    this.q[1].clear();
    this.onClosed(this);
  }

  /** Counters including the idle (empty) events up to now, without changing state. */
  countersNow(side: 0 | 1): EnergyCounters {
    const c = { ...this.counters[side] };
    if (this.state !== 'closed') {
      const now = this.clock.nowUs();
      const n = this.idleEventsUntil(now);
      const empty = pairUs(this.profile.phy, 0, 0);
      c.connEvents += n;
      c.radioUs += n * empty;
      c.txUs += n * pduAirUs(this.profile.phy, 0);
      c.rxUs += n * pduAirUs(this.profile.phy, 0);
      c.connectedUs += now - this.stats.startedUs;
      if (this.busySince !== null) c.awakeUs += Math.max(0, this.lastDataEnd - this.busySince);
    }
    return c;
  }

  private nextAnchor(): number {
    const now = this.clock.nowUs();
    const k = Math.max(0, Math.ceil((now - this.anchor0) / this.ciUs));
    let a = this.anchor0 + k * this.ciUs;
    if (this.lastAnchor !== null && a <= this.lastAnchor) a = this.lastAnchor + this.ciUs;
    return a;
  }

  private ensureScheduled(): void {
    if (this.scheduled || this.state !== 'up') return;
    const at = this.nextAnchor();
    this.scheduled = this.clock.at(at, () => this.runEvent(at));
  }

  private idleEventsUntil(t: number): number {
    if (this.state === 'closed') return 0;
    const from = this.lastAnchor ?? this.anchor0 - this.ciUs;
    return Math.max(0, Math.floor((t - from) / this.ciUs));
  }

  private accountIdle(anchor: number): void {
    const from = this.lastAnchor ?? this.anchor0 - this.ciUs;
    const n = Math.max(0, Math.round((anchor - from) / this.ciUs) - 1);
    if (n <= 0) return;
    const empty = pairUs(this.profile.phy, 0, 0);
    const air = pduAirUs(this.profile.phy, 0);
    for (const c of this.counters) {
      c.connEvents += n;
      c.radioUs += n * empty;
      c.txUs += n * air;
      c.rxUs += n * air;
    }
    this.stats.events += n;
  }

  private closeBurst(): void {
    if (this.busySince !== null) {
      for (const c of this.counters) c.awakeUs += Math.max(0, this.lastDataEnd - this.busySince);
      this.busySince = null;
    }
  }

  private runEvent(anchor: number): void {
    this.scheduled = null;
    if (this.state !== 'up') return;
    this.accountIdle(anchor);
    this.lastAnchor = anchor;
    const p = this.profile;
    const rx: [Pdu[], Pdu[]] = [[], []]; // rx[s] = PDUs received by side s
    const completed: [number, number] = [0, 0];
    let used = 0;
    let pairs = 0;
    let moved = 0;
    let lost = false;
    while (pairs < p.pktsPerEvent) {
      const c = this.q[CENTRAL].peek();
      const r = this.q[PERIPH].peek();
      if (pairs > 0 && !c && !r) break; // MD = 0 on both sides
      const cs = c?.data.length ?? 0;
      const rs = r?.data.length ?? 0;
      const d = pairUs(p.phy, cs, rs);
      if (pairs > 0 && used + d > this.ciUs) break; // the event may not run into the next anchor
      used += d;
      pairs++;
      const airC = pduAirUs(p.phy, cs);
      const airR = pduAirUs(p.phy, rs);
      this.counters[CENTRAL].radioUs += d;
      this.counters[PERIPH].radioUs += d;
      this.counters[CENTRAL].txUs += airC;
      this.counters[CENTRAL].rxUs += airR;
      this.counters[PERIPH].txUs += airR;
      this.counters[PERIPH].rxUs += airC;
      if ((p.lossRate ?? 0) > 0 && (c || r) && this.rng() < (p.lossRate ?? 0)) {
        lost = true;
        this.stats.lostPairs++;
        break;
      }
      for (const [s, pdu] of [
        [CENTRAL, c],
        [PERIPH, r],
      ] as const) {
        if (!pdu) continue;
        this.q[s].shift();
        rx[1 - s].push(pdu);
        if (pdu.completesHci) completed[s]++;
        this.stats.pdus[s]++;
        this.stats.bytes[s] += pdu.data.length;
        this.counters[s].bytesTx += pdu.data.length;
        this.counters[1 - s].bytesRx += pdu.data.length;
        moved += pdu.data.length;
      }
      if (this.dropAfter !== null && this.carried + moved >= this.dropAfter) break;
    }
    for (const c of this.counters) c.connEvents++;
    this.stats.events++;
    const end = anchor + used;
    if (moved > 0) {
      this.stats.dataEvents++;
      this.stats.firstDataUs ??= anchor;
      this.stats.lastDataEndUs = end;
      if (this.busySince === null || anchor - this.lastDataEnd > 2 * this.ciUs + T_IFS_US) {
        this.closeBurst();
        this.busySince = anchor;
      }
      this.lastDataEnd = end;
    }
    this.carried += moved;
    const dropNow = this.dropAfter !== null && this.carried >= this.dropAfter;
    this.clock.at(end, () => {
      if (this.state === 'closed') return;
      for (let s = 0; s < 2; s++) {
        const host = this.ends[s];
        for (const pdu of rx[s]) host.toHostNow(aclPacket(this.handles[s], pdu.start ? PB_START : PB_CONT, pdu.data));
        // Number Of Completed Packets is batched, as controllers do: once NOCP_BATCH buffers are free, or
        // when this side has nothing left queued (so a host is never left waiting for credits).
        this.unreported[s] += completed[s];
        if (this.unreported[s] > 0 && (this.unreported[s] >= NOCP_BATCH || this.q[s].length === 0)) {
          host.toHostNow(numCompleted(this.handles[s], this.unreported[s]));
          this.unreported[s] = 0;
        }
      }
      if (dropNow) {
        this.dropAfter = null;
        this.lose();
        return;
      }
      if (lost || this.q[0].length || this.q[1].length) this.ensureScheduled();
    });
  }
}
