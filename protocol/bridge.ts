/**
 * The app test bridge (devices/bridge): the command protocol the harness speaks to a phone app over
 * WebSocket. A real React Native app under Detox and the simulated phone speak the same messages,
 * so a scenario drives either through one harness-side server; only the transport endpoint differs.
 *
 * Framing: one JSON object per WebSocket text message, in the envelope of devices/common/rpc.ts
 * (`call` / `result` / `event`), after a `hello` → `welcome` handshake. Types only (no runtime
 * import), so the app side can include this file unchanged.
 */
import type { EnergyReading, LocalWrite, SyncOutcome, SyncTrigger } from './device';
import type { UploadItem, UploadQueueStatus } from './files';
import type { Platform, TableRecords } from './records';
import type { SchemaVersion } from './tables';

export const BRIDGE_PROTOCOL = 1;

/** First message, app → harness. `session` is what the harness passed in the launch arguments. */
export interface BridgeHello {
  t: 'hello';
  protocol: number;
  session: string;
  app: { name: string; version: string; platform: Platform | 'simulated' };
  /** Optional commands this app implements (see BridgeAppCommands). */
  capabilities: BridgeCapability[];
}

/**
 * Optional command groups. New ones are added as capabilities, not as a protocol version: an older
 * app simply does not announce them and keeps working for everything else.
 * `uploads`: the app's file upload queue (RFC 2.2.6), all of attachFile, uploadsSettled,
 * uploadStatus and retryFailedUploads.
 */
export type BridgeCapability = 'setOffline' | 'backgroundFetch' | 'uploads';

/** The commands an app announcing `uploads` answers (all of them, or it must not announce it). */
export const BRIDGE_UPLOAD_COMMANDS = ['attachFile', 'uploadsSettled', 'uploadStatus', 'retryFailedUploads'] as const;

/** `attachFile`'s argument: a file for a record, its bytes as base64 (the message is JSON text). */
export interface BridgeAttachFile {
  /** A table with a file column (protocol/files.ts FILE_TABLES: `activities`). */
  table: string;
  recordId: string;
  fileName: string;
  contentType: string;
  bytesBase64: string;
}

/** Harness → app after a hello: accepted, or refused with the reason (then the socket closes). */
export type BridgeWelcome = { t: 'welcome'; protocol: number } | { t: 'refused'; reason: string };

/** What the app needs to reach its own sync endpoint (the device's fault proxy). */
export interface BridgeConfigure {
  /** API base URL for the app's sync client (the device's proxy; on Android reached via `adb reverse`). */
  serverUrl: string;
  userId: string;
  deviceId: string;
  platform: Platform;
  schemaVersion: SchemaVersion;
  /** What the app's own energy model charges (the scenario's device spec); an app may ignore it. */
  energy?: { radio: 'lte' | '3g' | 'wifi'; batteryMah: number; batteryVolts: number };
}

/** Commands harness → app: the calls of `Device` (protocol/device.ts), one method each. */
export interface BridgeAppCommands {
  /** Once after every hello (also after a relaunch): where to sync, as whom. */
  configure(c: BridgeConfigure): Promise<void>;
  write(op: LocalWrite): Promise<void>;
  sync(trigger: SyncTrigger): Promise<SyncOutcome>;
  snapshot(): Promise<TableRecords>;
  pendingChanges(): Promise<number>;
  setClockOffset(ms: number): Promise<void>;
  /** The app's own energy estimate (`source: 'modelled'`); measured readings come from the host OS. */
  energy(): Promise<EnergyReading>;
  /** Round trip without work (bench, liveness). */
  ping(): Promise<number>;
  /** Optional (capability `setOffline`): the app's own network switch. */
  setOffline?(offline: boolean): Promise<void>;
  /**
   * Capability `uploads`: queue a file for a record in the app's persisted upload queue and start
   * uploading; answers once it is persisted (not uploaded) with the queued item.
   */
  attachFile?(file: BridgeAttachFile): Promise<UploadItem>;
  /** Capability `uploads`: answers when the queue is empty, or every remaining item failed or waits for a sync. */
  uploadsSettled?(): Promise<void>;
  /** Capability `uploads`: the queue's state now (`null` before the queue is loaded). */
  uploadStatus?(): Promise<UploadQueueStatus | null>;
  /** Capability `uploads`: the failed queue back into the queue, started; answers how many items moved. */
  retryFailedUploads?(): Promise<number>;
}

/** Calls app → harness: what only the harness owns. */
export interface BridgeHarnessCommands {
  /** A fresh JWT for the configured user and device (tokens expire during long runs). */
  getToken(): Promise<string>;
}

/** Events app → harness (fire and forget): `log` lines go to the device log, `phase` to progress. */
export type BridgeEventName = 'log' | 'phase';

export type BridgeCommandName = keyof BridgeAppCommands;

/** Every message name of the protocol, for docs and the bench report. */
export const BRIDGE_MESSAGES = {
  handshake: ['hello', 'welcome', 'refused'],
  appCommands: [
    'configure',
    'write',
    'sync',
    'snapshot',
    'pendingChanges',
    'setClockOffset',
    'energy',
    'ping',
    'setOffline',
    ...BRIDGE_UPLOAD_COMMANDS,
  ] satisfies BridgeCommandName[],
  harnessCommands: ['getToken'] satisfies Array<keyof BridgeHarnessCommands>,
  events: ['log', 'phase'] satisfies BridgeEventName[],
} as const;
