/**
 * The devices of one scenario: each behind its own proxy (and a linked proxy to the object store),
 * with its own clock derived from the run clock, created through its kind plugin and started.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deviceKind } from '../../devices/registry';
import { type Clock, SkewedClock } from '../../protocol/clock';
import type { Device, DeviceContext, DeviceKind, DeviceSpec } from '../../protocol/device';
import { DeviceNetwork } from '../faults/network';
import { createDevice } from './devices';
import type { RunEnvironment } from './run-scenario';
import type { ScenarioServer } from './scenario-server';
import { tokenProvider } from './tokens';

export interface RunDevice {
  id: string;
  dev: Device;
  kind: DeviceKind;
  net: DeviceNetwork;
  user: string;
  /** The device's clock: the run clock plus this device's skew (the clockSkew fault sets it). */
  clock: SkewedClock;
  spec: DeviceSpec;
  /** The id the device presents to the server (JWT, sync_log). */
  serverDeviceId: string;
  dataDir: string;
}

export class DeviceSet {
  readonly byId = new Map<string, RunDevice>();

  constructor(
    private readonly env: RunEnvironment,
    private readonly dir: string,
    private readonly slug: string,
    private readonly seed: number,
  ) {}

  get(id: string): RunDevice {
    const d = this.byId.get(id);
    if (!d) throw new Error(`unknown device "${id}"`);
    return d;
  }
  ids(): string[] {
    return [...this.byId.keys()];
  }
  all(): RunDevice[] {
    return [...this.byId.values()];
  }
  /** Server device id → scenario device id (to read sync_log in the history's terms). */
  serverIds(): Map<string, string> {
    return new Map(this.all().map((d) => [d.serverDeviceId, d.id]));
  }

  async start(specs: Record<string, DeviceSpec>, server: ScenarioServer, clock: Clock): Promise<void> {
    const { env, slug } = this;
    // Device chatter (retries, WatermelonDB diagnostics) goes to a file beside the history; the
    // terminal stays readable. HARNESS_VERBOSE=1 echoes it too.
    const logFile = join(this.dir, 'devices.log');
    const log = (line: string) => {
      appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
      if (process.env.HARNESS_VERBOSE) env.log(line);
    };
    for (const name of new Set(Object.values(specs).map((s) => s.kind)))
      await (await deviceKind(name)).beginScenario?.({ seed: this.seed });
    for (const [id, spec] of Object.entries(specs)) {
      const user = spec.user ?? 'user-1';
      const tp = env.toxiproxy;
      const net = await DeviceNetwork.create(
        tp.client,
        `${slug}-${id}`,
        Number(new URL(server.url).port),
        tp.addressing,
      );
      const serverDeviceId = server.serverDeviceId(id);
      const serverUser = server.serverUser(user);
      if (env.objectStore) {
        // Uploads go to the store through a second proxy of the same device, linked so that every
        // fault and preset of the device applies to its uploads as well.
        const port = Number(new URL(env.objectStore.endpoint).port);
        const files = await DeviceNetwork.create(tp.client, `${slug}-${id}-files`, port, tp.addressing);
        net.link(files);
        server.uploadRoutes.set(serverDeviceId, files.url);
      }
      const preset = spec.network ?? env.config.use.network;
      if (preset) await net.applyPreset(preset);
      const createOpts = { phoneAdapter: env.config.use.phoneAdapter, devices: env.config.use.devices };
      const { dev, kind } = await createDevice(id, spec, createOpts);
      const platform = kind.platformOf?.(spec, createOpts) ?? kind.platform;
      const devClock = new SkewedClock(clock);
      const ctx: DeviceContext = {
        userId: serverUser,
        deviceId: serverDeviceId,
        platform,
        serverUrl: net.url,
        getToken: tokenProvider(server.url, serverUser, serverDeviceId, platform, spec.tokenTtlSeconds),
        schemaVersion: spec.schemaVersion ?? 2,
        clock: devClock,
        dataDir: join(this.dir, 'devices', id),
        log: (l) => log(`[${id}] ${l}`),
      };
      mkdirSync(ctx.dataDir, { recursive: true });
      this.byId.set(id, { id, dev, kind, net, user, clock: devClock, spec, serverDeviceId, dataDir: ctx.dataDir });
      await dev.start(ctx);
    }
  }

  async stop(): Promise<void> {
    for (const d of this.byId.values()) {
      await d.dev.stop().catch(() => {});
      await d.net.remove();
    }
  }
}
