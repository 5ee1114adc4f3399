/**
 * Realtime pokes (contract: GET /sync/events). A committed push NOTIFYs inside its transaction, so
 * the poke is delivered exactly when the data is visible, to every server process LISTENing on the
 * database; each process forwards it to its own SSE subscribers of that user. The listener
 * reconnects after a database restart; pokes sent while it is down are lost, which is acceptable:
 * devices still sync on their other triggers.
 */
import type { ServerResponse } from 'node:http';
import pg from 'pg';
import type { Poke } from '../protocol/records';
import type { TableName } from '../protocol/tables';
import { POKE_CHANNEL } from './store';

interface Subscriber {
  userId: string;
  deviceId: string;
  res: ServerResponse;
}

export class PokeHub {
  private readonly subs = new Map<string, Set<Subscriber>>();
  private client: pg.Client | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readyResolve: (() => void) | undefined;
  /** Resolves once LISTEN is active (the first time). */
  readonly ready: Promise<void>;

  constructor(
    private readonly databaseUrl: string,
    private readonly log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void },
    private readonly heartbeatMs = 15_000,
  ) {
    this.ready = new Promise((r) => {
      this.readyResolve = r;
    });
  }

  start(): Promise<void> {
    void this.connect(0);
    this.heartbeat = setInterval(() => this.broadcastComment('heartbeat'), this.heartbeatMs);
    this.heartbeat.unref();
    return this.ready;
  }

  private async connect(attempt: number): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on('error', () => {});
    client.on('end', () => {
      if (this.client === client) this.client = undefined;
      if (!this.closed) this.scheduleReconnect(1);
    });
    client.on('notification', (msg) => {
      if (msg.channel === POKE_CHANNEL && msg.payload) this.dispatch(msg.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${POKE_CHANNEL}`);
      if (this.closed) {
        await client.end().catch(() => {});
        return;
      }
      this.client = client;
      this.readyResolve?.();
    } catch (e) {
      await client.end().catch(() => {});
      this.log.warn(
        { err: e instanceof Error ? e.message : String(e), attempt },
        'events: LISTEN connection failed, retrying',
      );
      this.scheduleReconnect(attempt + 1);
    }
  }

  private scheduleReconnect(attempt: number) {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        void this.connect(attempt);
      },
      Math.min(5000, 100 * 2 ** Math.min(attempt, 6)),
    );
    this.retryTimer.unref();
  }

  private dispatch(payload: string) {
    let p: { u: string; tables: TableName[]; timestamp: number; sourceDeviceId: string };
    try {
      p = JSON.parse(payload);
    } catch {
      return;
    }
    const set = this.subs.get(p.u);
    if (!set) return;
    const poke: Poke = { tables: p.tables, timestamp: p.timestamp, sourceDeviceId: p.sourceDeviceId };
    const frame = `event: poke\ndata: ${JSON.stringify(poke)}\n\n`;
    for (const s of set) {
      // The pushing device already has its changes; the poke is for the user's other devices.
      if (s.deviceId === p.sourceDeviceId) continue;
      s.res.write(frame);
    }
  }

  private broadcastComment(text: string) {
    for (const set of this.subs.values()) for (const s of set) s.res.write(`: ${text}\n\n`);
  }

  /** Registers an SSE response; removed automatically when the connection closes. */
  subscribe(userId: string, deviceId: string, res: ServerResponse): () => void {
    const sub: Subscriber = { userId, deviceId, res };
    let set = this.subs.get(userId);
    if (!set) {
      set = new Set();
      this.subs.set(userId, set);
    }
    set.add(sub);
    const remove = () => {
      const s = this.subs.get(userId);
      if (!s) return;
      s.delete(sub);
      if (s.size === 0) this.subs.delete(userId);
    };
    res.on('close', remove);
    return remove;
  }

  /** True while the LISTEN connection is up (pokes flow between server processes). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  subscriberCount(): number {
    let n = 0;
    for (const s of this.subs.values()) n += s.size;
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const set of this.subs.values()) for (const s of set) s.res.end();
    this.subs.clear();
    const c = this.client;
    this.client = undefined;
    if (c) await c.end().catch(() => {});
  }
}
