/**
 * Device kind `watch`: a simulated watch (bleno in a worker, on the virtual radio) with the phone's
 * watch bridge (noble central) that reaches it. The watch is not a client of the sync contract: its
 * activity packs reach the cloud through its paired phone, so the runner gives it an
 * `onActivityPack` handler that writes into the phone's WatermelonDB and triggers the RFC's
 * "Workout Complete: Critical" sync. The same bridge code drives a real watch when the virtual radio
 * is off (kind `ble-watch`).
 */
import {
  blankSyncOutcome,
  type Device,
  type DeviceContext,
  type EnergyReading,
  type LocalWrite,
  type SyncOutcome,
  type SyncTrigger,
} from '../../protocol/device';
import type { TableRecords } from '../../protocol/records';
import { TABLE_NAMES } from '../../protocol/tables';
import type { EnergyParams } from '../radio/energy';
import { currentRadio, installVirtualRadio } from '../radio/install';
import { LINK_PROFILES, type LinkProfileName } from '../radio/profiles';
import { WatchBridge } from './bridge';
import { makeContextPack } from './context-fixture';
import type { FitFixture } from './fit';
import { idleCharge } from './idle-energy';
import type { ActivityPack, ContextPack } from './protocol';
import { type SimWatch, startSimWatch } from './sim-watch';

export interface WatchDeviceOptions {
  id: string;
  profile?: LinkProfileName;
  /** BLE energy parameters (battery capacity from the spec); default the MCU-class watch. */
  energy?: EnergyParams;
}

const FIXTURE_OF_SPORT: Record<string, FitFixture> = {
  run: 'run-30min',
  ride: 'ride-2h-power',
  swim: 'swim-pool-laps',
};

/** A scenario's activity create, recorded on a simulated watch from the FIT fixture of its sport. */
export async function recordOnSimWatch(watch: SimWatch, op: LocalWrite): Promise<void> {
  if (op.op !== 'create' || op.table !== 'activities')
    throw new Error(`a watch only records activities (got ${op.op} on ${op.table})`);
  const v = op.values;
  await watch.recordActivity({
    activityId: op.id,
    fixture: FIXTURE_OF_SPORT[String(v.sport)] ?? 'tiny-1min',
    ...(typeof v.rpe === 'number' ? { rpe: v.rpe } : {}),
    ...(typeof v.notes === 'string' ? { notes: v.notes } : {}),
  });
}

export class WatchDevice implements Device {
  readonly kind = 'watch' as const;
  watch!: SimWatch;
  bridge!: WatchBridge;
  private contextVersion = 0;
  private activityHandler: (pack: ActivityPack) => Promise<void> = async () => {};
  private contextProvider: () => ContextPack | Promise<ContextPack> = () =>
    makeContextPack({ version: ++this.contextVersion });
  /** Simulated ms of every context-pack transfer, with the profile in force. */
  readonly contextTransfers: Array<{ simMs: number; bytes: number; profile: string; ok: boolean }> = [];
  private profile: LinkProfileName;
  /** The scenario's clock and the radio's at start: their difference is the idle time the radio never lived. */
  private runClock?: DeviceContext['clock'];
  private started?: { run: number; radio: number };
  private finalEnergy?: EnergyReading;

  constructor(readonly opts: WatchDeviceOptions) {
    this.profile = opts.profile ?? 'ios-typical';
  }
  get id() {
    return this.opts.id;
  }

  /** Where delivered activity packs go (the paired phone); resolves once stored, then the watch drops it. */
  onActivityPack(handler: (pack: ActivityPack) => Promise<void>) {
    this.activityHandler = handler;
  }
  onContextRequest(provider: () => ContextPack | Promise<ContextPack>) {
    this.contextProvider = provider;
  }

  /** The link faults the nemesis applies (bleOutOfRange, bleDisconnect). */
  get radioLink() {
    return this.watch.faults;
  }

  /** The radio's simulated clock (what BLE transfer times are measured on). */
  get radioClock() {
    return this.medium.clock;
  }

  private get medium() {
    const m = currentRadio()?.medium;
    if (!m) throw new Error('the virtual radio is not installed');
    return m;
  }

  async start(ctx: DeviceContext): Promise<void> {
    if (!currentRadio()) installVirtualRadio({});
    this.watch = await startSimWatch({
      id: this.id,
      medium: this.medium,
      profile: this.profile,
      dataDir: ctx.dataDir,
      ...(this.opts.energy ? { energy: this.opts.energy } : {}),
    });
    // The medium outlives scenarios and a watch's address comes from its id: start in range.
    this.watch.faults.setInRange(true);
    this.bridge = new WatchBridge({ watchAddress: this.watch.address, log: ctx.log });
    this.bridge.onActivityPack((p) => this.activityHandler(p));
    this.bridge.onContextRequest(() => this.contextProvider());
    await this.bridge.start();
    await this.bridge.waitUntilReachable();
    this.runClock = ctx.clock;
    this.started = { run: ctx.clock.now(), radio: this.medium.clock.now() };
  }

  /** Record an activity on the watch (it works fully offline and queues the pack for the phone). */
  write(op: LocalWrite): Promise<void> {
    return recordOnSimWatch(this.watch, op);
  }

  /** Send the current context pack; simulated transfer time goes to `contextTransfers`. */
  async sendContextPack(given?: ContextPack): Promise<{ ok: boolean; simMs: number }> {
    const pack = given ?? (await this.contextProvider());
    const t0 = this.medium.clock.now();
    const ok = await this.bridge.sendContextPack(pack);
    const simMs = this.medium.clock.now() - t0;
    this.contextTransfers.push({ simMs, bytes: JSON.stringify(pack).length, profile: this.profile, ok });
    return { ok, simMs };
  }

  /** Watch connect (RFC 2.6): deliver queued activity packs to the phone and refresh the context pack. */
  async sync(trigger: SyncTrigger): Promise<SyncOutcome> {
    const t0 = performance.now();
    const before = (await this.watch.state()).queue.length;
    let ok = this.bridge.reachable;
    let error: string | undefined;
    if (ok) {
      const deadline = this.medium.clock.now() + 30 * 60_000;
      while ((await this.watch.state()).queue.length > 0 && this.medium.clock.now() < deadline && this.bridge.reachable)
        await this.medium.clock.sleep(200);
      const left = (await this.watch.state()).queue.length;
      if (left > 0) {
        ok = false;
        error = `${left} activity packs still queued on the watch`;
      } else ok = (await this.sendContextPack()).ok;
    } else error = 'the watch is not reachable (out of range or disconnected)';
    const after = (await this.watch.state()).queue.length;
    return {
      ok,
      trigger,
      durationMs: performance.now() - t0,
      pulled: 0,
      pushed: before - after,
      conflicts: [],
      bytesUp: 0,
      bytesDown: 0,
      attempts: 1,
      ...(error ? { error } : {}),
    };
  }

  /** A watch is not a sync-contract client: it holds no synced tables. */
  async snapshot(): Promise<TableRecords> {
    return Object.fromEntries(TABLE_NAMES.map((t) => [t, []])) as unknown as TableRecords;
  }
  async pendingChanges(): Promise<number> {
    return (await this.watch.state()).queue.length;
  }
  /**
   * The link model's reading plus the idle connection events of the scenario time the radio clock
   * did not live through (idle-energy.ts), so a time-scaled day charges a day of idle link.
   */
  energy(): EnergyReading {
    if (this.finalEnergy) return this.finalEnergy;
    const base = this.watch.energyReading();
    if (!this.started || !this.runClock) return base;
    const runMs = this.runClock.now() - this.started.run;
    const radioMs = this.medium.clock.now() - this.started.radio;
    const connectedMs = base.details?.connectedMs ?? 0;
    const share = radioMs > 0 ? connectedMs / radioMs : 0;
    const idle = idleCharge(runMs - radioMs, share, LINK_PROFILES[this.profile], this.watch.energyParameters);
    return {
      ...base,
      joules: base.joules + idle.joules,
      batteryPct: base.batteryPct + idle.batteryPct,
      spanMs: Math.max(base.spanMs ?? 0, runMs),
      details: {
        ...base.details,
        idleGapMs: idle.gapMs,
        idleEvents: idle.events,
        idleMC: idle.chargeMC,
        linkModelPct: base.batteryPct,
      },
    };
  }
  setProfile(p: LinkProfileName) {
    this.profile = p;
    this.watch.faults.setProfile(p);
  }
  /** Watch reboot with its queue on flash. */
  async kill(): Promise<void> {
    await this.watch.stop();
  }
  async restart(): Promise<void> {
    await this.watch.start();
    await this.bridge.waitUntilReachable(120_000);
  }
  async stop(): Promise<void> {
    // Stopped, the watch draws nothing more: freeze the reading (the clocks go on).
    if (this.watch && !this.finalEnergy) this.finalEnergy = this.energy();
    await this.bridge?.stop().catch(() => {});
    await this.watch?.stop().catch(() => {});
  }
}

export function createWatchDevice(opts: WatchDeviceOptions): WatchDevice {
  return new WatchDevice(opts);
}
