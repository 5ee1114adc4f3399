/**
 * The app side of the test bridge: the module a React Native test build includes (README.md). It
 * connects to the harness over WebSocket, says hello with the session from its launch arguments, and
 * executes the harness's commands against the app's own data layer (`AppCommandHandlers`). The
 * simulated phone runs this same file (devices/bridge/sim-app.ts), so the real app differs only in
 * where the socket goes.
 *
 * No Node import: WebSocket is the global one (React Native, browsers, Node >= 22) unless one is
 * passed (the `ws` package in Node 20).
 */
import {
  BRIDGE_PROTOCOL,
  type BridgeAppCommands,
  type BridgeConfigure,
  type BridgeHello,
  type BridgeWelcome,
} from '../../../protocol/bridge';
import type { LocalWrite, SyncTrigger } from '../../../protocol/device';
import { Rpc } from '../../common/rpc';
import { type MinimalWebSocket, nextJson, wsEndpoint } from '../ws-endpoint';

/** What the app implements: every command but `ping`, which the bridge answers itself. */
export type AppCommandHandlers = Omit<BridgeAppCommands, 'ping' | 'configure'> & {
  /** `getToken` asks the harness for a fresh JWT; keep it for the app's sync client. */
  configure(c: BridgeConfigure, getToken: () => Promise<string>): Promise<void>;
};

export interface AppBridgeOptions {
  /** ws://host:port of the harness bridge (launch argument `harnessBridgeUrl`). */
  url: string;
  /** Launch argument `harnessSession`. */
  session: string;
  app: BridgeHello['app'];
  handlers: AppCommandHandlers;
  /** WebSocket constructor; default `globalThis.WebSocket`. */
  WebSocket?: new (
    url: string,
  ) => MinimalWebSocket;
  handshakeTimeoutMs?: number;
}

export interface AppBridge {
  getToken(): Promise<string>;
  log(line: string): void;
  phase(name: string): void;
  /** Resolves when the harness side closes the socket (or `close()`). */
  readonly closed: Promise<void>;
  close(): void;
}

/** Launch arguments the harness passes (Detox `launchArgs`; read them with react-native-launch-arguments). */
export interface BridgeLaunchArgs {
  harnessBridgeUrl: string;
  harnessSession: string;
  harnessApiBase: string;
}

export async function connectAppBridge(o: AppBridgeOptions): Promise<AppBridge> {
  const WS = o.WebSocket ?? (globalThis as { WebSocket?: new (url: string) => MinimalWebSocket }).WebSocket;
  if (!WS) throw new Error('HRN_ERR_BRIDGE: no WebSocket implementation (pass options.WebSocket)');
  const ws = new WS(o.url);
  const closed = new Promise<void>((r) => ws.addEventListener('close', () => r()));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', (e) =>
      reject(new Error(`HRN_ERR_BRIDGE: cannot reach ${o.url}: ${(e as { message?: string })?.message ?? 'error'}`)),
    );
  });
  const hello: BridgeHello = {
    t: 'hello',
    protocol: BRIDGE_PROTOCOL,
    session: o.session,
    app: o.app,
    capabilities: o.handlers.setOffline ? ['setOffline'] : [],
  };
  const welcomeP = nextJson(ws, o.handshakeTimeoutMs ?? 10_000);
  ws.send(JSON.stringify(hello));
  const welcome = (await welcomeP) as BridgeWelcome;
  if (welcome.t !== 'welcome') {
    ws.close();
    throw new Error(`HRN_ERR_BRIDGE: the harness refused the app: ${welcome.reason}`);
  }
  const h = o.handlers;
  const holder: { rpc?: Rpc } = {};
  const getToken = () => holder.rpc!.call<string>('getToken');
  const rpc = new Rpc(wsEndpoint(ws), {
    configure: (c: BridgeConfigure) => h.configure(c, getToken),
    write: (op: LocalWrite) => h.write(op),
    sync: (trigger: SyncTrigger) => h.sync(trigger),
    snapshot: () => h.snapshot(),
    pendingChanges: () => h.pendingChanges(),
    setClockOffset: (ms: number) => h.setClockOffset(ms),
    energy: () => h.energy(),
    ping: () => Date.now(),
    ...(h.setOffline ? { setOffline: (v: boolean) => h.setOffline!(v) } : {}),
  } satisfies Omit<Record<keyof BridgeAppCommands, unknown>, 'setOffline'>);
  holder.rpc = rpc;
  void closed.then(() => rpc.close('the harness closed the bridge'));
  return {
    getToken,
    log: (line) => rpc.emit('log', line),
    phase: (name) => rpc.emit('phase', name),
    closed,
    close: () => ws.close(),
  };
}
