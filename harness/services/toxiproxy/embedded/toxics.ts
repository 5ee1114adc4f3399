/**
 * Toxic definitions (API shape) and their per-connection stages (data path).
 *
 * A stage works like one goroutine of the real server's chain: it takes one item at a time from its
 * queue, may hold it (timer), then forwards it to the next stage. `null` is EOF. Items carry `t`,
 * the time the proxy read the chunk, so latencies count from read time and compose (section 5).
 */
import { atDeadline, type Cancel, now } from './clock';
import { float32Json } from './json';

export type Direction = 'upstream' | 'downstream';

/** Valid types and their attributes, in the order the real server serialises them. */
export const TOXIC_ATTRIBUTES: Record<string, readonly string[]> = {
  latency: ['latency', 'jitter'],
  bandwidth: ['rate'],
  slow_close: ['delay'],
  timeout: ['timeout'],
  reset_peer: ['timeout'],
  slicer: ['average_size', 'size_variation', 'delay'],
  limit_data: ['bytes'],
  noop: [],
  // Not in Toxiproxy: the harness's own (README "Differences from real Toxiproxy").
  corrupt: ['percent', 'protected_only'],
};

export function isToxicType(type: string): boolean {
  return Object.hasOwn(TOXIC_ATTRIBUTES, type);
}

/** A toxic as the API sees it; shared by every live stage created from it. */
export class ToxicConfig {
  constructor(
    public name: string,
    readonly type: string,
    readonly stream: string,
    readonly direction: Direction,
    public toxicity: number,
    readonly attributes: Record<string, number>,
  ) {}

  toJSON() {
    const attributes: Record<string, number> = {};
    for (const key of TOXIC_ATTRIBUTES[this.type]!) attributes[key] = this.attributes[key] ?? 0;
    return { attributes, name: this.name, type: this.type, stream: this.stream, toxicity: float32Json(this.toxicity) };
  }
}

export interface Chunk {
  data: Buffer;
  /** Monotonic time (ms) the chunk was read, advanced by latency stages. */
  t: number;
}
export type Item = Chunk | null;

/** What a stage needs from its link (one direction of one connection). */
export interface StageHost {
  readonly rng: () => number;
  /** Hand an item to whatever follows `from` in the chain (next stage or the destination socket). */
  forward(from: Stage, item: Item): void;
  /** Bytes a stage discarded (keeps the link's backpressure count right). */
  dropped(bytes: number): void;
  /** Abort the whole connection with RST. */
  reset(): void;
}

export abstract class Stage {
  /** Toxicity draw: when false the stage passes data through unchanged. */
  protected active = true;
  /** Output closed (EOF sent on): everything later is dropped, as on a closed Go stub. */
  protected closed = false;
  protected removed = false;
  protected queue: Item[] = [];
  protected busy = false;
  /** What the stage holds while busy (undefined = nothing), delivered on removal. */
  protected held: Item | undefined;
  protected timer: Cancel | undefined;

  constructor(
    readonly config: ToxicConfig,
    protected readonly host: StageHost,
  ) {}

  protected num(key: string): number {
    return this.config.attributes[key] ?? 0;
  }

  /** Chunks waiting in this stage (for the link's backpressure bound). */
  queued(): number {
    return this.queue.length + (this.held !== undefined ? 1 : 0);
  }

  start(): void {
    this.active = this.host.rng() < this.config.toxicity;
    if (this.active) this.onStart();
  }

  protected onStart(): void {}

  push(item: Item): void {
    if (this.closed || this.removed) {
      if (item) this.host.dropped(item.data.length);
      return;
    }
    if (!this.active) {
      this.emit(item);
      return;
    }
    this.queue.push(item);
    this.pump();
  }

  private pump(): void {
    while (!this.busy && !this.closed && !this.removed && this.queue.length > 0) this.handle(this.queue.shift()!);
  }

  /** Process one item: emit synchronously, or set `busy` (and `held`) and call `done()` later. */
  protected abstract handle(item: Item): void;

  protected done(): void {
    this.busy = false;
    this.held = undefined;
    this.timer = undefined;
    this.pump();
  }

  protected emit(item: Item): void {
    if (item === null) this.closed = true;
    this.host.forward(this, item);
  }

  /** Close this stage's output (timeout fired, limit reached): EOF on, the rest dropped. */
  protected closeOutput(): void {
    if (this.closed) return;
    this.timer?.cancel();
    for (const item of this.queue) if (item) this.host.dropped(item.data.length);
    if (this.held) this.host.dropped(this.held.data.length);
    this.queue = [];
    this.held = undefined;
    this.emit(null);
  }

  /** Stop everything (connection gone). */
  dispose(): void {
    this.removed = true;
    this.timer?.cancel();
    this.queue = [];
    this.held = undefined;
  }

  /** Toxic removed from the chain: deliver what it holds, in order, nothing lost. */
  remove(flushTo: (item: Item) => void): void {
    if (this.removed) return;
    this.timer?.cancel();
    const items = this.held !== undefined ? [this.held, ...this.queue] : this.queue;
    this.removed = true;
    this.queue = [];
    this.held = undefined;
    if (this.closed) return;
    for (const item of items) flushTo(item);
  }

  /** Toxic updated: restart it with the new attributes (timers restart, a fresh toxicity draw). */
  restart(): void {
    if (this.closed || this.removed) return;
    this.timer?.cancel();
    this.timer = undefined;
    const held = this.held;
    this.held = undefined;
    this.busy = false;
    if (held !== undefined) this.releaseHeld(held);
    this.start();
    if (!this.active) {
      const items = this.queue;
      this.queue = [];
      for (const item of items) this.emit(item);
    } else {
      this.pump();
    }
  }

  /** On restart, what happens to an item being held: by default it goes out at once (like Go). */
  protected releaseHeld(item: Item): void {
    this.emit(item);
  }
}

class NoopStage extends Stage {
  protected handle(item: Item): void {
    this.emit(item);
  }
}

class LatencyStage extends Stage {
  protected handle(item: Item): void {
    if (item === null) {
      this.emit(null);
      return;
    }
    let delay = this.num('latency');
    const jitter = this.num('jitter');
    if (jitter > 0) delay += Math.floor(this.host.rng() * 2 * jitter) - jitter;
    const deadline = item.t + delay;
    item.t = deadline;
    if (deadline <= now()) {
      this.emit(item);
      return;
    }
    this.busy = true;
    this.held = item;
    this.timer = atDeadline(deadline, () => {
      this.emit(item);
      this.done();
    });
  }
}

class BandwidthStage extends Stage {
  /** Owed sleep in ms, carried across chunks so timer error is corrected (Go's accumulator). */
  private sleep = 0;

  protected override onStart(): void {
    this.sleep = 0;
  }

  protected handle(item: Item): void {
    if (item === null) {
      this.emit(null);
      return;
    }
    const rate = this.num('rate');
    if (rate <= 0) {
      this.sleep = 0;
      this.emit(item);
      return;
    }
    this.sleep += item.data.length / rate;
    const piece = rate * 100;
    // Owed time under a timer tick is carried in `sleep` rather than waited for, chunk by chunk: the
    // average rate stays exact without one timer per small chunk.
    if (item.data.length <= piece && this.sleep < 1) {
      this.emit(item);
      return;
    }
    this.busy = true;
    this.held = item;
    const finish = () => {
      const start = now();
      const send = () => {
        this.sleep -= now() - start;
        this.emit(item);
        this.done();
      };
      if (this.sleep < 1) send();
      else this.timer = atDeadline(start + this.sleep, send);
    };
    const pieces = (deadline: number) => {
      if (item.data.length <= piece) {
        finish();
        return;
      }
      this.timer = atDeadline(deadline, () => {
        const head = item.data.subarray(0, piece);
        item.data = item.data.subarray(piece);
        this.sleep -= 100;
        this.emit({ data: head, t: item.t });
        pieces(deadline + 100);
      });
    };
    pieces(now() + 100);
  }
}

class SlowCloseStage extends Stage {
  protected handle(item: Item): void {
    if (item !== null) {
      this.emit(item);
      return;
    }
    const delay = this.num('delay');
    if (delay <= 0) {
      this.emit(null);
      return;
    }
    this.busy = true;
    this.held = null;
    this.timer = atDeadline(now() + delay, () => {
      this.held = undefined;
      this.emit(null);
      this.done();
    });
  }

  protected override releaseHeld(item: Item): void {
    // The held EOF waits again under the new delay.
    this.queue.unshift(item);
  }
}

class TimeoutStage extends Stage {
  protected override onStart(): void {
    const timeout = this.num('timeout');
    if (timeout > 0) this.timer = atDeadline(now() + timeout, () => this.closeOutput());
  }

  protected handle(item: Item): void {
    if (item === null) {
      this.emit(null);
      return;
    }
    this.host.dropped(item.data.length);
  }

  /** Removing a timeout closes the connection whatever its draw; dropped data stays dropped (5.4). */
  override remove(flushTo: (item: Item) => void): void {
    if (this.removed) return;
    this.timer?.cancel();
    const wasClosed = this.closed;
    const queued = this.queue;
    this.removed = true;
    this.closed = true;
    this.queue = [];
    if (!this.active) {
      // Passing through: queued data is real data, deliver it before the close.
      for (const item of queued) if (item !== null) flushTo(item);
    } else {
      for (const item of queued) if (item) this.host.dropped(item.data.length);
    }
    if (!wasClosed) flushTo(null);
  }
}

class ResetPeerStage extends Stage {
  private triggered = false;

  protected handle(item: Item): void {
    if (item) this.host.dropped(item.data.length);
    if (this.triggered) return;
    this.triggered = true;
    const timeout = this.num('timeout');
    if (timeout <= 0) {
      this.closed = true;
      this.host.reset();
      return;
    }
    this.busy = true;
    this.timer = atDeadline(now() + timeout, () => {
      this.closed = true;
      this.host.reset();
    });
  }

  /** Once triggered the real toxic ignores interrupts until it resets, so updates change nothing. */
  override restart(): void {
    if (!this.triggered) super.restart();
  }
}

class SlicerStage extends Stage {
  /** Split [start, end) recursively in halves, like the real toxic; flat [s0, e0, s1, e1, ...]. */
  private bounds(start: number, end: number, avg: number, variation: number, out: number[]): void {
    if (end - start - avg <= variation || end - start <= 1) {
      out.push(start, end);
      return;
    }
    let mid = start + Math.floor((end - start) / 2);
    if (variation > 0) mid += Math.floor(this.host.rng() * 2 * variation) - variation;
    // Guard the real server's crash case (average_size 0): never produce an empty half.
    mid = Math.min(end - 1, Math.max(start + 1, mid));
    this.bounds(start, mid, avg, variation, out);
    this.bounds(mid, end, avg, variation, out);
  }

  protected handle(item: Item): void {
    if (item === null) {
      this.emit(null);
      return;
    }
    const cuts: number[] = [];
    this.bounds(
      0,
      item.data.length,
      Math.max(0, this.num('average_size')),
      Math.max(0, this.num('size_variation')),
      cuts,
    );
    const delayMs = Math.max(0, this.num('delay')) / 1000;
    if (delayMs <= 0) {
      for (let k = 0; k < cuts.length; k += 2) this.emit({ data: item.data.subarray(cuts[k], cuts[k + 1]), t: item.t });
      return;
    }
    this.busy = true;
    let k = 0;
    // Piece i is due at start + i × delay, and the next chunk may start after one more delay. Every piece
    // already due goes out at once, so sub-millisecond delays are not stretched to one timer tick per piece.
    let deadline = now();
    const step = () => {
      do {
        this.emit({ data: item.data.subarray(cuts[k], cuts[k + 1]), t: item.t });
        k += 2;
        deadline += delayMs;
      } while (k < cuts.length && deadline <= now() && !this.closed && !this.removed);
      this.held = k < cuts.length ? { data: item.data.subarray(cuts[k]), t: item.t } : undefined;
      if (this.closed || this.removed) return;
      this.timer = atDeadline(deadline, () => (k < cuts.length ? step() : this.done()));
    };
    step();
  }
}

class LimitDataStage extends Stage {
  /** Bytes forwarded on this connection and stream; kept across updates. */
  private sent = 0;

  protected handle(item: Item): void {
    if (item === null) {
      this.emit(null);
      return;
    }
    const limit = this.num('bytes');
    const remaining = Math.max(0, limit - this.sent);
    let chunk = item;
    if (remaining < item.data.length) {
      this.host.dropped(item.data.length - remaining);
      chunk = { data: item.data.subarray(0, remaining), t: item.t };
    }
    if (chunk.data.length > 0) {
      this.sent += chunk.data.length;
      this.emit(chunk);
    }
    if (limit - this.sent <= 0) this.closeOutput();
  }
}

/**
 * `corrupt` (the harness's own toxic, not Toxiproxy's): flips one byte in the body of `percent` % of
 * the HTTP/1.1 messages on this stream, at a random offset, so a sync body arrives altered (RFC 0006
 * §5.4 checksums). It reads just enough HTTP framing to leave the start line and headers alone (a
 * flipped query digit would be a silent wrong request, not a corrupt payload): messages with a
 * Content-Length are followed one after another on a kept-alive connection; on a chunked or
 * close-delimited body it stops looking and passes the rest of the connection through. With
 * `protected_only` 1 only bodies an end-to-end check covers are touched (a Content-Digest or a
 * Content-Encoding header: gzip's CRC-32); a small identity body has no checksum in the contract.
 */
class CorruptStage extends Stage {
  private mode: 'head' | 'body' | 'pass' = 'head';
  private head = Buffer.alloc(0);
  /** Body bytes left in the current message, and the body offset to flip (-1: none). */
  private left = 0;
  private target = -1;
  private offset = 0;

  protected handle(item: Item): void {
    if (item === null || this.mode === 'pass') {
      this.emit(item);
      return;
    }
    let data = item.data;
    let out: Buffer[] = [];
    while (data.length > 0 && !this.passing()) {
      if (this.mode === 'head') {
        const joined = Buffer.concat([this.head, data]);
        const end = joined.indexOf('\r\n\r\n');
        if (end < 0) {
          if (joined.length > 64 * 1024) this.mode = 'pass';
          this.head = joined;
          out.push(data);
          data = Buffer.alloc(0);
          break;
        }
        const used = end + 4 - this.head.length;
        out.push(data.subarray(0, used));
        data = data.subarray(used);
        this.startMessage(joined.subarray(0, end).toString('latin1'));
        this.head = Buffer.alloc(0);
        continue;
      }
      const n = Math.min(this.left, data.length);
      let piece = data.subarray(0, n);
      if (this.target >= this.offset && this.target < this.offset + n) {
        piece = Buffer.from(piece);
        const at = this.target - this.offset;
        piece[at] = piece[at]! ^ (1 + Math.floor(this.host.rng() * 255));
      }
      out.push(piece);
      this.offset += n;
      this.left -= n;
      data = data.subarray(n);
      if (this.left === 0) this.mode = 'head';
    }
    if (data.length > 0) out.push(data);
    const joined = out.length === 1 ? out[0]! : Buffer.concat(out);
    out = [];
    this.emit({ data: joined, t: item.t });
  }

  /** A method, not a field read: startMessage() may switch the mode inside the loop. */
  private passing(): boolean {
    return this.mode === 'pass';
  }

  private startMessage(head: string): void {
    const lines = head.split('\r\n');
    const header = (name: string) =>
      lines
        .slice(1)
        .find((l) => l.toLowerCase().startsWith(`${name}:`))
        ?.slice(name.length + 1)
        .trim();
    const te = header('transfer-encoding');
    const cl = header('content-length');
    const isResponse = lines[0]!.startsWith('HTTP/');
    if (te !== undefined || (cl === undefined && isResponse)) {
      this.mode = 'pass';
      return;
    }
    this.left = cl === undefined ? 0 : Number(cl);
    if (!Number.isSafeInteger(this.left) || this.left < 0) {
      this.mode = 'pass';
      return;
    }
    this.offset = 0;
    this.target = -1;
    const checked = header('content-digest') !== undefined || header('content-encoding') !== undefined;
    const eligible = this.left > 0 && (this.num('protected_only') <= 0 || checked);
    if (eligible && this.host.rng() * 100 < this.num('percent')) this.target = Math.floor(this.host.rng() * this.left);
    this.mode = this.left > 0 ? 'body' : 'head';
  }
}

const STAGES: Record<string, new (config: ToxicConfig, host: StageHost) => Stage> = {
  latency: LatencyStage,
  bandwidth: BandwidthStage,
  slow_close: SlowCloseStage,
  timeout: TimeoutStage,
  reset_peer: ResetPeerStage,
  slicer: SlicerStage,
  limit_data: LimitDataStage,
  noop: NoopStage,
  corrupt: CorruptStage,
};

export function createStage(config: ToxicConfig, host: StageHost): Stage {
  return new STAGES[config.type]!(config, host);
}
