/**
 * WatchBridge: the phone side of RFC 0006 §2.2.4 as a noble central. It finds the watch, stays
 * connected (reconnecting whenever the watch is back), sends context packs (queued while the watch is
 * unreachable; only the newest one matters) and receives activity packs, handing each to the caller
 * exactly once, and telling the watch `done` only after the caller's handler has stored it.
 *
 * The same class drives a real watch on a real adapter: without the virtual radio, noble uses the
 * native HCI socket. Timeouts use the injected clock (simulated time on the virtual radio).
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../../protocol/clock';
import { ENERGY_PROFILES, type EnergyParams } from '../radio/energy';
import { currentRadio, loadNoble, nextSocketOptions } from '../radio/install';
import type { TransferRecord } from './peripheral';
import {
  ACTIVITY_PACK,
  type ActivityPack,
  BATTERY_LEVEL,
  BATTERY_SERVICE,
  BlockReceiver,
  BlockSender,
  CONTEXT_PACK,
  CONTROL_POINT,
  type ContextPack,
  type ControlMessage,
  decodeActivityPack,
  decodeBlock,
  decodeControl,
  encodeContextPack,
  encodeControl,
  FrameReader,
  frameChunks,
  metaFor,
  type TransferMeta,
  WATCH_SYNC_SERVICE,
} from './protocol';

export type ActivityHandler = (pack: ActivityPack) => Promise<void> | void;
export type ContextProvider = (have: number | null) => Promise<ContextPack | undefined> | ContextPack | undefined;

export interface WatchBridgeOptions {
  /** Clock for transfer timings (default: the virtual radio's simulated clock, else wall time). */
  clock?: Clock;
  /** A noble instance to use (default: a new one on this thread's radio). */
  noble?: any;
  /** Only connect to this watch (BD address); default: the first watch advertising the sync service. */
  watchAddress?: string;
  /** Energy model of the phone's radio on the virtual air (default: `phone-radio`). */
  energy?: EnergyParams;
  /** Activity ids already stored by the phone (survives a bridge restart), to never deliver twice. */
  isDelivered?: (activityId: string) => boolean;
  log?: (line: string) => void;
}

export interface BridgeTransferRecord extends Omit<TransferRecord, 'direction'> {
  direction: 'to-watch' | 'from-watch';
}

interface Conn {
  peripheral: any;
  ctrl: any;
  ctx: any;
  maxValue: number;
  closed: Promise<void>;
}

const wallClock: Clock = {
  timeScale: 1,
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

class LinkLost extends Error {
  constructor() {
    super('HRN_ERR_WATCH_LINK: BLE link to the watch was lost');
  }
}

export class WatchBridge extends EventEmitter {
  private readonly noble: any;
  private readonly clock: Clock;
  private conn: Conn | null = null;
  private isReachable = false;
  private stopped = false;
  private started = false;
  private peripheral: any = null;
  private helloMsg: Extract<ControlMessage, { t: 'hello' }> | null = null;
  private readonly handlers: ActivityHandler[] = [];
  private contextProvider: ContextProvider | null = null;
  private latest: { pack: ContextPack; bytes: Buffer; meta: TransferMeta } | null = null;
  private deliveredContextVersion: number | null = null;
  private sender: BlockSender | null = null;
  private sending: Promise<boolean> | null = null;
  private readonly receivers = new Map<string, BlockReceiver>();
  private readonly receiverStarted = new Map<string, { at: number; from: number }>();
  private readonly delivered = new Set<string>();
  private readonly waitingForHandler: { meta: TransferMeta; pack: ActivityPack }[] = [];
  private readonly ctrlReader = new FrameReader((b) => this.onControl(decodeControl(b)));
  private readonly actReader = new FrameReader((b) => this.onActivityBlock(b));
  readonly transfers: BridgeTransferRecord[] = [];
  battery: number | null = null;

  constructor(private readonly opts: WatchBridgeOptions = {}) {
    super();
    if (!opts.noble && currentRadio()) nextSocketOptions({ energy: opts.energy ?? ENERGY_PROFILES['phone-radio'] });
    this.noble = opts.noble ?? loadNoble();
    this.clock = opts.clock ?? currentRadio()?.clock ?? wallClock;
  }

  /** True while connected, set up, and the watch has said hello. */
  get reachable(): boolean {
    return this.isReachable;
  }
  get watch(): { address: string; hello: ControlMessage | null } | null {
    return this.peripheral ? { address: this.peripheral.address, hello: this.helloMsg } : null;
  }
  get mtu(): number | null {
    return this.conn ? this.conn.maxValue + 3 : null;
  }

  onReachability(cb: (reachable: boolean) => void): () => void {
    this.on('reachability', cb);
    return () => this.off('reachability', cb);
  }

  /** Handler for each activity pack, called once per activityId; the watch drops it once this resolves. */
  onActivityPack(handler: ActivityHandler): () => void {
    this.handlers.push(handler);
    const backlog = this.waitingForHandler.splice(0);
    for (const b of backlog) void this.deliverActivity(b.meta, b.pack);
    return () => {
      const i = this.handlers.indexOf(handler);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  /** Builds a context pack when the watch asks for one (`request_context`: missing or stale pack). */
  onContextRequest(provider: ContextProvider): void {
    this.contextProvider = provider;
  }

  /** Power on, scan for the watch and keep connecting to it. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.noble.on('discover', (p: any) => this.onDiscover(p));
    await new Promise<void>((resolve, reject) => {
      const onState = (s: string) => {
        if (s === 'poweredOn') {
          this.noble.off('stateChange', onState);
          this.noble.startScanningAsync([WATCH_SYNC_SERVICE], false).then(resolve, reject);
        } else if (s === 'unsupported' || s === 'unauthorized') {
          reject(new Error(`HRN_ERR_WATCH_RADIO: phone adapter ${s}`));
        }
      };
      this.noble.on('stateChange', onState);
      if (this.noble.state === 'poweredOn') onState('poweredOn');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sender?.abort(new LinkLost());
    const p = this.conn?.peripheral;
    if (p && p.state === 'connected') {
      await Promise.race([p.disconnectAsync(), this.clock.sleep(2000)]);
    } else if (p && p.state === 'connecting') {
      p.cancelConnect();
    }
    try {
      await this.noble.stopScanningAsync?.();
    } catch {
      // already stopped
    }
    this.setReachable(false);
  }

  /** Resolves when the watch is reachable (simulated-time timeout). */
  async waitUntilReachable(timeoutMs = 60_000): Promise<void> {
    if (this.isReachable) return;
    await new Promise<void>((resolve, reject) => {
      const ctrl = new AbortController();
      const on = (r: boolean) => {
        if (!r) return;
        this.off('reachability', on);
        ctrl.abort();
        resolve();
      };
      this.on('reachability', on);
      this.clock.sleep(timeoutMs, ctrl.signal).then(
        () => {
          this.off('reachability', on);
          reject(new Error(`HRN_ERR_WATCH_UNREACHABLE: watch not reachable within ${timeoutMs} ms (simulated)`));
        },
        () => {},
      );
    });
  }

  /**
   * Send a context pack. Returns true when the watch has applied it (or already had it), false when it
   * was queued (watch unreachable, or the link broke: it resumes on the next connection).
   */
  async sendContextPack(pack: ContextPack): Promise<boolean> {
    if (!this.latest || pack.version >= this.latest.pack.version) {
      const bytes = encodeContextPack(pack);
      this.latest = { pack, bytes, meta: metaFor('context', `context-${pack.version}`, bytes, pack.version) };
    }
    if (!this.isReachable) return false;
    return this.flushContext();
  }

  /** Context pack waiting for the watch (null when none). */
  get queuedContextVersion(): number | null {
    if (!this.latest) return null;
    return this.deliveredContextVersion !== null && this.deliveredContextVersion >= this.latest.pack.version
      ? null
      : this.latest.pack.version;
  }

  // ---- connection ----------------------------------------------------------------------------------

  private onDiscover(p: any): void {
    if (this.peripheral || this.stopped) return;
    if (this.opts.watchAddress && p.address?.toLowerCase() !== this.opts.watchAddress.toLowerCase()) return;
    this.peripheral = p;
    this.noble.stopScanningAsync().catch(() => {});
    void this.connectLoop(p);
  }

  private async connectLoop(p: any): Promise<void> {
    while (!this.stopped) {
      const closed = new Promise<void>((r) => p.once('disconnect', () => r()));
      try {
        // Waits (no timeout, like a phone OS) until the watch advertises within range again.
        await p.connectAsync();
        if (this.stopped) return;
        await this.setUp(p, closed);
        await closed;
      } catch (err) {
        if (!(err instanceof LinkLost)) this.log(`connect failed: ${(err as Error).message}`);
        if (p.state === 'connected') await Promise.race([closed, this.clock.sleep(1000)]);
      }
      this.onLinkDown();
      if (!this.stopped) await this.clock.sleep(50);
    }
  }

  private async setUp(p: any, closed: Promise<void>): Promise<void> {
    const guard = <T>(x: Promise<T>): Promise<T> =>
      Promise.race([
        x,
        closed.then(() => {
          throw new LinkLost();
        }),
      ]);
    const { characteristics } = await guard(
      p.discoverSomeServicesAndCharacteristicsAsync(
        [WATCH_SYNC_SERVICE, BATTERY_SERVICE],
        [CONTROL_POINT, CONTEXT_PACK, ACTIVITY_PACK, BATTERY_LEVEL],
      ) as Promise<{ characteristics: any[] }>,
    );
    const by = (u: string) => characteristics.find((c: any) => c.uuid === u);
    const ctrl = by(CONTROL_POINT);
    const ctx = by(CONTEXT_PACK);
    const act = by(ACTIVITY_PACK);
    const batt = by(BATTERY_LEVEL);
    if (!ctrl || !ctx || !act) throw new Error('HRN_ERR_WATCH_GATT: watch sync service is incomplete');
    this.ctrlReader.reset();
    this.actReader.reset();
    this.helloMsg = null;
    this.conn = { peripheral: p, ctrl, ctx, maxValue: (p.mtu ?? 23) - 3, closed };
    ctrl.on('data', (d: Buffer) => this.ctrlReader.push(d));
    act.on('data', (d: Buffer) => this.actReader.push(d));
    if (batt) {
      batt.on('data', (d: Buffer) => {
        this.battery = d[0];
        this.emit('battery', d[0]);
      });
      await guard(batt.subscribeAsync());
    }
    await guard(act.subscribeAsync());
    await guard(ctrl.subscribeAsync());
    if (batt) this.battery = (await guard(batt.readAsync() as Promise<Buffer>))[0];
  }

  private onLinkDown(): void {
    this.conn = null;
    this.helloMsg = null;
    this.sender?.abort(new LinkLost());
    this.setReachable(false);
    for (const [id, r] of this.receivers) {
      const s = this.receiverStarted.get(id);
      if (s) this.record(r.meta, 'from-watch', s.at, s.from, 'interrupted');
      this.receiverStarted.delete(id);
    }
  }

  private setReachable(r: boolean): void {
    if (this.isReachable === r) return;
    this.isReachable = r;
    this.emit('reachability', r);
  }

  private write(char: any, body: Buffer): void {
    const c = this.conn;
    if (!c) return;
    for (const chunk of frameChunks(body, c.maxValue)) char.write(chunk, true);
  }

  private sendControl(m: ControlMessage): void {
    if (this.conn) this.write(this.conn.ctrl, encodeControl(m));
  }

  // ---- control -------------------------------------------------------------------------------------

  private onControl(m: ControlMessage): void {
    switch (m.t) {
      case 'hello':
        this.helloMsg = m;
        this.battery = m.battery;
        // The watch's word is the truth: a watch that lost its store (reboot in memory) says null.
        this.deliveredContextVersion = m.contextVersion;
        this.setReachable(true);
        if (this.queuedContextVersion !== null) void this.flushContext();
        return;
      case 'request_context':
        void this.onContextRequested(m.have);
        return;
      case 'offer':
        if (m.meta.kind === 'activity') this.onActivityOffer(m.meta);
        return;
      default:
        this.sender?.onControl(m);
    }
  }

  private async onContextRequested(have: number | null): Promise<void> {
    this.emit('contextRequested', have);
    const pack = this.contextProvider ? await this.contextProvider(have) : this.latest?.pack;
    if (pack && (have === null || pack.version > have)) await this.sendContextPack(pack);
  }

  /** Send the newest context pack if the watch does not have it; one transfer at a time. */
  private flushContext(): Promise<boolean> {
    if (this.sending) return this.sending.then(() => (this.queuedContextVersion === null ? true : this.flushContext()));
    const run = async (): Promise<boolean> => {
      while (this.latest && this.queuedContextVersion !== null && this.isReachable) {
        const { meta, bytes, pack } = this.latest;
        const sender = new BlockSender(meta, bytes, {
          sendControl: (m) => this.sendControl(m),
          sendData: (frame) => this.conn && this.write(this.conn.ctx, frame),
        });
        this.sender = sender;
        const started = this.clock.now();
        try {
          const outcome = await sender.run();
          this.deliveredContextVersion = Math.max(this.deliveredContextVersion ?? 0, pack.version);
          const rec = this.record(meta, 'to-watch', started, 0, outcome === 'done' ? 'done' : 'skipped');
          this.emit('contextDelivered', rec);
        } catch {
          this.record(meta, 'to-watch', started, 0, 'interrupted');
          return false;
        } finally {
          if (this.sender === sender) this.sender = null;
        }
      }
      return this.queuedContextVersion === null;
    };
    this.sending = run().finally(() => {
      this.sending = null;
    });
    return this.sending;
  }

  // ---- activity packs --------------------------------------------------------------------------------

  private onActivityOffer(meta: TransferMeta): void {
    if (this.delivered.has(meta.id) || this.opts.isDelivered?.(meta.id)) {
      this.sendControl({ t: 'skip', id: meta.id, reason: 'already stored' });
      return;
    }
    let r = this.receivers.get(meta.id);
    if (!r || r.meta.crc !== meta.crc) {
      r = new BlockReceiver(meta);
      this.receivers.set(meta.id, r);
    }
    const from = r.firstMissing();
    this.receiverStarted.set(meta.id, { at: this.clock.now(), from });
    this.sendControl({ t: 'accept', id: meta.id, from });
  }

  private onActivityBlock(frame: Buffer): void {
    const block = decodeBlock(frame);
    const r = [...this.receivers.values()].find((x) => x.meta.crc === block.tag);
    if (!r) return;
    this.sendControl(r.onBlock(block));
    if (!r.complete) return;
    this.receivers.delete(r.meta.id);
    let pack: ActivityPack;
    try {
      pack = decodeActivityPack(r.assemble());
    } catch (err) {
      this.sendControl({ t: 'fail', id: r.meta.id, reason: (err as Error).message });
      return;
    }
    if (this.handlers.length === 0) {
      this.waitingForHandler.push({ meta: r.meta, pack });
      return;
    }
    void this.deliverActivity(r.meta, pack);
  }

  private async deliverActivity(meta: TransferMeta, pack: ActivityPack): Promise<void> {
    if (this.delivered.has(meta.id)) {
      this.sendControl({ t: 'done', id: meta.id });
      return;
    }
    try {
      for (const h of this.handlers) await h(pack);
    } catch (err) {
      this.sendControl({ t: 'fail', id: meta.id, reason: `phone could not store it: ${(err as Error).message}` });
      return;
    }
    this.delivered.add(meta.id);
    this.sendControl({ t: 'done', id: meta.id });
    const s = this.receiverStarted.get(meta.id);
    this.receiverStarted.delete(meta.id);
    const rec = this.record(meta, 'from-watch', s?.at ?? this.clock.now(), s?.from ?? 0, 'done');
    this.emit('activity', rec, pack);
  }

  private record(
    meta: TransferMeta,
    direction: BridgeTransferRecord['direction'],
    startedAt: number,
    resumedFrom: number,
    outcome: TransferRecord['outcome'],
  ): BridgeTransferRecord {
    const endedAt = this.clock.now();
    const rec: BridgeTransferRecord = {
      id: meta.id,
      kind: meta.kind,
      direction,
      bytes: meta.size,
      startedAt,
      endedAt,
      simMs: endedAt - startedAt,
      resumedFrom,
      outcome,
    };
    this.transfers.push(rec);
    return rec;
  }

  private log(line: string): void {
    this.opts.log?.(`[watch-bridge] ${line}`);
  }
}
