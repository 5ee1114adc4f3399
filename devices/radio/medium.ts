/**
 * The shared "air" between emulated controllers: advertising (ADV_IND + SCAN_RSP) reaches scanners,
 * LE Create Connection becomes a Link at the target's next advertising event, and the faults act here
 * (out of range, link loss after N bytes, profile change, packet loss).
 */

import { mulberry32 } from '../../protocol/random';
import { SimClock, type TimeScale } from './clock';
import { Controller } from './controller';
import type { EnergyParams, RadioEnergy } from './energy';
import { leAdvReport, leConnComplete, STATUS } from './hci';
import { Link, type LinkStats } from './link';
import { type LinkProfile, type LinkProfileName, resolveProfile } from './profiles';

export interface MediumOptions {
  clock?: SimClock;
  timeScale?: TimeScale;
  /** Seed of the medium's RNG (advertising offsets, packet loss). */
  seed?: number;
  /** Profile of links whose peripheral has none set. */
  defaultProfile?: LinkProfileName | LinkProfile;
}

/** mulberry32: small, fast, seedable. */
export function seededRng(seed: number): () => number {
  return mulberry32(seed);
}

export interface LinkInfo {
  central: string;
  peripheral: string;
  profile: LinkProfile;
  state: Link['state'];
  stats: LinkStats;
}

export class Medium {
  readonly clock: SimClock;
  private draw: () => number;
  /** Stable for links that captured it; `reseed` changes what it draws. */
  readonly rng: () => number = () => this.draw();
  private readonly controllers = new Map<string, Controller>();
  private readonly profiles = new Map<string, LinkProfile>();
  private readonly links = new Set<Link>();
  private readonly closedLinks: LinkInfo[] = [];
  /** Addresses out of range; kept by address so a rebooted device is still away. */
  private readonly away = new Set<string>();
  private defaultProfile: LinkProfile;
  private nextAddr = 1;
  private nextHandle = 0x40;

  constructor(opts: MediumOptions = {}) {
    this.clock = opts.clock ?? new SimClock({ timeScale: opts.timeScale ?? 'instant' });
    this.draw = seededRng(opts.seed ?? 1);
    this.defaultProfile = resolveProfile(opts.defaultProfile ?? 'best');
  }

  /** Restart the draws (advertising offsets, loss) from `seed`: each scenario, so a replay repeats them. */
  reseed(seed: number): void {
    this.draw = seededRng(seed);
  }

  /** A new controller (one per bound HCI socket). Address: given, or the next `c0:de:00:00:xx:xx`. */
  createController(address?: string, energy?: EnergyParams): Controller {
    let addr = address?.toLowerCase();
    if (!addr) {
      do {
        const n = this.nextAddr++;
        addr = `c0:de:00:00:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;
      } while (this.controllers.has(addr));
    }
    const old = this.controllers.get(addr);
    if (old && !old.closed)
      throw new Error(`HRN_ERR_BLE_ADDRESS: address ${addr} is already on the air; stop that device first`);
    const c = new Controller(this, addr, energy);
    c.inRange = !this.away.has(addr);
    this.controllers.set(addr, c);
    return c;
  }

  removeController(c: Controller): void {
    if (this.controllers.get(c.address) === c) this.controllers.delete(c.address);
  }

  controller(address: string): Controller | undefined {
    return this.controllers.get(address.toLowerCase());
  }

  // ---- profiles and faults -------------------------------------------------------------------------

  setDefaultProfile(p: LinkProfileName | LinkProfile): void {
    this.defaultProfile = resolveProfile(p);
  }

  /** Profile of links involving `address` (watch). Live links change at once (MTU: next exchange). */
  setProfile(address: string, p: LinkProfileName | LinkProfile): void {
    const prof = resolveProfile(p);
    const prev = this.profiles.get(address.toLowerCase());
    if (prev?.lossRate !== undefined && p && typeof p === 'string') prof.lossRate = prev.lossRate;
    this.profiles.set(address.toLowerCase(), prof);
    for (const l of this.linksOf(address)) l.update({ ...prof });
  }

  profileFor(address: string): LinkProfile {
    return { ...(this.profiles.get(address.toLowerCase()) ?? this.defaultProfile) };
  }

  /** Packet error rate on links of `address` (0..1). */
  setLoss(address: string, rate: number): void {
    const p = this.profileFor(address);
    p.lossRate = rate;
    this.profiles.set(address.toLowerCase(), p);
    for (const l of this.linksOf(address)) l.update({ ...l.profile, lossRate: rate });
  }

  /** Out of range: links break (supervision timeout), advertising is not heard, connects wait. */
  setInRange(address: string, inRange: boolean): void {
    if (inRange) this.away.delete(address.toLowerCase());
    else this.away.add(address.toLowerCase());
    const c = this.controller(address);
    if (!c) return;
    c.inRange = inRange;
    if (!inRange) {
      for (const l of this.linksOf(address)) l.lose();
    } else {
      this.advertisingChanged(c);
      for (const other of this.controllers.values()) {
        if (other.pendingConnect) this.tryConnect(other);
        if (other.adv.enabled && other !== c) this.reportTo(c, other);
      }
    }
  }

  /** Lose the link(s) of `address` after `afterBytes` more payload bytes (0: now). */
  dropLink(address: string, afterBytes = 0): number {
    const ls = this.linksOf(address).filter((l) => l.state === 'up');
    for (const l of ls) l.dropAfterBytes(afterBytes);
    return ls.length;
  }

  linksOf(address: string): Link[] {
    const a = address.toLowerCase();
    return [...this.links].filter((l) => l.ends[0].address === a || l.ends[1].address === a);
  }

  linkInfo(address?: string): LinkInfo[] {
    const live = (address ? this.linksOf(address) : [...this.links]).map((l) => this.info(l));
    const closed = address
      ? this.closedLinks.filter((i) => i.central === address.toLowerCase() || i.peripheral === address.toLowerCase())
      : this.closedLinks;
    return [...closed, ...live];
  }

  energy(address: string): RadioEnergy | undefined {
    return this.controller(address)?.energy();
  }

  close(): void {
    for (const c of [...this.controllers.values()]) c.detach();
    this.clock.close();
  }

  // ---- advertising and scanning ------------------------------------------------------------------

  private visible(a: Controller, b: Controller): boolean {
    return a.inRange && b.inRange && !a.closed && !b.closed;
  }

  advertisingChanged(adv: Controller): void {
    if (!adv.adv.enabled) return;
    for (const s of this.controllers.values()) {
      if (s !== adv && s.scan.enabled) this.reportTo(s, adv);
      if (s.pendingConnect?.peer === adv.address) this.tryConnect(s);
    }
  }

  scanningStarted(scanner: Controller): void {
    for (const a of this.controllers.values()) if (a !== scanner && a.adv.enabled) this.reportTo(scanner, a);
  }

  /** Time to the advertiser's next advertising event: a random phase plus advDelay (0-10 ms). */
  private nextAdvEventUs(adv: Controller): number {
    return Math.round(this.rng() * adv.adv.intervalUs + this.rng() * 10_000);
  }

  private reportTo(scanner: Controller, adv: Controller): void {
    if (!this.visible(scanner, adv) || !adv.adv.enabled || !scanner.scan.enabled) return;
    if (scanner.scan.filterDuplicates && scanner.scan.reported.has(adv.address)) return;
    const scanSession = scanner.scan.session;
    const advSession = adv.adv.session;
    this.clock.after(this.nextAdvEventUs(adv), () => {
      if (scanner.scan.session !== scanSession || !scanner.scan.enabled) return;
      if (adv.adv.session !== advSession || !adv.adv.enabled || !this.visible(scanner, adv)) return;
      if (scanner.scan.filterDuplicates) {
        if (scanner.scan.reported.has(adv.address)) return;
        scanner.scan.reported.add(adv.address);
      }
      scanner.toHostNow(leAdvReport(0x00, adv.address, adv.adv.advData, adv.rssi));
      // Active scanning: SCAN_REQ/SCAN_RSP follow in the same advertising event (~0.5 ms later).
      this.clock.after(500, () => {
        if (scanner.scan.session === scanSession && scanner.scan.enabled)
          scanner.toHostNow(leAdvReport(0x04, adv.address, adv.adv.scanRsp, adv.rssi));
      });
      if (!scanner.scan.filterDuplicates) this.reportTo(scanner, adv);
    });
  }

  // ---- connections ---------------------------------------------------------------------------------

  tryConnect(initiator: Controller): void {
    const pending = initiator.pendingConnect;
    if (!pending) return;
    const target = this.controller(pending.peer);
    if (!target?.adv.enabled || !this.visible(initiator, target)) return; // wait for it
    const advSession = target.adv.session;
    this.clock.after(this.nextAdvEventUs(target), () => {
      if (initiator.pendingConnect !== pending) return;
      if (!target.adv.enabled || target.adv.session !== advSession || !this.visible(initiator, target)) {
        this.tryConnect(initiator);
        return;
      }
      initiator.pendingConnect = null;
      target.setAdvertising(false); // a connectable advertiser stops advertising once connected
      this.establish(initiator, target, pending.supervisionUs);
    });
  }

  private establish(central: Controller, peripheral: Controller, supervisionUs: number): void {
    const profile = this.profileFor(peripheral.address);
    const handles: [number, number] = [this.nextHandle++ & 0x0eff, this.nextHandle++ & 0x0eff];
    const link = new Link(
      this.clock,
      this.rng,
      central,
      peripheral,
      handles,
      profile,
      profile.supervisionTimeoutMs ? profile.supervisionTimeoutMs * 1000 : supervisionUs || 720_000,
      (l) => {
        this.links.delete(l);
        this.closedLinks.push(this.info(l));
        for (const end of l.ends) end.absorb(l);
      },
    );
    this.links.add(link);
    central.links.set(handles[0], link);
    peripheral.links.set(handles[1], link);
    const common = { status: STATUS.SUCCESS, latency: 0, intervalUnits: link.intervalUnits };
    const supervisionUnits = Math.round(link.supervisionUs / 10_000);
    central.toHostNow(
      leConnComplete({ ...common, handle: handles[0], role: 0, peerAddress: peripheral.address, supervisionUnits }),
    );
    peripheral.toHostNow(
      leConnComplete({ ...common, handle: handles[1], role: 1, peerAddress: central.address, supervisionUnits }),
    );
  }

  private info(l: Link): LinkInfo {
    return {
      central: l.ends[0].address,
      peripheral: l.ends[1].address,
      profile: { ...l.profile },
      state: l.state,
      stats: { ...l.stats, pdus: [...l.stats.pdus], bytes: [...l.stats.bytes] },
    };
  }
}
