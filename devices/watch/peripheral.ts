/**
 * The simulated watch's sync manager on bleno (one per thread: bleno is a module singleton). It serves
 * the watch sync service and the Battery Service, applies context packs and uploads queued activity
 * packs whenever a phone is connected. Time comes from the injected clock (the hub's simulated clock).
 */
import type { Clock } from '../../protocol/clock';
import { summarizeFit } from './fit';
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
  decodeBlock,
  decodeContextPack,
  decodeControl,
  encodeActivityPack,
  encodeControl,
  FrameReader,
  frameChunks,
  metaFor,
  PROTOCOL_VERSION,
  type TransferMeta,
  WATCH_SYNC_SERVICE,
} from './protocol';
import type { QueuedActivity, WatchStore } from './store';

export interface TransferRecord {
  id: string;
  kind: 'context' | 'activity';
  direction: 'in' | 'out';
  bytes: number;
  startedAt: number;
  endedAt: number;
  /** Simulated ms from the offer to the receiver's `done`. */
  simMs: number;
  resumedFrom: number;
  outcome: 'done' | 'skipped' | 'interrupted';
}

export interface WatchState {
  watchId: string;
  connected: boolean;
  mtu: number;
  contextVersion: number | null;
  context?: { version: number; timestamp: number; engineVersion: string; workouts: number };
  queue: QueuedActivity[];
  battery: number;
  transfers: TransferRecord[];
}

export interface RecordActivityInput {
  fit: Buffer;
  activityId?: string;
  summary?: ActivityPack['summary'];
  rpe?: number;
  notes?: string;
}

export interface WatchAppOptions {
  bleno: any;
  store: WatchStore;
  clock: Clock;
  watchId: string;
  name: string;
  battery?: number;
  /** Ask the phone for a new context pack when ours is older than this (simulated ms). */
  maxContextAgeMs?: number;
}

interface Notifier {
  max: number;
  send: (b: Buffer) => void;
}

export class WatchApp {
  private readonly bleno: any;
  private readonly store: WatchStore;
  private readonly clock: Clock;
  private ctrl: Notifier | null = null;
  private act: Notifier | null = null;
  private battNotify: Notifier | null = null;
  private connected = false;
  private mtu = 23;
  private helloSent = false;
  private sender: BlockSender | null = null;
  private receiver: BlockReceiver | null = null;
  private receiverStartedAt = 0;
  private receiverFrom = 0;
  private readonly transfers: TransferRecord[] = [];
  private readonly ctrlReader = new FrameReader((b) => this.onControl(decodeControl(b)));
  private readonly ctxReader = new FrameReader((b) => this.onContextBlock(b));
  private battery: number;
  private seq = 0;

  constructor(private readonly opts: WatchAppOptions) {
    this.bleno = opts.bleno;
    this.store = opts.store;
    this.clock = opts.clock;
    this.battery = opts.store.get<number>('battery') ?? opts.battery ?? 85;
  }

  /** Power on, publish the services, advertise. Resolves once advertising. */
  start(): Promise<void> {
    const b = this.bleno;
    return new Promise((resolve, reject) => {
      b.on('stateChange', (s: string) => {
        if (s === 'poweredOn') b.startAdvertising(this.opts.name, [WATCH_SYNC_SERVICE]);
        else if (s === 'unsupported' || s === 'unauthorized') reject(new Error(`HRN_ERR_WATCH_RADIO: adapter ${s}`));
      });
      b.on('advertisingStart', (err: Error | null) => {
        if (err) return reject(err);
        b.setServices(this.services(), (e: Error | null) => (e ? reject(e) : resolve()));
      });
      b.on('accept', () => this.onConnect());
      b.on('disconnect', () => this.onDisconnect());
      b.on('mtuChange', (mtu: number) => {
        this.mtu = mtu;
      });
    });
  }

  async recordActivity(input: RecordActivityInput): Promise<string> {
    const activityId = input.activityId ?? `${this.opts.watchId}-act-${this.clock.now()}-${++this.seq}`;
    const summary = input.summary ?? (await summarizeFit(input.fit));
    const pack = encodeActivityPack({ activityId, summary, rpe: input.rpe, notes: input.notes, fitFile: input.fit });
    this.store.enqueueActivity(activityId, pack, metaFor('activity', activityId, pack).crc, this.clock.now());
    this.pumpActivities();
    return activityId;
  }

  setBattery(level: number): void {
    this.battery = Math.max(0, Math.min(100, Math.round(level)));
    this.store.set('battery', this.battery);
    this.battNotify?.send(Buffer.from([this.battery]));
  }

  state(): WatchState {
    const ctx = this.store.contextPack();
    return {
      watchId: this.opts.watchId,
      connected: this.connected,
      mtu: this.mtu,
      contextVersion: ctx?.version ?? null,
      context: ctx
        ? {
            version: ctx.version,
            timestamp: ctx.timestamp,
            engineVersion: ctx.engineVersion,
            workouts: ctx.upcomingWorkouts.length,
          }
        : undefined,
      queue: this.store.queue(),
      battery: this.battery,
      transfers: [...this.transfers],
    };
  }

  /** The applied context pack in full (for assertions). */
  contextPack(): ContextPack | undefined {
    return this.store.contextPack();
  }

  // ---- GATT ----------------------------------------------------------------------------------------

  private services(): any[] {
    const { Characteristic, PrimaryService } = this.bleno;
    const ok = Characteristic.RESULT_SUCCESS;
    const notifier = (set: (n: Notifier | null) => void) => ({
      onSubscribe: (max: number, cb: (b: Buffer) => void) => {
        set({ max, send: cb });
        this.maybeHello();
      },
      onUnsubscribe: () => set(null),
    });
    const control = new Characteristic({
      uuid: CONTROL_POINT,
      properties: ['write', 'writeWithoutResponse', 'notify'],
      onWriteRequest: (data: Buffer, _off: number, _wr: boolean, cb: (r: number) => void) => {
        cb(ok);
        this.ctrlReader.push(data);
      },
      ...notifier((n) => {
        this.ctrl = n;
      }),
    });
    const context = new Characteristic({
      uuid: CONTEXT_PACK,
      properties: ['writeWithoutResponse'],
      onWriteRequest: (data: Buffer, _off: number, _wr: boolean, cb: (r: number) => void) => {
        cb(ok);
        this.ctxReader.push(data);
      },
    });
    const activity = new Characteristic({
      uuid: ACTIVITY_PACK,
      properties: ['notify'],
      ...notifier((n) => {
        this.act = n;
        if (n) this.pumpActivities();
      }),
    });
    const battery = new Characteristic({
      uuid: BATTERY_LEVEL,
      properties: ['read', 'notify'],
      onReadRequest: (_off: number, cb: (r: number, d: Buffer) => void) => cb(ok, Buffer.from([this.battery])),
      ...notifier((n) => {
        this.battNotify = n;
      }),
    });
    return [
      new PrimaryService({ uuid: WATCH_SYNC_SERVICE, characteristics: [control, context, activity] }),
      new PrimaryService({ uuid: BATTERY_SERVICE, characteristics: [battery] }),
    ];
  }

  private sendControl(m: ControlMessage): void {
    const n = this.ctrl;
    if (!n) return;
    for (const c of frameChunks(encodeControl(m), n.max)) n.send(c);
  }

  private onConnect(): void {
    this.connected = true;
    this.helloSent = false;
    this.ctrlReader.reset();
    this.ctxReader.reset();
  }

  private onDisconnect(): void {
    this.connected = false;
    this.ctrl = null;
    this.act = null;
    this.battNotify = null;
    this.helloSent = false;
    if (this.sender) {
      this.sender.abort(new Error('HRN_ERR_WATCH_LINK: link lost during transfer'));
      this.sender = null;
    }
    if (this.receiver) this.recordTransfer(this.receiver.meta, 'in', this.receiverStartedAt, 'interrupted');
  }

  private maybeHello(): void {
    if (this.helloSent || !this.ctrl || !this.act) return;
    this.helloSent = true;
    const ctx = this.store.contextPack();
    this.sendControl({
      t: 'hello',
      watchId: this.opts.watchId,
      protocol: PROTOCOL_VERSION,
      contextVersion: ctx?.version ?? null,
      battery: this.battery,
      pending: this.store.queue().length,
    });
    const maxAge = this.opts.maxContextAgeMs ?? 24 * 3600 * 1000;
    if (!ctx || this.clock.now() - ctx.timestamp > maxAge) {
      this.sendControl({ t: 'request_context', have: ctx?.version ?? null });
    }
    this.pumpActivities();
  }

  // ---- activity upload --------------------------------------------------------------------------------

  private pumpActivities(): void {
    if (this.sender || !this.connected || !this.ctrl || !this.act || !this.helloSent) return;
    const next = this.store.queue()[0];
    if (!next) return;
    const bytes = this.store.activityPack(next.activityId)!;
    const meta = metaFor('activity', next.activityId, bytes);
    const act = this.act;
    const sender = new BlockSender(meta, bytes, {
      sendControl: (m) => this.sendControl(m),
      sendData: (frame) => {
        for (const c of frameChunks(frame, act.max)) act.send(c);
      },
    });
    this.sender = sender;
    const started = this.clock.now();
    sender.run().then(
      (outcome) => {
        this.store.dequeueActivity(meta.id);
        this.recordTransfer(meta, 'out', started, outcome === 'done' ? 'done' : 'skipped');
        if (this.sender === sender) this.sender = null;
        this.pumpActivities();
      },
      () => {
        this.recordTransfer(meta, 'out', started, 'interrupted');
        if (this.sender === sender) this.sender = null;
      },
    );
  }

  // ---- control and context pack ------------------------------------------------------------------

  private onControl(m: ControlMessage): void {
    if (m.t === 'offer' && m.meta.kind === 'context') this.onContextOffer(m.meta);
    else this.sender?.onControl(m);
  }

  private onContextOffer(meta: TransferMeta): void {
    const have = this.store.contextPack()?.version ?? null;
    if (have !== null && meta.version !== undefined && meta.version <= have) {
      this.sendControl({ t: 'skip', id: meta.id, reason: `have version ${have}` });
      return;
    }
    if (!this.receiver || this.receiver.meta.id !== meta.id || this.receiver.meta.crc !== meta.crc) {
      this.receiver = new BlockReceiver(meta);
      for (const [i, data] of this.store.incomingBlocks(meta)) this.receiver.blocks[i] = data;
    }
    this.receiverStartedAt = this.clock.now();
    this.receiverFrom = this.receiver.firstMissing();
    this.sendControl({ t: 'accept', id: meta.id, from: this.receiverFrom });
  }

  private onContextBlock(frame: Buffer): void {
    const r = this.receiver;
    if (!r) return;
    const block = decodeBlock(frame);
    if (block.tag !== r.meta.crc) return;
    const reply = r.onBlock(block);
    if (reply.t === 'ack') this.store.saveIncomingBlock(r.meta, block.index, block.data);
    this.sendControl(reply);
    if (!r.complete) return;
    try {
      const pack = decodeContextPack(r.assemble());
      this.store.applyContextPack(pack);
      this.sendControl({ t: 'done', id: r.meta.id });
      this.recordTransfer(r.meta, 'in', this.receiverStartedAt, 'done');
    } catch (err) {
      this.sendControl({ t: 'fail', id: r.meta.id, reason: (err as Error).message });
    }
    this.receiver = null;
  }

  private recordTransfer(
    meta: TransferMeta,
    direction: 'in' | 'out',
    startedAt: number,
    outcome: TransferRecord['outcome'],
  ) {
    const endedAt = this.clock.now();
    this.transfers.push({
      id: meta.id,
      kind: meta.kind,
      direction,
      bytes: meta.size,
      startedAt,
      endedAt,
      simMs: endedAt - startedAt,
      resumedFrom: direction === 'in' ? this.receiverFrom : 0,
      outcome,
    });
  }
}
