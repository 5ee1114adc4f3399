/**
 * Kind `ble-watch`: a real watch reached by the phone-side WatchBridge (noble central) on a real
 * Bluetooth adapter. The same bridge code as kind `watch`: one implementation of the watch sync
 * protocol, two transports. With `transport: 'virtual'` the central runs on the virtual radio and a
 * simulated watch (bleno in its worker) is the peripheral, so this driver is tested without hardware.
 *
 * A real watch is worn, not scripted: it records activities itself, so `write` works only against
 * the simulated peripheral. Battery: the watch's Battery Service level when the run starts and ends,
 * reported as `measured`.
 */
import { join } from 'node:path';
import {
  blankSyncOutcome,
  type Device,
  type DeviceContext,
  type EnergyReading,
  type LocalWrite,
  type RadioLinkControl,
  type SyncOutcome,
  type SyncTrigger,
} from '../../protocol/device';
import { HarnessError } from '../../protocol/harness-error';
import type { TableRecords } from '../../protocol/records';
import { TABLE_NAMES } from '../../protocol/tables';
import type { EnergyParams } from '../radio/energy';
import { currentRadio, installVirtualRadio } from '../radio/install';
import { WatchBridge } from '../watch/bridge';
import { makeContextPack } from '../watch/context-fixture';
import { recordOnSimWatch } from '../watch/device';
import type { ActivityPack, ContextPack } from '../watch/protocol';
import { type SimWatch, startSimWatch } from '../watch/sim-watch';
import type { BleWatchOptions } from './options';

export class BleWatchDevice implements Device {
  readonly kind = 'ble-watch' as const;
  bridge?: WatchBridge;
  /** The simulated peripheral (transport 'virtual' only). */
  sim?: SimWatch;
  private ctx?: DeviceContext;
  private contextVersion = 0;
  private activityHandler: (pack: ActivityPack) => Promise<void> = async () => {};
  private contextProvider: () => ContextPack | Promise<ContextPack> = () =>
    makeContextPack({ version: ++this.contextVersion });
  private delivered = 0;
  private batteryBefore: number | null = null;
  private batteryAfter: number | null = null;
  private modelledAtStop?: EnergyReading;

  constructor(
    readonly id: string,
    private readonly o: BleWatchOptions,
    /** The simulated peripheral's BLE energy parameters (transport 'virtual'). */
    private readonly energyParams?: EnergyParams,
  ) {}

  onActivityPack(handler: (pack: ActivityPack) => Promise<void>): void {
    this.activityHandler = handler;
  }
  onContextRequest(provider: () => ContextPack | Promise<ContextPack>): void {
    this.contextProvider = provider;
  }

  get radioLink(): RadioLinkControl | undefined {
    return this.sim?.faults;
  }

  async start(ctx: DeviceContext): Promise<void> {
    this.ctx = ctx;
    let address = this.o.address;
    if (this.o.transport === 'virtual') {
      if (!currentRadio()) installVirtualRadio({});
      const medium = currentRadio()!.medium!;
      this.sim = await startSimWatch({
        id: this.id,
        medium,
        dataDir: join(ctx.dataDir, 'sim-watch'),
        ...(this.energyParams ? { energy: this.energyParams } : {}),
      });
      this.sim.faults.setInRange(true);
      address = this.sim.address;
    } else {
      if (currentRadio())
        throw new HarnessError(
          'HRN_ERR_DEVICE',
          `device "${this.id}": the virtual radio is installed in this process (a simulated watch ran), so noble cannot reach the real adapter; run real BLE scenarios in their own run`,
        );
      // noble's HCI bindings read the adapter index when they are created (the first loadNoble()).
      if (this.o.adapter !== undefined) process.env.NOBLE_HCI_DEVICE_ID = String(this.o.adapter);
    }
    const bridge = new WatchBridge({ ...(address ? { watchAddress: address } : {}), log: ctx.log });
    this.bridge = bridge;
    bridge.onActivityPack((p) => this.activityHandler(p));
    bridge.onContextRequest(() => this.contextProvider());
    bridge.on('activity', () => this.delivered++);
    bridge.on('reachability', (r: boolean) => {
      if (r) this.delivered = 0;
    });
    await bridge.start();
    await bridge.waitUntilReachable(this.o.connectTimeoutMs);
    this.batteryBefore = bridge.battery;
  }

  private need(): WatchBridge {
    if (!this.bridge) throw new HarnessError('HRN_ERR_DEVICE', `device "${this.id}": not started`);
    return this.bridge;
  }

  async write(op: LocalWrite): Promise<void> {
    if (!this.sim)
      throw new HarnessError(
        'HRN_ERR_SCENARIO',
        `device "${this.id}": a real watch records activities when worn; a ble-watch scenario delivers what the watch holds (no writes)`,
      );
    await recordOnSimWatch(this.sim, op);
  }

  /** Activity packs the watch announced in its hello and has not delivered yet on this connection. */
  async pendingChanges(): Promise<number> {
    if (this.sim) return (await this.sim.state()).queue.length;
    const hello = this.need().watch?.hello;
    const announced = hello && hello.t === 'hello' ? hello.pending : 0;
    return Math.max(0, announced - this.delivered);
  }

  /** Watch connect (RFC 2.6): wait until the watch's activity packs are in, then send the context pack. */
  async sync(trigger: SyncTrigger): Promise<SyncOutcome> {
    const bridge = this.need();
    const clock = currentRadio()?.clock;
    const sleep = (ms: number) => (clock ? clock.sleep(ms) : new Promise((r) => setTimeout(r, ms)));
    const t0 = performance.now();
    if (!bridge.reachable)
      return blankSyncOutcome(trigger, {
        attempts: 1,
        error: 'the watch is not reachable (out of range or disconnected)',
      });
    const before = await this.pendingChanges();
    const deadline = Date.now() + 10 * 60_000;
    while ((await this.pendingChanges()) > 0 && bridge.reachable && Date.now() < deadline) await sleep(200);
    const left = await this.pendingChanges();
    const ok = left === 0 && (await bridge.sendContextPack(await this.contextProvider()));
    return blankSyncOutcome(trigger, {
      ok,
      attempts: 1,
      durationMs: performance.now() - t0,
      pushed: before - left,
      ...(ok ? {} : { error: left ? `${left} activity packs still on the watch` : 'context pack not delivered' }),
    });
  }

  async snapshot(): Promise<TableRecords> {
    return Object.fromEntries(TABLE_NAMES.map((t) => [t, []])) as unknown as TableRecords;
  }

  /**
   * The link model's estimate (the simulated peripheral's counters; a real watch's radio is not
   * observable, so its model is empty), and beside it the Battery Service level at start and at the
   * end of the run (notifications keep it current) as `measured`.
   */
  energy(): EnergyReading {
    const before = this.batteryBefore;
    const after = this.batteryAfter ?? this.bridge?.battery ?? null;
    const modelled = this.modelledAtStop ?? this.sim?.energyReading();
    return {
      ...(modelled ?? { source: 'modelled', joules: 0, batteryPct: 0, radio: 'ble' }),
      ...(before !== null && after !== null
        ? {
            measured: {
              source: 'measured',
              joules: 0,
              batteryPct: before - after,
              details: { levelBefore: before, levelAfter: after },
            },
          }
        : {}),
    };
  }

  async stop(): Promise<void> {
    this.batteryAfter = this.bridge?.battery ?? this.batteryAfter;
    this.modelledAtStop = this.sim?.energyReading();
    await this.bridge?.stop().catch((e) => this.ctx?.log(`watch bridge stop: ${(e as Error).message}`));
    await this.sim?.stop().catch(() => {});
  }
}
