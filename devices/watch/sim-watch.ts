/**
 * Main-thread handle of one simulated watch running in a worker thread: start/stop by id with a link
 * profile, record activities, read its state and modelled energy, and apply faults. The watch's
 * address is derived from its id, so a rebooted watch comes back as the same peripheral.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { EnergyReading } from '../../protocol/device';
import { ENERGY_PROFILES, type EnergyParams, type RadioEnergy } from '../radio/energy';
import { type HubPeer, serveRadioPort } from '../radio/hub';
import type { Medium } from '../radio/medium';
import type { LinkProfile, LinkProfileName } from '../radio/profiles';
import { watchWorkerEntry } from './build-worker';
import { type FitFixture, loadFitFixture } from './fit';
import type { RecordActivityInput, WatchState } from './peripheral';
import type { ContextPack } from './protocol';
import type { WatchWorkerData } from './worker';

export interface SimWatchOptions {
  id: string;
  medium: Medium;
  /** Link profile of this watch's links (default: the medium's). */
  profile?: LinkProfileName | LinkProfile;
  /** Folder for the watch's SQLite store (survives reboot). null: in memory (lost on reboot). */
  dataDir?: string | null;
  name?: string;
  battery?: number;
  energy?: EnergyParams | keyof typeof ENERGY_PROFILES;
  /** BLENO_ADVERTISING_INTERVAL, ms (default 100). */
  advertisingIntervalMs?: number;
  maxContextAgeMs?: number;
}

export type ActivityInput = Omit<RecordActivityInput, 'fit'> & { fit?: Buffer; fixture?: FitFixture };

const BOOT = new URL('../radio/worker-boot.mjs', import.meta.url);

export function watchAddress(id: string): string {
  const h = createHash('sha1').update(id).digest();
  return ['f0', 'de', ...[...h.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export class SimWatch {
  readonly address: string;
  readonly name: string;
  private worker: Worker | null = null;
  private peer: HubPeer | null = null;
  private rpcId = 0;
  private readonly calls = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private readonly dataFile: string;
  private readonly energyParams: EnergyParams;
  /** Radio clock ms of the first start: the span behind per-day figures. */
  private energySince?: number;
  private energyAtStop?: RadioEnergy;
  private energyStoppedAt?: number;

  constructor(private readonly opts: SimWatchOptions) {
    this.address = watchAddress(opts.id);
    this.name = opts.name ?? `SimWatch-${opts.id}`.slice(0, 29);
    if (opts.dataDir === null) this.dataFile = ':memory:';
    else {
      const dir = opts.dataDir ?? join(tmpdir(), `sync-harness-watch-${process.pid}`);
      mkdirSync(dir, { recursive: true });
      this.dataFile = join(dir, `${opts.id.replace(/[^\w.-]/g, '_')}.sqlite`);
    }
    const e = opts.energy ?? 'mcu-watch';
    this.energyParams = typeof e === 'string' ? ENERGY_PROFILES[e] : e;
    if (opts.profile) opts.medium.setProfile(this.address, opts.profile);
  }

  get id(): string {
    return this.opts.id;
  }
  /** The BLE energy parameters the link model charges this watch with. */
  get energyParameters(): EnergyParams {
    return this.energyParams;
  }
  get medium(): Medium {
    return this.opts.medium;
  }
  get running(): boolean {
    return this.worker !== null;
  }

  /** Boot the watch (worker thread + bleno); resolves once it advertises. */
  async start(): Promise<void> {
    if (this.worker) return;
    this.energySince ??= this.opts.medium.clock.now();
    const { port1, port2 } = new MessageChannel();
    this.peer = serveRadioPort(this.opts.medium, port1);
    const clock = this.opts.medium.clock;
    const data: WatchWorkerData & { __entry: string } = {
      __entry: await watchWorkerEntry(),
      port: port2,
      watchId: this.opts.id,
      address: this.address,
      name: this.name,
      dataFile: this.dataFile,
      epochMs: clock.now() - clock.elapsedMs(),
      timeScale: clock.timeScale,
      battery: this.opts.battery,
      advertisingIntervalMs: this.opts.advertisingIntervalMs ?? 100,
      maxContextAgeMs: this.opts.maxContextAgeMs,
      energy: this.energyParams,
    };
    const worker = new Worker(BOOT, { workerData: data, transferList: [port2] });
    this.worker = worker;
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: any) => {
        if (m && 'ready' in m) {
          worker.off('message', onMsg);
          if (m.ready) resolve();
          else reject(new Error(`HRN_ERR_WATCH_BOOT: watch ${this.opts.id} failed to start: ${m.error}`));
        }
      };
      worker.on('message', onMsg);
      worker.once('error', (err) => reject(new Error(`HRN_ERR_WATCH_BOOT: watch ${this.opts.id}: ${err.message}`)));
    });
    worker.on('message', (m: any) => {
      if (m && typeof m.id === 'number') {
        const c = this.calls.get(m.id);
        this.calls.delete(m.id);
        if (m.error) c?.reject(new Error(m.error));
        else c?.resolve(m.result);
      }
    });
    worker.on('error', (err) => {
      for (const c of this.calls.values()) c.reject(err);
      this.calls.clear();
    });
  }

  /** Power off: the worker ends; a connected phone sees a supervision timeout. */
  async stop(): Promise<void> {
    // The controller goes with the worker: keep what it counted, for the run's report.
    this.energyAtStop = this.energy() ?? this.energyAtStop;
    this.energyStoppedAt = this.opts.medium.clock.now();
    const w = this.worker;
    this.worker = null;
    this.peer?.close();
    this.peer = null;
    for (const c of this.calls.values()) c.reject(new Error(`HRN_ERR_WATCH_STOPPED: watch ${this.opts.id} stopped`));
    this.calls.clear();
    if (w) await w.terminate();
  }

  /** Record an activity (FIT bytes or a shared fixture) and queue its pack for the phone. */
  recordActivity(input: ActivityInput): Promise<string> {
    const fit = input.fit ?? loadFitFixture(input.fixture ?? 'tiny-1min');
    const { fixture: _f, ...rest } = input;
    return this.call('recordActivity', { ...rest, fit });
  }

  state(): Promise<WatchState> {
    return this.call('state');
  }
  contextPack(): Promise<ContextPack | null> {
    return this.call('contextPack');
  }
  setBattery(level: number): Promise<void> {
    return this.call('setBattery', level);
  }

  /** Modelled radio energy of this watch (link model counters; see devices/radio/README.md). */
  energy(): RadioEnergy | undefined {
    return (this.worker ? this.opts.medium.energy(this.address) : undefined) ?? this.energyAtStop;
  }

  /** The same, as the harness `Device.energy()` reading. */
  energyReading(): EnergyReading {
    const e = this.energy();
    return {
      source: 'modelled',
      joules: e?.joules ?? 0,
      batteryPct: e?.batteryPct ?? 0,
      radio: 'ble',
      ...(this.energySince !== undefined
        ? { spanMs: (this.worker ? this.opts.medium.clock.now() : (this.energyStoppedAt ?? 0)) - this.energySince }
        : {}),
      details: e
        ? {
            chargeMC: e.chargeMC,
            mAh: e.mAh,
            radioMC: e.breakdownMC.radio,
            wakeMC: e.breakdownMC.wake,
            systemMC: e.breakdownMC.system,
            radioOnMs: e.radioOnMs,
            awakeMs: e.awakeMs,
            connectedMs: e.connectedMs,
          }
        : {},
    };
  }

  readonly faults = {
    /** Drop the BLE link now, or after `afterBytes` more bytes on the air (mid-transfer). */
    disconnect: (opts: { afterBytes?: number } = {}) => this.opts.medium.dropLink(this.address, opts.afterBytes ?? 0),
    /** Change the link profile (live links: interval/PHY/DLE at once; MTU at the next connection). */
    setProfile: (p: LinkProfileName | LinkProfile) => this.opts.medium.setProfile(this.address, p),
    setLoss: (rate: number) => this.opts.medium.setLoss(this.address, rate),
    setInRange: (inRange: boolean) => this.opts.medium.setInRange(this.address, inRange),
    /** Out of range for `ms` simulated ms, then back. */
    outOfRange: async (ms: number) => {
      this.opts.medium.setInRange(this.address, false);
      await this.opts.medium.clock.sleep(ms);
      this.opts.medium.setInRange(this.address, true);
    },
    /** Crash and boot again; the store (queue, partial context pack) survives unless it is in memory. */
    reboot: async () => {
      await this.stop();
      await this.start();
    },
  };

  private call<T>(method: string, ...args: unknown[]): Promise<T> {
    const w = this.worker;
    if (!w)
      return Promise.reject(new Error(`HRN_ERR_WATCH_STOPPED: watch ${this.opts.id} is not running; call start()`));
    const id = ++this.rpcId;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      w.postMessage({ id, method, args });
    });
  }
}

export async function startSimWatch(opts: SimWatchOptions): Promise<SimWatch> {
  const w = new SimWatch(opts);
  await w.start();
  return w;
}

/** Simulated watches by id on one medium (what a harness `Device` wrapper of kind `watch` needs). */
export class WatchFleet {
  private readonly watches = new Map<string, SimWatch>();
  constructor(
    readonly medium: Medium,
    private readonly defaults: Omit<SimWatchOptions, 'id' | 'medium'> = {},
  ) {}
  async start(id: string, opts: Omit<SimWatchOptions, 'id' | 'medium'> = {}): Promise<SimWatch> {
    let w = this.watches.get(id);
    if (!w) {
      w = new SimWatch({ ...this.defaults, ...opts, id, medium: this.medium });
      this.watches.set(id, w);
    } else if (opts.profile) {
      w.faults.setProfile(opts.profile);
    }
    await w.start();
    return w;
  }
  get(id: string): SimWatch | undefined {
    return this.watches.get(id);
  }
  ids(): string[] {
    return [...this.watches.keys()];
  }
  async stop(id: string): Promise<void> {
    await this.watches.get(id)?.stop();
    this.watches.delete(id);
  }
  async stopAll(): Promise<void> {
    await Promise.all([...this.watches.values()].map((w) => w.stop()));
    this.watches.clear();
  }
}
