/**
 * The harness side of the app test bridge: one WebSocket server per process, shared by every phone
 * driven through the bridge (the simulated phone and real apps under Detox). Each device registers a
 * session; the app it launches connects with that session in its hello. A relaunched app connects
 * again with the same session and replaces the old connection.
 */
import { randomBytes } from 'node:crypto';
import { type WebSocket, WebSocketServer } from 'ws';
import { BRIDGE_PROTOCOL, type BridgeAppCommands, type BridgeHello, type BridgeWelcome } from '../../protocol/bridge';
import { HarnessError } from '../../protocol/harness-error';
import { Rpc } from '../common/rpc';
import { type MinimalWebSocket, nextJson, wsEndpoint } from './ws-endpoint';

export interface SessionHandlers {
  getToken(): Promise<string>;
  onEvent?(name: string, data: unknown): void;
}

export class BridgeConnection {
  readonly closed: Promise<void>;
  private readonly rpc: Rpc;
  constructor(
    readonly hello: BridgeHello,
    private readonly ws: WebSocket,
    handlers: SessionHandlers,
  ) {
    this.closed = new Promise((r) => ws.once('close', () => r()));
    this.rpc = new Rpc(
      wsEndpoint(ws as unknown as MinimalWebSocket),
      { getToken: () => handlers.getToken() },
      (name, data) => handlers.onEvent?.(name, data),
    );
    void this.closed.then(() => this.rpc.close(`the app of session ${hello.session} disconnected from the bridge`));
  }

  call<K extends keyof BridgeAppCommands>(
    method: K,
    ...args: Parameters<NonNullable<BridgeAppCommands[K]>>
  ): Promise<Awaited<ReturnType<NonNullable<BridgeAppCommands[K]>>>> {
    return this.rpc.call(method, ...args);
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  close(): void {
    this.ws.close();
  }
}

interface Session {
  handlers: SessionHandlers;
  current?: BridgeConnection;
  waiters: Array<(c: BridgeConnection) => void>;
}

export class BridgeServer {
  private readonly sessions = new Map<string, Session>();
  private constructor(
    private readonly wss: WebSocketServer,
    readonly port: number,
    readonly host: string,
  ) {
    wss.on('connection', (ws) => void this.accept(ws));
  }

  static async start(o: { port?: number; host?: string } = {}): Promise<BridgeServer> {
    const host = o.host ?? '127.0.0.1';
    const wss = new WebSocketServer({ host, port: o.port ?? 0 });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', (e) =>
        reject(
          new HarnessError('HRN_ERR_BRIDGE', `bridge server cannot listen on ${host}:${o.port ?? 0}: ${e.message}`),
        ),
      );
    });
    return new BridgeServer(wss, (wss.address() as { port: number }).port, host);
  }

  /** ws:// URL as the harness host sees it (on Android the app reaches the same via `adb reverse`). */
  get url(): string {
    return `ws://${this.host}:${this.port}`;
  }

  /** A new session for one device; the app must present it in its hello. */
  register(label: string, handlers: SessionHandlers): string {
    const session = `${label.replace(/[^A-Za-z0-9_-]/g, '_')}-${randomBytes(6).toString('hex')}`;
    this.sessions.set(session, { handlers, waiters: [] });
    return session;
  }

  unregister(session: string): void {
    this.sessions.get(session)?.current?.close();
    this.sessions.delete(session);
  }

  /** The app's next connection on this session (or the current one when `current` and still open). */
  waitForApp(session: string, o: { timeoutMs: number; current?: boolean }): Promise<BridgeConnection> {
    const s = this.sessions.get(session);
    if (!s) return Promise.reject(new HarnessError('HRN_ERR_BRIDGE', `unknown bridge session ${session}`));
    if (o.current && s.current?.open) return Promise.resolve(s.current);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        s.waiters = s.waiters.filter((w) => w !== done);
        reject(
          new HarnessError(
            'HRN_ERR_BRIDGE',
            `the app did not connect to the bridge (${this.url}, session ${session}) within ${o.timeoutMs} ms: is the test bridge in the build, and are the launch arguments read?`,
          ),
        );
      }, o.timeoutMs);
      const done = (c: BridgeConnection) => {
        clearTimeout(t);
        resolve(c);
      };
      s.waiters.push(done);
    });
  }

  private async accept(ws: WebSocket): Promise<void> {
    let hello: BridgeHello;
    const refuse = (reason: string) => {
      ws.send(JSON.stringify({ t: 'refused', reason } satisfies BridgeWelcome));
      ws.close();
    };
    try {
      hello = await nextJson(ws as unknown as MinimalWebSocket, 10_000);
    } catch (e) {
      return refuse(`expected a hello: ${(e as Error).message}`);
    }
    if (hello?.t !== 'hello') return refuse(`expected a hello, got ${JSON.stringify(hello?.t)}`);
    if (hello.protocol !== BRIDGE_PROTOCOL)
      return refuse(`bridge protocol ${hello.protocol} is not supported (the harness speaks ${BRIDGE_PROTOCOL})`);
    const s = this.sessions.get(hello.session);
    if (!s) return refuse(`unknown session ${JSON.stringify(hello.session)}`);
    s.current?.close();
    const conn = new BridgeConnection(hello, ws, s.handlers);
    s.current = conn;
    ws.send(JSON.stringify({ t: 'welcome', protocol: BRIDGE_PROTOCOL } satisfies BridgeWelcome));
    for (const w of s.waiters.splice(0)) w(conn);
  }

  async close(): Promise<void> {
    for (const s of this.sessions.values()) s.current?.close();
    this.sessions.clear();
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}

let shared: Promise<BridgeServer> | undefined;
let sharedPort: number | undefined;

/** The process's bridge server (started on first use; `port` only matters for the first caller). */
export function sharedBridgeServer(port?: number): Promise<BridgeServer> {
  if (shared && port !== undefined && sharedPort !== undefined && port !== 0 && port !== sharedPort)
    return Promise.reject(
      new HarnessError('HRN_ERR_BRIDGE', `the bridge server already listens on port ${sharedPort}, not ${port}`),
    );
  if (!shared) {
    shared = BridgeServer.start({ port });
    shared.then(
      (s) => {
        sharedPort = s.port;
      },
      () => {
        shared = undefined;
      },
    );
  }
  return shared;
}

export async function closeSharedBridgeServer(): Promise<void> {
  const s = shared;
  shared = undefined;
  sharedPort = undefined;
  await (await s?.catch(() => undefined))?.close();
}
