/**
 * A named proxy: its listener, its live connections and its two toxic chains (sections 4 and 5).
 */
import { connect, createServer, isIP, type Server, type Socket } from 'node:net';
import { AddressError, joinHostPort, resolveHost, resolveListen, splitHostPort } from './address';
import { Connection, type ConnectionOwner } from './link';
import type { Direction, ToxicConfig } from './toxics';

/** A failure reported as `{"error": message, "status": status}`. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export const Errors = {
  proxyNotFound: () => new ApiError('proxy not found', 404),
  proxyExists: () => new ApiError('proxy already exists', 409),
  invalidStream: () => new ApiError('stream was invalid, can be either upstream or downstream', 400),
  invalidToxicType: () => new ApiError('invalid toxic type', 400),
  toxicExists: () => new ApiError('toxic already exists', 409),
  toxicNotFound: () => new ApiError('toxic not found', 404),
};

const BIND_ERRORS: Record<string, string> = {
  EADDRINUSE: 'bind: address already in use',
  EADDRNOTAVAIL: 'bind: cannot assign requested address',
  EACCES: 'bind: permission denied',
};

export interface ProxyContext {
  readonly rng: () => number;
  /**
   * A proxy's own stream of draws, from the run's seed and the proxy's name: one device's toxic
   * decisions then depend only on its own traffic, so a replay with the seed repeats them.
   */
  rngFor?(proxyName: string): () => number;
  log(line: string): void;
  /** Set when proxy metrics are on: byte counts of each finished connection. */
  readonly metrics?: ProxyMetrics;
}

/**
 * toxiproxy_proxy_received_bytes_total / toxiproxy_proxy_sent_bytes_total, labelled like the real
 * server's (direction, proxy, listener, upstream) and, like it, counted when a connection ends.
 */
export class ProxyMetrics {
  private readonly counters = new Map<string, { labels: string[]; received: number; sent: number }>();

  add(labels: [direction: string, proxy: string, listener: string, upstream: string], received: number, sent: number) {
    const key = JSON.stringify(labels);
    const c = this.counters.get(key) ?? { labels, received: 0, sent: 0 };
    c.received += received;
    c.sent += sent;
    this.counters.set(key, c);
  }

  /** Prometheus text exposition format. */
  render(): string {
    const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    const rows = [...this.counters.values()].sort((a, b) => a.labels.join('\0').localeCompare(b.labels.join('\0')));
    let out = '';
    for (const metric of ['received', 'sent'] as const) {
      const name = `toxiproxy_proxy_${metric}_bytes_total`;
      if (rows.length === 0) continue;
      out += `# HELP ${name} \n# TYPE ${name} counter\n`;
      for (const r of rows) {
        const [direction, proxy, listener, upstream] = r.labels.map((v) => esc(v!));
        out += `${name}{direction="${direction}",listener="${listener}",proxy="${proxy}",upstream="${upstream}"} ${r[metric]}\n`;
      }
    }
    return out;
  }
}

export class ProxyEntry implements ConnectionOwner {
  enabled = false;
  readonly chains: Record<Direction, ToxicConfig[]> = { upstream: [], downstream: [] };
  private server: Server | undefined;
  private readonly connections = new Set<Connection>();
  /** Client sockets still waiting for their upstream dial. */
  private readonly dialing = new Set<Socket>();

  constructor(
    private readonly ctx: ProxyContext,
    readonly name: string,
    public listen: string,
    public upstream: string,
  ) {}

  private ownRng?: () => number;
  get rng(): () => number {
    this.ownRng ??= this.ctx.rngFor?.(this.name) ?? this.ctx.rng;
    return this.ownRng;
  }

  toJSON() {
    return {
      name: this.name,
      listen: this.listen,
      upstream: this.upstream,
      enabled: this.enabled,
      toxics: this.toxics(),
    };
  }

  /** Upstream-stream toxics first, then downstream, each in creation order. */
  toxics(): ToxicConfig[] {
    return [...this.chains.upstream, ...this.chains.downstream];
  }

  findToxic(name: string): ToxicConfig | undefined {
    return this.chains.upstream.find((t) => t.name === name) ?? this.chains.downstream.find((t) => t.name === name);
  }

  /** Binds `listen` and starts accepting; on failure the proxy stays disabled (500). */
  async start(): Promise<void> {
    if (this.enabled) return;
    let host: string;
    let port: number;
    try {
      ({ host, port } = splitHostPort(this.listen));
      host = await resolveHost(host);
    } catch (e) {
      throw new ApiError(`listen tcp: ${(e as Error).message}`, 500);
    }
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: host === '' ? undefined : host, port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((e: NodeJS.ErrnoException) => {
      const detail = (e.code && BIND_ERRORS[e.code]) ?? e.message;
      throw new ApiError(`listen tcp ${joinHostPort(host, port)}: ${detail}`, 500);
    });
    server.on('error', (e) => this.ctx.log(`proxy ${this.name}: listener error: ${e.message}`));
    server.on('connection', (client) => this.accept(client));
    const addr = server.address();
    if (addr && typeof addr === 'object') this.listen = joinHostPort(addr.address, addr.port);
    this.server = server;
    this.enabled = true;
  }

  /** Closes the listener and every connection; config and toxics are kept. */
  stop(): void {
    if (!this.enabled) return;
    this.enabled = false;
    this.server?.close();
    this.server = undefined;
    for (const conn of this.connections) conn.destroy();
    this.connections.clear();
    for (const client of this.dialing) client.destroy();
    this.dialing.clear();
  }

  /** Go's Proxy.Differs: the resolved `listen` or the `upstream` string is not what is stored. */
  async differs(listen: string, upstream: string): Promise<boolean> {
    let canonical: string;
    try {
      canonical = (await resolveListen(listen)).canonical;
    } catch (e) {
      throw new ApiError((e as Error).message, 500);
    }
    return canonical !== this.listen || upstream !== this.upstream;
  }

  private accept(client: Socket): void {
    client.on('error', () => {});
    client.setNoDelay(true);
    let target: { host: string; port: number };
    try {
      const { host, port } = splitHostPort(this.upstream);
      if (port === 0) throw new AddressError('no port');
      target = { host: host === '' || host.toLowerCase() === 'localhost' ? '127.0.0.1' : host, port };
    } catch {
      client.destroy();
      return;
    }
    this.dialing.add(client);
    // Host names resolve to IPv4 first (spec 8): Node would otherwise race ::1 and 127.0.0.1.
    const family = isIP(target.host) === 0 ? 4 : undefined;
    const upstream = connect({ host: target.host, port: target.port, family, allowHalfOpen: true, noDelay: true });
    upstream.on('error', () => {});
    const abandon = () => {
      // Client gave up, or the dial failed: the client sees connect then EOF, with no data.
      this.dialing.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', abandon);
    upstream.once('close', abandon);
    upstream.once('connect', () => {
      client.off('close', abandon);
      upstream.off('close', abandon);
      this.dialing.delete(client);
      if (!this.enabled || client.destroyed) {
        abandon();
        return;
      }
      const conn = new Connection(this, client, upstream, { listen: this.listen, upstream: this.upstream });
      this.connections.add(conn);
      conn.start(this.chains);
    });
  }

  connectionClosed(conn: Connection, labels: { listen: string; upstream: string }): void {
    this.connections.delete(conn);
    const metrics = this.ctx.metrics;
    if (!metrics) return;
    for (const direction of ['upstream', 'downstream'] as const) {
      const link = conn.link(direction);
      if (link) metrics.add([direction, this.name, labels.listen, labels.upstream], link.received, link.sent);
    }
  }

  addToxic(toxic: ToxicConfig): void {
    this.chains[toxic.direction].push(toxic);
    for (const conn of this.connections) conn.link(toxic.direction)?.addToxic(toxic);
  }

  updateToxic(toxic: ToxicConfig): void {
    for (const conn of this.connections) conn.link(toxic.direction)?.updateToxic(toxic.name);
  }

  removeToxic(toxic: ToxicConfig): void {
    const chain = this.chains[toxic.direction];
    chain.splice(chain.indexOf(toxic), 1);
    for (const conn of this.connections) conn.link(toxic.direction)?.removeToxic(toxic.name);
  }

  resetToxics(): void {
    for (const toxic of this.toxics()) this.removeToxic(toxic);
  }
}
