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
  BRIDGE_UPLOAD_COMMANDS,
  type BridgeAppCommands,
  type BridgeAttachFile,
  type BridgeCapability,
  type BridgeConfigure,
  type BridgeHello,
  type BridgeWelcome,
} from '../../../protocol/bridge';
import type { LocalWrite, SyncTrigger } from '../../../protocol/device';
import { type AttachFileRequest, FILE_TABLES, type UploadItem } from '../../../protocol/files';
import { Rpc } from '../../common/rpc';
import { type MinimalWebSocket, nextJson, wsEndpoint } from '../ws-endpoint';

/**
 * What the app implements: every command but `ping`, which the bridge answers itself. The optional
 * ones are announced as capabilities when present (the upload commands all four or none).
 */
export type AppCommandHandlers = Omit<BridgeAppCommands, 'ping' | 'configure' | 'attachFile'> & {
  /** `getToken` asks the harness for a fresh JWT; keep it for the app's sync client. */
  configure(c: BridgeConfigure, getToken: () => Promise<string>): Promise<void>;
  /** The file as the app's queue takes it: the bridge has checked the message and decoded the bytes. */
  attachFile?(file: AttachFileRequest): Promise<UploadItem>;
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The harness's attachFile message, checked strictly (nothing is queued from a malformed one). */
export function parseAttachFile(raw: unknown): AttachFileRequest {
  const keys = ['table', 'recordId', 'fileName', 'contentType', 'bytesBase64'] as const;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Error('HRN_ERR_BRIDGE: attachFile takes an object {table, recordId, fileName, contentType, bytesBase64}');
  const o = raw as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !(keys as readonly string[]).includes(k));
  if (extra.length) throw new Error(`HRN_ERR_BRIDGE: attachFile: unknown field(s) ${extra.join(', ')}`);
  for (const k of keys)
    if (typeof o[k] !== 'string' || o[k] === '')
      throw new Error(`HRN_ERR_BRIDGE: attachFile: "${k}" must be a non-empty string`);
  const f = o as unknown as BridgeAttachFile;
  if (!Object.hasOwn(FILE_TABLES, f.table))
    throw new Error(
      `HRN_ERR_BRIDGE: attachFile: table "${f.table}" has no file column; files attach to: ${Object.keys(FILE_TABLES).join(', ')}`,
    );
  if (!BASE64.test(f.bytesBase64)) throw new Error('HRN_ERR_BRIDGE: attachFile: "bytesBase64" is not base64');
  const bin = atob(f.bytesBase64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return { table: f.table, recordId: f.recordId, fileName: f.fileName, contentType: f.contentType, bytes };
}

/** The optional command groups these handlers implement; a partial upload group is a build error of the app. */
function capabilitiesOf(h: AppCommandHandlers): BridgeCapability[] {
  const caps: BridgeCapability[] = h.setOffline ? ['setOffline'] : [];
  const uploads = BRIDGE_UPLOAD_COMMANDS.filter((m) => typeof h[m] === 'function');
  if (uploads.length === BRIDGE_UPLOAD_COMMANDS.length) caps.push('uploads');
  else if (uploads.length)
    throw new Error(
      `HRN_ERR_BRIDGE: the upload queue needs all of ${BRIDGE_UPLOAD_COMMANDS.join(', ')}; this app has only ${uploads.join(', ')}`,
    );
  return caps;
}

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
  const capabilities = capabilitiesOf(o.handlers);
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
    capabilities,
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
    ...(capabilities.includes('uploads')
      ? {
          attachFile: (f: unknown) => h.attachFile!(parseAttachFile(f)),
          uploadsSettled: () => h.uploadsSettled!(),
          uploadStatus: () => h.uploadStatus!(),
          retryFailedUploads: () => h.retryFailedUploads!(),
        }
      : {}),
  } satisfies Omit<Record<keyof BridgeAppCommands, unknown>, 'setOffline' | (typeof BRIDGE_UPLOAD_COMMANDS)[number]>);
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
