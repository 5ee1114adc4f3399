/**
 * A `Device` whose app runs elsewhere and is driven through the test bridge. What launches the app
 * (Detox on an emulator, or the simulated phone in this process) is an `AppHost`; everything the
 * runner asks goes over the bridge protocol, so one driver serves every app host.
 */

import type { BridgeAttachFile, BridgeCommandName, BridgeConfigure } from '../../protocol/bridge';
import type {
  Device,
  DeviceContext,
  DeviceKindName,
  EnergyReading,
  FileAttachment,
  LocalWrite,
  MeasuredEnergy,
  SyncOutcome,
  SyncTrigger,
} from '../../protocol/device';
import {
  FILE_TABLES,
  type UploadItem,
  type UploadingDevice,
  type UploadQueueStatus,
  type UploadSummary,
} from '../../protocol/files';
import { HarnessError } from '../../protocol/harness-error';
import type { TableRecords } from '../../protocol/records';
import { summarizeUploads } from '../common/upload-queue';
import { type BridgeConnection, type BridgeServer, sharedBridgeServer } from './server';

export interface LaunchRequest {
  /** ws:// URL of the harness bridge as the app must reach it. */
  bridgeUrl: string;
  bridgePort: number;
  session: string;
  /** The device's proxy URL: the app's API base. */
  apiBase: string;
  ctx: DeviceContext;
  /** false: bring a backgrounded app to the foreground instead of a cold start. */
  newInstance: boolean;
}

/** Where the app runs. Only `launch` and `terminate` are required; the rest are faults some hosts support. */
export interface AppHost {
  readonly name: string;
  /** Called once before the first launch (boot a device, reset battery statistics…). */
  prepare?(ctx: DeviceContext, bridgePort: number): Promise<void>;
  launch(r: LaunchRequest): Promise<void>;
  /** Kill the app abruptly (device.terminateApp). */
  terminate(): Promise<void>;
  /** Device-level airplane/offline mode, where the platform has one. */
  setOffline?(offline: boolean): Promise<void>;
  /** Send the app to the background / bring it back (background fetch). */
  background?(): Promise<void>;
  foreground?(r: LaunchRequest): Promise<void>;
  /** Battery readings of the real device for the run, labelled 'measured'. */
  measureEnergy?(): Promise<MeasuredEnergy | undefined>;
  /** Release the device (Detox cleanup). */
  stop(): Promise<void>;
}

export interface BridgeDeviceOptions {
  id: string;
  kind: DeviceKindName;
  host: AppHost;
  /** Port of the shared bridge server (0: any free port). */
  bridgePort?: number;
  /** Wall ms to wait for the app to connect after a launch. */
  connectTimeoutMs?: number;
  /** Radio and battery for the app's energy model (sent in configure). */
  energy?: BridgeConfigure['energy'];
}

export class BridgeDevice implements Device, UploadingDevice {
  readonly id: string;
  readonly kind: DeviceKindName;
  private server?: BridgeServer;
  private session?: string;
  private conn?: BridgeConnection;
  private ctx?: DeviceContext;
  private modelled?: EnergyReading;
  private measured?: MeasuredEnergy;
  private offsetSent: Promise<void> = Promise.resolve();
  /** The app's upload queue as of its last upload command, sync or launch (uploadStatus is synchronous). */
  private uploads?: UploadQueueStatus;
  /** Wall ms of every bridge round trip, per command (for the bench and the report). */
  readonly roundTrips: Array<{ method: string; ms: number }> = [];

  constructor(private readonly o: BridgeDeviceOptions) {
    this.id = o.id;
    this.kind = o.kind;
  }

  get host(): AppHost {
    return this.o.host;
  }

  get connection(): BridgeConnection | undefined {
    return this.conn;
  }

  async start(ctx: DeviceContext): Promise<void> {
    this.ctx = ctx;
    this.server = await sharedBridgeServer(this.o.bridgePort);
    this.session = this.server.register(`${ctx.deviceId}`, {
      getToken: () => ctx.getToken(),
      onEvent: (name, data) => {
        if (name === 'log') ctx.log(String(data));
      },
    });
    await this.o.host.prepare?.(ctx, this.server.port);
    await this.launch(true);
  }

  private request(newInstance: boolean): LaunchRequest {
    return {
      bridgeUrl: this.server!.url,
      bridgePort: this.server!.port,
      session: this.session!,
      apiBase: this.ctx!.serverUrl,
      ctx: this.ctx!,
      newInstance,
    };
  }

  private async launch(newInstance: boolean): Promise<void> {
    const connected = this.server!.waitForApp(this.session!, { timeoutMs: this.o.connectTimeoutMs ?? 120_000 });
    connected.catch(() => {});
    await this.o.host.launch(this.request(newInstance));
    await this.attach(await connected);
  }

  private async attach(conn: BridgeConnection): Promise<void> {
    this.conn = conn;
    const ctx = this.ctx!;
    await this.call('configure', {
      serverUrl: ctx.serverUrl,
      userId: ctx.userId,
      deviceId: ctx.deviceId,
      platform: ctx.platform,
      schemaVersion: ctx.schemaVersion,
      ...(this.o.energy ? { energy: this.o.energy } : {}),
    } satisfies BridgeConfigure);
    // A relaunched app resumes its persisted queue; what it holds now is what the harness reports.
    if (this.attachesFiles()) await this.refreshUploads();
    else
      ctx.log(
        `${this.appName()} announces no 'uploads' capability: files handed to this phone (a watch's FIT) are not uploaded through it`,
      );
  }

  private appName(): string {
    const a = this.conn?.hello.app;
    return a ? `the app "${a.name}" ${a.version} (${a.platform})` : 'the app';
  }

  private async call(method: BridgeCommandName, ...args: unknown[]): Promise<any> {
    if (!this.conn) throw new HarnessError('HRN_ERR_BRIDGE', `device ${this.id}: the app is not connected`);
    const t0 = performance.now();
    const v = await (this.conn.call as (m: string, ...a: unknown[]) => Promise<unknown>)(method, ...args);
    this.roundTrips.push({ method, ms: performance.now() - t0 });
    return v;
  }

  async write(op: LocalWrite): Promise<void> {
    await this.offsetSent;
    await this.call('write', op);
  }

  async sync(trigger: SyncTrigger): Promise<SyncOutcome> {
    await this.offsetSent;
    const out = (await this.call('sync', trigger)) as SyncOutcome;
    this.modelled = await this.call('energy').catch(() => this.modelled);
    // Uploads waiting for their record complete after a sync.
    if (this.uploads) await this.refreshUploads().catch(() => {});
    return out;
  }

  /** Whether the connected app has an upload queue (its hello announced `uploads`). */
  attachesFiles(): boolean {
    return !!this.conn?.hello.capabilities.includes('uploads');
  }

  private needUploads(what: string): void {
    if (!this.conn) throw new HarnessError('HRN_ERR_BRIDGE', `device ${this.id}: the app is not connected`);
    if (!this.attachesFiles())
      throw new HarnessError(
        'HRN_ERR_BRIDGE_CAPABILITY',
        `device ${this.id}: ${this.appName()} did not announce the 'uploads' capability in its hello, so it cannot ${what}; nothing was queued or uploaded`,
      );
  }

  private async refreshUploads(): Promise<void> {
    this.uploads = ((await this.call('uploadStatus')) as UploadQueueStatus | null) ?? this.uploads;
  }

  /** Queues a file in the app's upload queue; resolves once the app has persisted it. */
  async attachFile(file: FileAttachment): Promise<UploadItem> {
    if (!Object.hasOwn(FILE_TABLES, file.table))
      throw new HarnessError(
        'HRN_ERR_SCENARIO',
        `device ${this.id}: table "${file.table}" has no file column; files attach to: ${Object.keys(FILE_TABLES).join(', ')}`,
      );
    if (file.bytes.byteLength === 0)
      throw new HarnessError(
        'HRN_ERR_SCENARIO',
        `device ${this.id}: ${file.fileName} is empty; only files of >= 1 byte upload`,
      );
    this.needUploads(`attach ${file.fileName}`);
    await this.offsetSent;
    const item = (await this.call('attachFile', {
      table: file.table,
      recordId: file.recordId,
      fileName: file.fileName,
      contentType: file.contentType,
      bytesBase64: Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength).toString('base64'),
    } satisfies BridgeAttachFile)) as UploadItem;
    await this.refreshUploads();
    return item;
  }

  /** Resolves when the app's queue is drained or every remaining item failed; at once for an app without one. */
  async uploadsSettled(): Promise<void> {
    if (this.conn && !this.attachesFiles()) return;
    this.needUploads('settle its uploads');
    await this.call('uploadsSettled');
    await this.refreshUploads();
  }

  async retryFailedUploads(): Promise<number> {
    this.needUploads('retry failed uploads');
    const n = (await this.call('retryFailedUploads')) as number;
    await this.refreshUploads();
    return n;
  }

  uploadStatus(): UploadQueueStatus | undefined {
    return this.uploads;
  }

  uploadSummary(): UploadSummary | undefined {
    return summarizeUploads(this.uploads);
  }

  snapshot(): Promise<TableRecords> {
    return this.call('snapshot');
  }

  pendingChanges(): Promise<number> {
    return this.call('pendingChanges');
  }

  /** Round trip of a no-op command (wall ms). */
  async ping(): Promise<number> {
    const t0 = performance.now();
    await this.call('ping');
    return performance.now() - t0;
  }

  setClockOffset(ms: number): void {
    // Device's setClockOffset is synchronous; the next command waits for the app to have applied it.
    this.offsetSent = this.offsetSent.then(() => this.call('setClockOffset', ms)).catch(() => {});
  }

  /** The app's modelled reading, with the host's measured one (batterystats) beside it when there is one. */
  energy(): EnergyReading {
    const m = this.measured;
    const e = this.modelled ?? { source: 'modelled', joules: 0, batteryPct: 0 };
    return m ? { ...e, measured: m } : e;
  }

  /**
   * Device-level offline on top of the proxy cut the offline fault already makes: the host's
   * (airplane mode) or the app's own switch. Neither: the proxy cut alone, said in the device log.
   */
  async setOffline(offline: boolean): Promise<void> {
    if (this.o.host.setOffline) return this.o.host.setOffline(offline);
    if (this.conn?.hello.capabilities.includes('setOffline')) return this.call('setOffline', offline);
    this.ctx?.log(`${this.o.host.name} has no device-level offline mode; only the proxy cuts its traffic`);
  }

  /** App kill (terminateApp): the app's store survives; restart() launches it cold. */
  async kill(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    await this.o.host.terminate();
    if (!conn) return;
    // A killed app's socket closes when its process dies; if the device never tells us (a stuck
    // adb reverse), drop it ourselves so no later call goes to a dead app.
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([
      conn.closed.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), 10_000);
      }),
    ]);
    clearTimeout(timer);
    if (!gone) {
      this.ctx?.log('the app did not close its bridge socket within 10 s of terminateApp; closing it');
      conn.close();
    }
  }

  async restart(): Promise<void> {
    await this.launch(true);
  }

  /** Background the app (home button) and bring it back; the app keeps its bridge socket. */
  async background(): Promise<void> {
    if (!this.o.host.background)
      throw new HarnessError('HRN_ERR_FAULT_UNSUPPORTED', `device ${this.id}: ${this.o.host.name} cannot background`);
    await this.o.host.background();
  }

  async foreground(): Promise<void> {
    if (!this.o.host.foreground)
      throw new HarnessError('HRN_ERR_FAULT_UNSUPPORTED', `device ${this.id}: ${this.o.host.name} cannot foreground`);
    await this.o.host.foreground(this.request(false));
    // An OS may have closed the socket while backgrounded; the app reconnects on the same session.
    const prev = this.conn;
    const c = await this.server!.waitForApp(this.session!, {
      timeoutMs: this.o.connectTimeoutMs ?? 120_000,
      current: true,
    });
    if (c !== prev) await this.attach(c);
  }

  async stop(): Promise<void> {
    if (this.conn?.open) {
      this.modelled = await this.call('energy').catch(() => this.modelled);
      if (this.attachesFiles()) await this.refreshUploads().catch(() => {});
    }
    this.measured = await this.o.host.measureEnergy?.().catch((e) => {
      this.ctx?.log(`battery reading failed: ${(e as Error).message}`);
      return undefined;
    });
    await this.o.host.stop();
    if (this.session) this.server?.unregister(this.session);
    this.conn = undefined;
  }
}
