/**
 * Test kit for the Toxiproxy conformance suite (compat spec section 9): the target abstraction
 * (embedded proxy, or a real Toxiproxy from TOXIPROXY_URL), real TCP peers that record what they
 * receive and when, and timing bounds. No mocks: every byte crosses real loopback sockets.
 */
import { connect, createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startEmbeddedToxiproxy } from './embedded/index';

// ---------------------------------------------------------------- timing bounds

const SLACK_OVERRIDE = Number(process.env.TOXIPROXY_COMPAT_SLACK_MS) || 0;
/** Extra room added to every upper bound when TOXIPROXY_COMPAT_SLACK_MS asks for more than the default 200 ms. */
export const EXTRA = Math.max(0, SLACK_OVERRIDE - 200);
/** SLACK = max(200 ms, 20% of the nominal), or the override. */
export function slack(nominal = 0): number {
  return Math.max(200, nominal * 0.2, SLACK_OVERRIDE);
}
/** "fast" = under 150 ms. */
export const FAST = 150 + EXTRA;
/** An upper bound of a spec range (lower bounds are exact and never widened). */
export const upper = (ms: number) => ms + EXTRA;

/** A [T] measurement that came too late: the only failure a timing item may be retried for. */
export class UpperBoundError extends Error {}

export function expectWithin(value: number, lo: number, hi: number, what: string): void {
  if (value < lo) throw new Error(`${what}: ${value.toFixed(1)} ms is below the exact lower bound ${lo} ms`);
  if (value > hi) throw new UpperBoundError(`${what}: ${value.toFixed(1)} ms is above the upper bound ${hi} ms`);
}

export const now = () => performance.now();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- cleanup

const open = new Set<{ close(): void }>();
/** Closes every socket and server created since the last call. */
export function closeAll(): void {
  for (const o of open) o.close();
  open.clear();
}

// ---------------------------------------------------------------- peers

/** One end of a TCP connection, recording chunks with arrival times, EOF, errors and close. */
export class Peer {
  readonly chunks: Array<{ t: number; data: Buffer }> = [];
  length = 0;
  endedAt: number | undefined;
  closedAt: number | undefined;
  error: NodeJS.ErrnoException | undefined;
  errorAt: number | undefined;
  private waiters = new Set<() => void>();

  constructor(readonly sock: Socket) {
    open.add({ close: () => sock.destroy() });
    sock.on('data', (d: Buffer) => {
      this.chunks.push({ t: now(), data: d });
      this.length += d.length;
      this.notify();
    });
    sock.on('end', () => {
      this.endedAt = now();
      this.notify();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      this.error = e;
      this.errorAt = now();
      this.notify();
    });
    sock.on('close', () => {
      this.closedAt = now();
      this.notify();
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks.map((c) => c.data));
  }
  text(): string {
    return this.bytes.toString('latin1');
  }
  /** Time the byte at `offset` (0-based) arrived. */
  arrivalOf(offset: number): number | undefined {
    let seen = 0;
    for (const c of this.chunks) {
      seen += c.data.length;
      if (seen > offset) return c.t;
    }
    return undefined;
  }
  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Resolves when pred() holds; rejects with UpperBoundError after timeoutMs. */
  until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new UpperBoundError(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  untilBytes(n: number, timeoutMs: number): Promise<void> {
    return this.until(() => this.length >= n, timeoutMs, `${n} bytes (have ${this.length})`);
  }
  untilClosed(timeoutMs: number): Promise<void> {
    return this.until(() => this.closed, timeoutMs, 'the connection to close');
  }

  write(data: string | Buffer): number {
    const t = now();
    this.sock.write(data);
    return t;
  }

  /** Writes `data` and waits for it to come back (peer is an echo); returns the RTT in ms. */
  async echo(data: string | Buffer, timeoutMs = 5000): Promise<number> {
    const want = this.length + Buffer.byteLength(data);
    const t0 = this.write(data);
    await this.untilBytes(want, timeoutMs);
    return this.arrivalOf(want - 1)! - t0;
  }
}

export function connectPeer(host: string, port: number): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port, noDelay: true });
    const peer = new Peer(sock);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(peer);
    });
    sock.once('error', reject);
  });
}

/** Outcome of a connect attempt: 'refused', 'closed-without-data' or 'open'. */
export async function probeConnect(host: string, port: number, waitMs = 300): Promise<'refused' | 'closed' | 'open'> {
  let peer: Peer;
  try {
    peer = await connectPeer(host, port);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ECONNREFUSED') return 'refused';
    throw e;
  }
  await peer.untilClosed(waitMs).catch(() => {});
  const result = peer.closed && peer.length === 0 ? 'closed' : 'open';
  peer.sock.destroy();
  return result;
}

// ---------------------------------------------------------------- upstream servers

export type UpstreamBehaviour = 'echo' | 'record' | ((peer: Peer) => void);

/** A server in the test process that the proxy forwards to. */
export class Upstream {
  readonly conns: Peer[] = [];
  private waiters = new Set<() => void>();
  private constructor(readonly port: number) {}

  static async start(behaviour: UpstreamBehaviour, host = process.env.TOXIPROXY_UPSTREAM_BIND ?? '127.0.0.1') {
    const server = createServer({ noDelay: true });
    const up = await new Promise<Upstream>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve(new Upstream((server.address() as { port: number }).port)));
    });
    server.on('error', () => {});
    server.on('connection', (sock) => {
      const peer = new Peer(sock);
      if (behaviour === 'echo') sock.on('data', (d) => sock.write(d));
      else if (typeof behaviour === 'function') behaviour(peer);
      up.conns.push(peer);
      for (const w of [...up.waiters]) w();
    });
    open.add({ close: () => server.close() });
    return up;
  }

  /** The n-th accepted connection (0-based), waiting for it if needed. */
  conn(n: number, timeoutMs = 2000): Promise<Peer> {
    if (this.conns[n]) return Promise.resolve(this.conns[n]!);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!this.conns[n]) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.conns[n]!);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new UpperBoundError(`upstream connection #${n} did not arrive within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }
}

// ---------------------------------------------------------------- targets

export interface Target {
  kind: 'embedded' | 'real';
  /** Container-style real target: its port forwarder may accept on disabled ports, RST may look like EOF. */
  container: boolean;
  apiUrl: string;
  client: Toxiproxy;
  /** `listen` strings for `count` new proxies (distinct ports on a container target). */
  allocateListens(count: number): Promise<string[]>;
  /** Where a test client connects for a proxy whose reported listen is `listen`. */
  clientAddress(listen: string): { host: string; port: number };
  /** How the proxy reaches a server of the test process listening on `localPort`. */
  upstreamAddress(localPort: number): string;
  close(): Promise<void>;
}

export function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

/**
 * TOXIPROXY_URL unset: the embedded proxy. Set: a real Toxiproxy. For one in a container also set
 * TOXIPROXY_PORTS=8666-8697 (published 1:1 on the host), TOXIPROXY_UPSTREAM_HOST (how the container
 * reaches this process, e.g. host.docker.internal) and TOXIPROXY_UPSTREAM_BIND=0.0.0.0.
 */
export async function createTarget(): Promise<Target> {
  const url = process.env.TOXIPROXY_URL?.replace(/\/+$/, '');
  if (!url) {
    const server = await startEmbeddedToxiproxy();
    return {
      kind: 'embedded',
      container: false,
      apiUrl: server.url,
      client: new Toxiproxy(server.url),
      allocateListens: async (count) => Array.from({ length: count }, () => '127.0.0.1:0'),
      clientAddress: (listen) => ({ host: '127.0.0.1', port: portOf(listen) }),
      upstreamAddress: (p) => `127.0.0.1:${p}`,
      close: () => server.close(),
    };
  }
  const range = process.env.TOXIPROXY_PORTS?.match(/^(\d+)-(\d+)$/);
  const upstreamHost = process.env.TOXIPROXY_UPSTREAM_HOST ?? '127.0.0.1';
  const clientHost = process.env.TOXIPROXY_CLIENT_HOST ?? new URL(url).hostname.replace(/^\[|\]$/g, '');
  const client = new Toxiproxy(url);
  return {
    kind: 'real',
    container: range !== null,
    apiUrl: url,
    client,
    async allocateListens(count) {
      if (!range) return Array.from({ length: count }, () => '127.0.0.1:0');
      const used = new Set(Object.values(await client.getAll()).map((p) => portOf(p.listen)));
      const out: string[] = [];
      for (let p = Number(range[1]); p <= Number(range[2]) && out.length < count; p++) {
        if (!used.has(p)) out.push(`0.0.0.0:${p}`);
      }
      if (out.length < count) throw new Error(`not enough free proxy ports left in ${range[0]}`);
      return out;
    },
    clientAddress: (listen) => ({ host: clientHost, port: portOf(listen) }),
    upstreamAddress: (p) => `${upstreamHost}:${p}`,
    close: async () => {},
  };
}

// ---------------------------------------------------------------- raw API

export interface RawResponse {
  status: number;
  text: string;
  type: string | null;
  json: any;
}

/** A raw API call, for what the npm client hides (error bodies, PATCH, odd paths and bodies). */
export async function api(
  base: string,
  method: string,
  path: string,
  body?: string | object,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const res = await fetch(base + path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, type: res.headers.get('content-type'), json };
}
