/**
 * One proxied TCP connection: two one-way links (upstream = client → server, downstream =
 * server → client), each a chain of toxic stages ending at the destination socket.
 *
 * Fast path: with no toxic on a direction, bytes go from the source's 'data' event straight into
 * dest.write() (no timers, no copies), which keeps the proxy's added latency and throughput cost low.
 */
import type { Socket } from 'node:net';
import { now } from './clock';
import { createStage, type Direction, type Item, type Stage, type StageHost, type ToxicConfig } from './toxics';

/**
 * Pause the source when a toxic chain holds more than this many chunks (the real server's latency toxic
 * buffers 1024) or bytes (a cap on memory per link; Go's 1024 reads of 32 KiB would be 32 MiB).
 */
const CHAIN_HIGH_WATER_CHUNKS = 1024;
const CHAIN_HIGH_WATER_BYTES = 16 * 1024 * 1024;
/** If the destination never drains after EOF, give up waiting and close anyway. */
const CLOSE_FLUSH_TIMEOUT_MS = 10_000;

export class Link implements StageHost {
  readonly stages: Stage[] = [];
  /** Bytes inside the toxic chain (entered, not yet written or dropped). */
  private pending = 0;
  private destFull = false;
  private sourcePaused = false;
  private inputEnded = false;
  private finished = false;
  /** Bytes read from the source and written to the destination (for /metrics). */
  received = 0;
  sent = 0;

  constructor(
    private readonly conn: Connection,
    readonly direction: Direction,
    private readonly source: Socket,
    private readonly dest: Socket,
    toxics: readonly ToxicConfig[],
  ) {
    for (const toxic of toxics) this.addToxic(toxic);
    dest.on('drain', () => {
      this.destFull = false;
      this.updateFlow();
    });
    source.on('data', (data: Buffer) => {
      this.received += data.length;
      if (this.stages.length === 0) {
        this.sent += data.length;
        if (!this.dest.write(data)) this.onDestFull();
        return;
      }
      this.pending += data.length;
      this.stages[0]!.push({ data, t: now() });
      this.updateFlow();
    });
    source.on('end', () => this.endInput());
    source.on('close', () => this.endInput());
  }

  get rng(): () => number {
    return this.conn.rng;
  }

  private onDestFull(): void {
    this.destFull = true;
    this.updateFlow();
  }

  private chainFull(): boolean {
    if (this.pending > CHAIN_HIGH_WATER_BYTES) return true;
    let chunks = 0;
    for (const stage of this.stages) chunks += stage.queued();
    return chunks > CHAIN_HIGH_WATER_CHUNKS;
  }

  private updateFlow(): void {
    const stop = this.destFull || this.chainFull();
    if (stop && !this.sourcePaused) {
      this.sourcePaused = true;
      this.source.pause();
    } else if (!stop && this.sourcePaused) {
      this.sourcePaused = false;
      this.source.resume();
    }
  }

  private endInput(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    if (this.stages.length === 0) this.sink(null);
    else this.stages[0]!.push(null);
  }

  forward(from: Stage, item: Item): void {
    const i = this.stages.indexOf(from);
    if (i < 0) return; // a removed stage's late timer
    const next = this.stages[i + 1];
    if (next) next.push(item);
    else this.sink(item);
  }

  dropped(bytes: number): void {
    this.pending -= bytes;
    if (this.sourcePaused) this.updateFlow();
  }

  reset(): void {
    this.conn.reset();
  }

  /** End of the chain: write to the destination, or close it on EOF. */
  private sink(item: Item): void {
    if (item === null) {
      this.finish();
      return;
    }
    this.pending -= item.data.length;
    if (this.dest.destroyed || this.dest.writableEnded) return;
    this.sent += item.data.length;
    if (!this.dest.write(item.data)) this.onDestFull();
    else if (this.sourcePaused) this.updateFlow();
  }

  /**
   * This direction's source ended and its data is flushed: fully close the destination (FIN once the
   * buffered bytes are out). Its other direction then sees its source close and ends too; half-open
   * TCP is not preserved, as in the real server.
   */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    const dest = this.dest;
    if (dest.destroyed) return;
    dest.end(() => dest.destroy());
    const guard = setTimeout(() => dest.destroy(), CLOSE_FLUSH_TIMEOUT_MS);
    guard.unref();
    dest.once('close', () => clearTimeout(guard));
  }

  addToxic(config: ToxicConfig): void {
    const stage = createStage(config, this);
    this.stages.push(stage);
    stage.start();
  }

  updateToxic(name: string): void {
    this.stages.find((s) => s.config.name === name)?.restart();
  }

  removeToxic(name: string): void {
    const i = this.stages.findIndex((s) => s.config.name === name);
    if (i < 0) return;
    const stage = this.stages[i]!;
    this.stages.splice(i, 1);
    const next = this.stages[i];
    stage.remove((item) => (next ? next.push(item) : this.sink(item)));
  }

  dispose(): void {
    for (const stage of this.stages) stage.dispose();
  }
}

export interface ConnectionOwner {
  readonly rng: () => number;
  connectionClosed(conn: Connection, labels: { listen: string; upstream: string }): void;
}

export class Connection {
  private links: Record<Direction, Link | undefined> = { upstream: undefined, downstream: undefined };
  private open = 2;

  constructor(
    private readonly owner: ConnectionOwner,
    readonly client: Socket,
    readonly upstream: Socket,
    labels: { listen: string; upstream: string },
  ) {
    const closed = () => {
      if (--this.open === 0) {
        this.links.upstream?.dispose();
        this.links.downstream?.dispose();
        owner.connectionClosed(this, labels);
      }
    };
    client.once('close', closed);
    upstream.once('close', closed);
  }

  get rng(): () => number {
    return this.owner.rng;
  }

  /** Starts both links with the proxy's current chains. */
  start(chains: Record<Direction, readonly ToxicConfig[]>): void {
    this.links.upstream = new Link(this, 'upstream', this.client, this.upstream, chains.upstream);
    this.links.downstream = new Link(this, 'downstream', this.upstream, this.client, chains.downstream);
  }

  link(direction: Direction): Link | undefined {
    return this.links[direction];
  }

  /** Abort both sides with RST (SO_LINGER 0), so peers see ECONNRESET. */
  reset(): void {
    for (const s of [this.client, this.upstream]) {
      if (s.destroyed) continue;
      try {
        s.resetAndDestroy();
      } catch {
        s.destroy();
      }
    }
  }

  /** Proxy disabled or deleted: close both sockets now. */
  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }
}
