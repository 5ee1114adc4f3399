/**
 * The watch sync GATT protocol (RFC 0006 §2.2.4 over BLE; README.md has the wire format).
 *
 * Frames are length-prefixed and cut into ATT values of MTU-3 bytes (notifications, writes without
 * response: no per-chunk round trip). A pack is zlib-compressed, split into blocks; every block
 * travels in one data frame with its CRC32 and is acknowledged on the control point. A transfer that
 * was cut resumes from the first block the receiver does not hold.
 */
import { crc32, deflateSync, inflateSync } from 'node:zlib';

// ---- GATT layout ---------------------------------------------------------------------------------

const uuid = (n: number) => `7a3c${n.toString(16).padStart(4, '0')}5f2b4c1e9d3a1b2c3d4e5f60`;
export const WATCH_SYNC_SERVICE = uuid(1);
/** Control point: phone → watch writes without response, watch → phone notifications (JSON frames). */
export const CONTROL_POINT = uuid(2);
/** Context pack data, phone → watch, writes without response (data frames). */
export const CONTEXT_PACK = uuid(3);
/** Activity pack data, watch → phone, notifications (data frames). */
export const ACTIVITY_PACK = uuid(4);
export const BATTERY_SERVICE = '180f';
export const BATTERY_LEVEL = '2a19';

/** Protocol version in `hello`; bump on incompatible wire changes. */
export const PROTOCOL_VERSION = 1;
export const BLOCK_SIZE = 4096;
/** Blocks in flight before the sender waits for an ack. */
export const WINDOW = 4;

// ---- RFC 0006 §2.2.4 types ----------------------------------------------------------------------

export interface HeartRateZones {
  z1: [number, number];
  z2: [number, number];
  z3: [number, number];
  z4: [number, number];
  z5: [number, number];
}
export interface PaceZones {
  /** Seconds per km, [from, to]. */
  easy: [number, number];
  tempo: [number, number];
  threshold: [number, number];
  interval: [number, number];
}
export interface ScheduledWorkout {
  id: string;
  date: string;
  sport: string;
  title: string;
  steps: { kind: string; durationS?: number; distanceM?: number; target?: string }[];
}
export interface ContextPack {
  version: number;
  timestamp: number;
  user: { zones: HeartRateZones; paceZones: PaceZones; maxHr: number };
  /** Next 3 days. */
  upcomingWorkouts: ScheduledWorkout[];
  engineVersion: string;
  /** Only if updated. */
  engineBundle?: string;
}
export interface ActivitySummary {
  sport: string;
  subSport?: string;
  startTime: string;
  durationS: number;
  distanceM: number;
  avgHr?: number;
  maxHr?: number;
  avgPower?: number;
  calories?: number;
}
/** RFC ActivityPack; on BLE the FIT file travels as bytes (the RFC's base64 is for JSON bridges). */
export interface ActivityPack {
  activityId: string;
  summary: ActivitySummary;
  rpe?: number;
  notes?: string;
  fitFile: Buffer;
}

// ---- pack encoding --------------------------------------------------------------------------------

export function encodeContextPack(pack: ContextPack): Buffer {
  return deflateSync(Buffer.from(JSON.stringify(pack)), { level: 9 });
}
export function decodeContextPack(b: Buffer): ContextPack {
  return JSON.parse(inflateSync(b).toString('utf8'));
}

/** u32 header length, JSON header (everything but the FIT), FIT bytes; then deflate. */
export function encodeActivityPack(pack: ActivityPack): Buffer {
  const { fitFile, ...rest } = pack;
  const header = Buffer.from(JSON.stringify({ ...rest, fitLength: fitFile.length }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  return deflateSync(Buffer.concat([len, header, fitFile]), { level: 9 });
}
export function decodeActivityPack(b: Buffer): ActivityPack {
  const raw = inflateSync(b);
  const hl = raw.readUInt32LE(0);
  const { fitLength, ...header } = JSON.parse(raw.subarray(4, 4 + hl).toString('utf8'));
  const fitFile = Buffer.from(raw.subarray(4 + hl, 4 + hl + fitLength));
  if (fitFile.length !== fitLength) throw new Error('HRN_ERR_WATCH_PACK: activity pack FIT is truncated');
  return { ...header, fitFile };
}

// ---- control messages ---------------------------------------------------------------------------

export type PackKind = 'context' | 'activity';

export interface TransferMeta {
  /** activityId, or `context-<version>`. */
  id: string;
  kind: PackKind;
  /** CRC32 of the whole compressed pack: the tag of its data frames. */
  crc: number;
  size: number;
  blocks: number;
  blockSize: number;
  version?: number;
}

export type ControlMessage =
  | {
      t: 'hello';
      watchId: string;
      protocol: number;
      contextVersion: number | null;
      battery: number;
      pending: number;
    }
  | { t: 'offer'; meta: TransferMeta }
  | { t: 'accept'; id: string; from: number }
  | { t: 'skip'; id: string; reason: string }
  | { t: 'ack'; id: string; block: number }
  | { t: 'nack'; id: string; block: number }
  | { t: 'done'; id: string }
  | { t: 'fail'; id: string; reason: string }
  | { t: 'request_context'; have: number | null };

// ---- framing --------------------------------------------------------------------------------------

/** A frame (u32 length + body) cut into ATT values of at most `maxValue` bytes. */
export function frameChunks(body: Buffer, maxValue: number): Buffer[] {
  const frame = Buffer.alloc(4 + body.length);
  frame.writeUInt32LE(body.length, 0);
  body.copy(frame, 4);
  const out: Buffer[] = [];
  for (let off = 0; off < frame.length; off += maxValue) out.push(frame.subarray(off, off + maxValue));
  return out;
}

/** Reassembles frames from ATT values in order. Reset on every new connection. */
export class FrameReader {
  private buf = Buffer.alloc(0);
  constructor(private readonly onFrame: (body: Buffer) => void) {}
  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32LE(0);
      if (this.buf.length < 4 + len) return;
      const body = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      this.onFrame(Buffer.from(body));
    }
  }
  reset(): void {
    this.buf = Buffer.alloc(0);
  }
}

export const encodeControl = (m: ControlMessage) => Buffer.from(JSON.stringify(m));
export const decodeControl = (b: Buffer) => JSON.parse(b.toString('utf8')) as ControlMessage;

/** Data frame: u32 pack CRC (tag), u32 block index, u32 block CRC32, block bytes. */
export function encodeBlock(tag: number, index: number, data: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt32LE(tag >>> 0, 0);
  h.writeUInt32LE(index, 4);
  h.writeUInt32LE(crc32(data) >>> 0, 8);
  return Buffer.concat([h, data]);
}
export function decodeBlock(b: Buffer): { tag: number; index: number; crc: number; data: Buffer; ok: boolean } {
  const tag = b.readUInt32LE(0);
  const index = b.readUInt32LE(4);
  const crc = b.readUInt32LE(8);
  const data = b.subarray(12);
  return { tag, index, crc, data, ok: crc32(data) >>> 0 === crc };
}

export function metaFor(
  kind: PackKind,
  id: string,
  bytes: Buffer,
  version?: number,
  blockSize = BLOCK_SIZE,
): TransferMeta {
  return {
    id,
    kind,
    crc: crc32(bytes) >>> 0,
    size: bytes.length,
    blocks: Math.max(1, Math.ceil(bytes.length / blockSize)),
    blockSize,
    ...(version !== undefined ? { version } : {}),
  };
}

export { crc32 };

// ---- transfer state machines -----------------------------------------------------------------------

export interface SenderIo {
  sendControl(m: ControlMessage): void;
  sendData(frame: Buffer): void;
}

/**
 * Sends one pack: offer, then blocks from where the receiver says, WINDOW blocks in flight, each
 * acknowledged. `run()` resolves with 'done' or 'skipped'; `abort()` (link lost) rejects it.
 */
export class BlockSender {
  private next = 0;
  private inFlight = new Set<number>();
  private resend: number[] = [];
  private acked = new Set<number>();
  private settle: { resolve: (r: 'done' | 'skipped') => void; reject: (e: Error) => void } | null = null;
  /** Blocks sent (including resends), for stats. */
  blocksSent = 0;

  constructor(
    readonly meta: TransferMeta,
    private readonly bytes: Buffer,
    private readonly io: SenderIo,
    private readonly window = WINDOW,
  ) {}

  run(): Promise<'done' | 'skipped'> {
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      this.io.sendControl({ t: 'offer', meta: this.meta });
    });
  }

  /** Control messages from the receiver about this transfer. */
  onControl(m: ControlMessage): void {
    if (!('id' in m) || m.id !== this.meta.id) return;
    switch (m.t) {
      case 'accept':
        this.next = Math.max(0, Math.min(m.from, this.meta.blocks));
        for (let i = 0; i < this.next; i++) this.acked.add(i);
        this.pump();
        break;
      case 'ack':
        this.acked.add(m.block);
        this.inFlight.delete(m.block);
        this.pump();
        break;
      case 'nack':
        this.inFlight.delete(m.block);
        this.resend.push(m.block);
        this.pump();
        break;
      case 'done':
        this.finish('done');
        break;
      case 'skip':
        this.finish('skipped');
        break;
      case 'fail':
        this.abort(new Error(`HRN_ERR_WATCH_TRANSFER: receiver failed ${this.meta.id}: ${m.reason}`));
        break;
    }
  }

  abort(err: Error): void {
    const s = this.settle;
    this.settle = null;
    s?.reject(err);
  }

  private finish(r: 'done' | 'skipped'): void {
    const s = this.settle;
    this.settle = null;
    s?.resolve(r);
  }

  private pump(): void {
    while (this.settle && this.inFlight.size < this.window) {
      let i: number | undefined = this.resend.shift();
      if (i === undefined) {
        while (this.next < this.meta.blocks && this.acked.has(this.next)) this.next++;
        if (this.next >= this.meta.blocks) return;
        i = this.next++;
      }
      this.inFlight.add(i);
      this.blocksSent++;
      const off = i * this.meta.blockSize;
      this.io.sendData(encodeBlock(this.meta.crc, i, this.bytes.subarray(off, off + this.meta.blockSize)));
    }
  }
}

/** Receiver side of one pack; survives disconnects so the next offer resumes where it stopped. */
export class BlockReceiver {
  readonly blocks: (Buffer | undefined)[];
  constructor(readonly meta: TransferMeta) {
    this.blocks = new Array(meta.blocks);
  }
  /** First block not held: where a resumed transfer starts (the acked prefix). */
  firstMissing(): number {
    let i = 0;
    while (i < this.blocks.length && this.blocks[i]) i++;
    return i;
  }
  get complete(): boolean {
    return this.firstMissing() >= this.blocks.length;
  }
  /** Store a block; returns the control reply. */
  onBlock(frame: ReturnType<typeof decodeBlock>): ControlMessage {
    if (!frame.ok || frame.index >= this.blocks.length) return { t: 'nack', id: this.meta.id, block: frame.index };
    this.blocks[frame.index] = Buffer.from(frame.data);
    return { t: 'ack', id: this.meta.id, block: frame.index };
  }
  /** The whole pack, checked against the offer's CRC and size. */
  assemble(): Buffer {
    const b = Buffer.concat(this.blocks as Buffer[]);
    if (b.length !== this.meta.size || crc32(b) >>> 0 !== this.meta.crc) {
      throw new Error(`HRN_ERR_WATCH_PACK: pack ${this.meta.id} failed its CRC32 check after reassembly`);
    }
    return b;
  }
}
