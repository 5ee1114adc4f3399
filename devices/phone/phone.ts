/**
 * The simulated phone, kind `phone`: a thin main-thread proxy implementing `Device`, with the real
 * WatermelonDB and synchronize() in a worker thread of its own (./worker.ts), so many phones sync in
 * parallel. The proxy owns what belongs to the "OS" around the app: the sync triggers of RFC 0006 §2.6
 * (app launch, 15-minute background fetch, reconnect, pokes from the events stream), the device
 * clock with its skew, app kill / restart, and the energy model.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type Clock, SkewedClock } from '../../protocol/clock';
import type {
  Device,
  DeviceContext,
  EnergyReading,
  FileAttachment,
  LocalWrite,
  PowerLossReport,
  SyncOutcome,
  SyncTrigger,
} from '../../protocol/device';
import type { UploadSummary } from '../../protocol/files';
import type { TableRecords } from '../../protocol/records';
import { columnNames, type SchemaVersion, type TableName } from '../../protocol/tables';
import { createDeviceUploads } from '../common/device-uploads';
import { Rpc, RpcClosedError } from '../common/rpc';
import { subscribePokes } from '../common/sync-http';
import { summarizeUploads, type UploadItem, type UploadQueue, type UploadQueueStatus } from '../common/upload-queue';
import { type DeviceEnergyProfile, ENERGY_PROFILES, EnergyMeter, PHONE_LTE } from '../energy/radio-model';
import { phoneWorkerFile } from './build-worker';
import type { PhoneAdapterKind } from './db';
import { WalJournal } from './power-loss';
import type { LocalConflict } from './resolver';
import { SyncQueue } from './sync-queue';
import type { PullStamps, WorkerConfig, WorkerSyncResult } from './worker';

export interface AutoTriggers {
  /** RFC 2.6 "App Launch: full sync on cold start" (also after restart()). */
  appLaunch: boolean;
  /** RFC 2.2.5 background fetch, every `backgroundFetchMs` of the run's clock. */
  backgroundFetch: boolean;
  /** Sync when another device's push pokes us on the events stream. */
  pokes: boolean;
  /** Sync when the events stream comes back after being down (connectivity restored). */
  reconnect: boolean;
}

export interface PhoneOptions {
  id: string;
  /** Overrides ctx.schemaVersion (e.g. to upgrade a phone in place across a restart). */
  schemaVersion?: SchemaVersion;
  /** Local store: 'sqlite' (default; better-sqlite3 on a file) or 'loki' (LokiJS saved to a file). */
  adapter?: PhoneAdapterKind;
  /** true (default) = all RFC triggers; false = only explicit sync() calls (scripted scenarios). */
  autoTriggers?: boolean | Partial<AutoTriggers>;
  /** Background fetch interval on the run's clock (RFC: 15 min). */
  backgroundFetchMs?: number;
  /** Pokes arriving within this many wall ms collapse into one sync. */
  pokeDebounceMs?: number;
  /** Sync attempts with RFC backoff before a sync reports failure (default 6). */
  maxAttempts?: number;
  /** Per-request timeout in wall ms (default 30 s). */
  requestTimeoutMs?: number;
  /** Push bodies above this are split into several contract pushes (default just under the 10 MB limit). */
  pushBatchBytes?: number;
  energy?: DeviceEnergyProfile | keyof typeof ENERGY_PROFILES;
  /** Called after every sync, including the ones the phone started itself. */
  onSync?(outcome: PhoneSyncOutcome): void;
}

export interface PhoneSyncOutcome extends SyncOutcome {
  /** WatermelonDB warn/error lines and contract violations seen in pulls during this sync. */
  anomalies: string[];
  /** Pulled rows that met unpushed local changes, resolved on the phone with protocol resolveConflict. */
  localConflicts: LocalConflict[];
  /** Peak V8 heap of the phone's worker during the sync (bytes). */
  peakHeapBytes: number;
  /** Modelled energy of this sync including its radio tail (J). */
  energyJ: number;
  /** Tables pulled and pushed: 'all', or the trigger's subset of RFC §2.6 (TRIGGER_PLANS). */
  scope: 'all' | TableName[];
  /** Contract pushes the push was split into under the body limit (1 when it fit). */
  pushBatches?: number;
}

const ALL_ON: AutoTriggers = { appLaunch: true, backgroundFetch: true, pokes: true, reconnect: true };
const ALL_OFF: AutoTriggers = { appLaunch: false, backgroundFetch: false, pokes: false, reconnect: false };

export class PhoneDevice implements Device {
  readonly kind = 'phone' as const;
  readonly id: string;
  /** Every sync outcome so far (manual and automatic), oldest first. */
  readonly outcomes: PhoneSyncOutcome[] = [];
  /** Triggers the phone raised itself, and the ones it decided not to act on (and why), oldest first. */
  readonly triggerEvents: Array<{ trigger: SyncTrigger; action: 'requested' | 'skipped'; reason?: string }> = [];
  private ctx?: DeviceContext;
  private clock?: SkewedClock;
  private worker?: Worker;
  private rpc?: Rpc;
  /** RFC §2.6 scheduling: one sync at a time, the most urgent waiting trigger first. */
  private readonly syncs = new SyncQueue<PhoneSyncOutcome>((t) => this.runSync(t));
  private phase: string = 'idle';
  private triggersAbort?: AbortController;
  private pokeSub?: { close(): void };
  private pokeTimer?: NodeJS.Timeout;
  private streamWasUp = false;
  private streamDown = false;
  /** App in the background (appBackground fault): no events stream, so only background fetch syncs. */
  private inBackground = false;
  private readonly triggers: AutoTriggers;
  private readonly meter: EnergyMeter;
  private clockOffsetMs = 0;
  /** RFC 2.2.6 file uploads (FIT files), persisted in dataDir/uploads. */
  private uploads?: UploadQueue;
  private lastUploadStatus?: UploadQueueStatus;
  /** Set while paused: the worker waits on it (see worker.ts freeze). */
  private frozen?: { cell: Int32Array; thawed: Promise<unknown> };
  private onFrozen?: () => void;
  private journal?: WalJournal;

  constructor(private readonly opts: PhoneOptions) {
    this.id = opts.id;
    const t = opts.autoTriggers ?? true;
    this.triggers = t === true ? ALL_ON : t === false ? ALL_OFF : { ...ALL_OFF, ...t };
    const e = opts.energy ?? PHONE_LTE;
    this.meter = new EnergyMeter(typeof e === 'string' ? ENERGY_PROFILES[e]! : e);
  }

  get schemaVersion(): SchemaVersion {
    return this.opts.schemaVersion ?? this.ctx?.schemaVersion ?? 2;
  }

  /** Where the running sync is: 'idle', 'starting', 'pull' (pull and apply) or 'push'. */
  get syncPhase(): string {
    return this.phase;
  }

  /** Whether the events stream is currently connected. */
  get pokeStreamUp(): boolean {
    return this.streamWasUp && !this.streamDown;
  }

  async start(ctx: DeviceContext): Promise<void> {
    if (this.worker) throw new Error(`HRN_ERR_PHONE_STARTED: phone ${this.id} is already started`);
    this.ctx = ctx;
    // When the runner hands us a SkewedClock it reads it too (updated_at, deviceTime in the history):
    // skew that very clock so both sides see the same device time; otherwise wrap the run clock.
    this.clock = ctx.clock instanceof SkewedClock ? ctx.clock : new SkewedClock(ctx.clock);
    if (this.clockOffsetMs) this.clock.offsetMs = this.clockOffsetMs;
    this.meter.begin(this.clock.now());
    await this.boot();
  }

  private async boot(): Promise<void> {
    const ctx = this.ctx!;
    const file = await phoneWorkerFile();
    const worker = new Worker(file, {
      // Production mode: no dev-only invariants (updated_at may be optional/null per the contract)
      // and the speed of a release build.
      env: { ...process.env, NODE_ENV: 'production' },
      name: `phone:${this.id}`,
    });
    const rpc = new Rpc(
      worker,
      {
        getToken: (o?: { refresh?: boolean }) => ctx.getToken(o),
        sleep: (ms: number) => this.clock!.sleep(ms, this.triggersAbort?.signal),
      },
      (name, data) => {
        if (name === 'phase') this.phase = String(data);
        else if (name === 'frozen') this.onFrozen?.();
        else if (name === 'log') ctx.log(`[${this.id}] ${String(data)}`);
      },
      // An idle phone must not keep the process alive if someone forgets stop(); a call in flight must.
      (busy) => (busy ? worker.ref() : worker.unref()),
    );
    worker.unref();
    worker.on('error', (e) => {
      ctx.log(`[${this.id}] worker crashed: ${e.message}`);
      rpc.close(`phone worker crashed: ${e.message}`);
    });
    worker.on('exit', () => rpc.close('phone worker exited'));
    this.worker = worker;
    this.rpc = rpc;
    this.triggersAbort = new AbortController();
    const config: WorkerConfig = {
      deviceId: ctx.deviceId,
      userId: ctx.userId,
      serverUrl: ctx.serverUrl,
      schemaVersion: this.schemaVersion,
      dataDir: ctx.dataDir,
      adapter: this.opts.adapter ?? 'sqlite',
      maxAttempts: this.opts.maxAttempts ?? 6,
      requestTimeoutMs: this.opts.requestTimeoutMs ?? 30_000,
      ...(this.opts.pushBatchBytes ? { pushBatchBytes: this.opts.pushBatchBytes } : {}),
    };
    try {
      await rpc.call('init', config);
    } catch (e) {
      await this.terminate('init failed');
      throw new Error(
        `HRN_ERR_PHONE_START: phone ${this.id} could not open its database in ${ctx.dataDir}: ${(e as Error).message}`,
      );
    }
    if ((this.opts.adapter ?? 'sqlite') === 'sqlite') {
      this.journal = new WalJournal(join(ctx.dataDir, 'phone.db'));
      this.journal.start();
    }
    await this.startUploads();
    this.startTriggers();
  }

  private async startUploads(): Promise<void> {
    const q = createDeviceUploads(this.ctx!, {
      schemaVersion: this.schemaVersion,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      // The record learns its file only once the server has confirmed the object, and from the
      // server: /files/complete wrote fit_file_key and the decoded columns there. Writing them
      // locally too made a change to push whose lastPulledAt predates the server's update: a
      // conflict on every upload (watch-offline-day: conflict_rate 0.11). The server's poke for the
      // row names this device as its source, so the stream ignores it: pull now. A failed pull
      // leaves the upload done (the server has it); the next sync brings the columns.
      onCompleted: async () => {
        await this.requestAutoSync('poke').catch(() => {});
      },
    });
    await q.load();
    this.uploads = q;
    // An app killed mid-upload resumes its queue on launch.
    if (q.status().pending > 0) void q.process();
  }

  /** Queues a file (a FIT) for a record and starts uploading; resolves once it is persisted. */
  async attachFile(file: FileAttachment): Promise<UploadItem> {
    const q = this.liveUploads();
    const item = await q.enqueue({ ...file, tableName: file.table });
    void q.process();
    return item;
  }

  /** Resolves when the upload queue is empty or every remaining item has failed. */
  uploadsSettled(): Promise<void> {
    return this.liveUploads().process();
  }

  /** Moves the failed queue back into the queue and starts it (a user's "retry" button). */
  async retryFailedUploads(): Promise<number> {
    const q = this.liveUploads();
    const n = await q.retryFailed();
    void q.process();
    return n;
  }

  uploadStatus(): UploadQueueStatus | undefined {
    return this.uploads?.status() ?? this.lastUploadStatus;
  }

  uploadSummary(): UploadSummary | undefined {
    return summarizeUploads(this.uploadStatus());
  }

  private liveUploads(): UploadQueue {
    if (!this.uploads)
      throw new Error(
        `HRN_ERR_PHONE_NOT_RUNNING: phone ${this.id} is not running (stopped or killed); restart() it first`,
      );
    return this.uploads;
  }

  private startTriggers(): void {
    const ctx = this.ctx!;
    const signal = this.triggersAbort!.signal;
    if (this.triggers.appLaunch) this.requestAutoSync('app_launch');
    if (this.triggers.backgroundFetch) {
      const every = this.opts.backgroundFetchMs ?? 15 * 60_000;
      void (async () => {
        while (!signal.aborted) {
          try {
            await this.clock!.sleep(every, signal);
          } catch {
            return;
          }
          this.requestAutoSync('background_fetch');
        }
      })();
    }
    this.streamWasUp = false;
    this.streamDown = false;
    this.inBackground = false; // a (re)start is a cold launch, in the foreground
    this.startStream(signal);
  }

  /** The events stream (pokes, and the reconnect rule): a foreground-only connection. */
  private startStream(signal: AbortSignal): void {
    const ctx = this.ctx!;
    if (this.triggers.pokes || this.triggers.reconnect) {
      this.pokeSub = subscribePokes({
        baseUrl: ctx.serverUrl,
        deviceId: ctx.deviceId,
        schemaVersion: this.schemaVersion,
        getToken: () => ctx.getToken(),
        sleep: (ms) => this.clock!.sleep(ms, signal),
        onState: (up) => {
          if (signal.aborted) return;
          if (up && this.streamWasUp && this.streamDown && this.triggers.reconnect) void this.syncIfPending();
          if (up) this.streamWasUp = true;
          this.streamDown = !up;
        },
        onPoke: (p) => {
          if (signal.aborted || !this.triggers.pokes || p.sourceDeviceId === ctx.deviceId) return;
          if (this.pokeTimer) return;
          this.pokeTimer = setTimeout(() => {
            this.pokeTimer = undefined;
            this.requestAutoSync('poke');
          }, this.opts.pokeDebounceMs ?? 50);
        },
      });
    }
  }

  /**
   * App to the background (appBackground fault). As on iOS and Android, a backgrounded app keeps no
   * connection open: the events stream closes, so no poke or reconnect sync happens; the 15-minute
   * background fetch keeps running (the OS wakes the app for it). Explicit syncs the scenario asks
   * for still run.
   */
  async background(): Promise<void> {
    if (this.inBackground) return;
    this.inBackground = true;
    this.triggerEvents.push({
      trigger: 'poke',
      action: 'skipped',
      reason: 'app in the background: events stream closed',
    });
    this.pokeSub?.close();
    this.pokeSub = undefined;
    if (this.pokeTimer) clearTimeout(this.pokeTimer);
    this.pokeTimer = undefined;
    if (this.streamWasUp) this.streamDown = true;
  }

  /** Back to the foreground: the events stream reopens; its coming up is a reconnect (RFC 2.2.5: sync if pending). */
  async foreground(): Promise<void> {
    if (!this.inBackground) return;
    this.inBackground = false;
    const signal = this.triggersAbort?.signal;
    if (signal && !signal.aborted) this.startStream(signal);
  }

  get backgrounded(): boolean {
    return this.inBackground;
  }

  private stopTriggers(): void {
    this.triggersAbort?.abort(new Error('phone stopped'));
    this.pokeSub?.close();
    this.pokeSub = undefined;
    if (this.pokeTimer) clearTimeout(this.pokeTimer);
    this.pokeTimer = undefined;
  }

  /** A trigger the phone raises itself (timer, poke, connectivity): collapses with its kind (see SyncQueue). */
  requestAutoSync(trigger: SyncTrigger): Promise<PhoneSyncOutcome> {
    this.triggerEvents.push({ trigger, action: 'requested' });
    const p = this.syncs.request(trigger, true);
    p.catch(() => {});
    return p;
  }

  /** Triggers waiting behind the running sync, in the order they will run. */
  get queuedTriggers(): SyncTrigger[] {
    return this.syncs.queued;
  }

  /** RFC 2.2.5 onConnectivityChange: connection restored → sync, but only with something to push. */
  private async syncIfPending(): Promise<void> {
    const n = await this.pendingChanges().catch(() => 0);
    if (n > 0) this.requestAutoSync('reconnect');
    else this.triggerEvents.push({ trigger: 'reconnect', action: 'skipped', reason: 'nothing pending (RFC 2.2.5)' });
  }

  async stop(): Promise<void> {
    this.stopTriggers();
    // Let a running sync finish (bounded), so a graceful stop does not look like an app kill.
    await Promise.race([this.syncs.idle(), new Promise((r) => setTimeout(r, 5_000).unref())]);
    await this.rpc?.call('close').catch(() => {});
    await this.terminate('phone stopped');
  }

  /** App kill: the worker dies at once, mid-write or mid-sync; only what was committed survives. */
  async kill(): Promise<void> {
    this.stopTriggers();
    await this.terminate('app killed');
  }

  /** Relaunch after kill() (or stop()) from the stored database, with an app_launch sync if enabled. */
  async restart(): Promise<void> {
    if (this.worker) await this.kill();
    await this.boot();
  }

  /** The pause fault: the worker thread stops dead until resume(); calls made meanwhile wait. */
  async pause(): Promise<void> {
    const rpc = this.live();
    if (this.frozen) return;
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const frozen = new Promise<void>((r) => {
      this.onFrozen = r;
    });
    this.frozen = { cell, thawed: rpc.call('freeze', cell.buffer).catch(() => {}) };
    await frozen;
    this.onFrozen = undefined;
  }

  async resume(): Promise<void> {
    const f = this.frozen;
    if (!f) return;
    this.frozen = undefined;
    Atomics.store(f.cell, 0, 1);
    Atomics.notify(f.cell, 0);
    await f.thawed;
  }

  /**
   * Power loss (lostLocalWrites fault): the app dies and the database keeps only what the disk may
   * hold, losing commits of the last `lostMs` wall ms (power-loss.ts). restart() boots from that.
   */
  async powerLoss(lostMs: number): Promise<PowerLossReport> {
    if (!this.journal)
      throw new Error(
        `HRN_ERR_FAULT_UNSUPPORTED: phone ${this.id} uses the ${this.opts.adapter} adapter; power loss is modelled on SQLite's write-ahead log only (use phoneAdapter 'sqlite')`,
      );
    this.live();
    const cut = this.journal.capture(lostMs);
    await this.kill();
    cut.restore();
    return cut.report;
  }

  private async terminate(reason: string): Promise<void> {
    // A frozen worker is thawed first, so terminating never waits on a thread parked in Atomics.wait.
    await this.resume().catch(() => {});
    this.journal?.stop();
    this.journal = undefined;
    this.lastUploadStatus = this.uploads?.status() ?? this.lastUploadStatus;
    this.uploads?.stop();
    this.uploads = undefined;
    const w = this.worker;
    this.worker = undefined;
    this.rpc?.close(reason);
    this.rpc = undefined;
    if (w) await w.terminate();
  }

  setClockOffset(ms: number): void {
    this.clockOffsetMs = ms;
    if (this.clock) this.clock.offsetMs = ms;
  }

  /** The phone's clock (run clock plus skew): what it writes into updated_at. */
  deviceClock(): Clock {
    if (!this.clock) throw new Error(`HRN_ERR_PHONE_NOT_STARTED: phone ${this.id} has not been started`);
    return this.clock;
  }

  private live(): Rpc {
    if (!this.rpc)
      throw new Error(
        `HRN_ERR_PHONE_NOT_RUNNING: phone ${this.id} is not running (stopped or killed); restart() it first`,
      );
    return this.rpc;
  }

  async write(op: LocalWrite): Promise<void> {
    await this.live().call('write', this.stamp(op));
    this.journal?.sample();
  }

  /** Many local writes in one WatermelonDB writer (all or nothing): seeding and bursts. */
  async writeMany(ops: LocalWrite[]): Promise<void> {
    await this.live().call(
      'writeMany',
      ops.map((op) => this.stamp(op)),
    );
    this.journal?.sample();
  }

  /** updated_at from the device clock (with its skew) when the caller did not set it. */
  private stamp(op: LocalWrite): LocalWrite {
    if (op.op === 'delete' || op.values.updated_at !== undefined) return op;
    if (!columnNames(op.table, this.schemaVersion).includes('updated_at')) return op;
    return { ...op, values: { ...op.values, updated_at: this.clock!.now() } };
  }

  sync(trigger: SyncTrigger): Promise<PhoneSyncOutcome> {
    return this.syncs.request(trigger);
  }

  private async runSync(trigger: SyncTrigger): Promise<PhoneSyncOutcome> {
    const startedAt = this.clock?.now() ?? Date.now();
    const t0 = performance.now();
    let res: WorkerSyncResult;
    if (!this.rpc) {
      res = failed(`phone ${this.id} is not running`, 0);
    } else {
      this.phase = 'starting';
      try {
        res = await this.rpc.call<WorkerSyncResult>('sync', trigger);
      } catch (e) {
        const killed = e instanceof RpcClosedError;
        res = failed(killed ? `sync interrupted: ${e.message}` : (e as Error).message, performance.now() - t0);
        // Killed while the push was on the wire: the server may or may not have applied it.
        res.indeterminate = killed && this.phase === 'push';
      }
      this.phase = 'idle';
    }
    const energy = this.meter.record({
      startedAt,
      durationMs: res.durationMs,
      bytesUp: res.bytesUp,
      bytesDown: res.bytesDown,
      ...(res.cpuMs !== undefined ? { cpuMs: res.cpuMs } : {}),
    });
    const outcome: PhoneSyncOutcome = {
      ok: res.ok,
      trigger,
      durationMs: res.durationMs,
      pulled: res.pulled,
      pushed: res.pushed,
      conflicts: res.conflicts,
      bytesUp: res.bytesUp,
      bytesDown: res.bytesDown,
      attempts: res.attempts,
      ...(res.retries ? { retries: res.retries } : {}),
      ...(res.fullResync ? { fullResync: true } : {}),
      ...(res.tokenRefreshes ? { tokenRefreshes: res.tokenRefreshes } : {}),
      ...(res.indeterminate ? { indeterminate: true } : {}),
      ...(res.error ? { error: res.error } : {}),
      ...(res.lastPulledAt ? { lastPulledAt: res.lastPulledAt } : {}),
      anomalies: res.anomalies,
      localConflicts: res.localConflicts,
      peakHeapBytes: res.peakHeapBytes,
      energyJ: energy.totalJ,
      scope: res.scope,
      ...(res.pushBatches ? { pushBatches: res.pushBatches } : {}),
    };
    this.outcomes.push(outcome);
    // Uploads waiting for their record to reach the server can complete now.
    if (outcome.ok && this.uploads && this.uploads.status().pending > 0) void this.uploads.process();
    try {
      this.opts.onSync?.(outcome);
    } catch (e) {
      this.ctx?.log(`[${this.id}] onSync listener threw: ${(e as Error).message}`);
    }
    return outcome;
  }

  snapshot(): Promise<TableRecords> {
    return this.live().call<TableRecords>('snapshot');
  }

  /** How far the phone has pulled, overall and per table (subset syncs move only their tables). */
  pullStamps(): Promise<PullStamps> {
    return this.live().call<PullStamps>('pullStamps');
  }

  pendingChanges(): Promise<number> {
    return this.live().call<number>('pending');
  }

  energy(): EnergyReading {
    return this.meter.reading();
  }

  /** The profile the energy model charges (radio, battery). */
  get energyProfile(): DeviceEnergyProfile {
    return this.meter.profile;
  }

  /** V8 heap in use by this phone's worker (its isolate only; SQLite's native memory is not included). */
  async memoryBytes(): Promise<number> {
    return (await this.memoryDetails()).usedHeap;
  }

  memoryDetails(): Promise<{ usedHeap: number; totalHeap: number; external: number; malloced: number }> {
    return this.live().call('memory');
  }

  /** Resolves when no sync is running or queued. */
  idle(): Promise<void> {
    return this.syncs.idle();
  }
}

function failed(error: string, durationMs: number): WorkerSyncResult {
  return {
    ok: false,
    durationMs,
    pulled: 0,
    pushed: 0,
    conflicts: [],
    localConflicts: [],
    bytesUp: 0,
    bytesDown: 0,
    attempts: 0,
    error,
    anomalies: [],
    peakHeapBytes: 0,
    scope: 'all',
  };
}

export function createPhone(opts: PhoneOptions): PhoneDevice {
  return new PhoneDevice(opts);
}
