/**
 * The whole bridge protocol end to end against the simulated phone: the harness's BridgeServer and
 * BridgeDevice on one side, the app-side module (app/app-bridge.ts) running the simulated phone on
 * the other, the real sync server behind (HARNESS_PG_URL for `url` mode).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BRIDGE_PROTOCOL } from '../../protocol/bridge';
import { blankSyncOutcome } from '../../protocol/device';
import { createPhone } from '../phone/index';
import { startTestEnv, type TestEnv } from '../phone/test-support';
import { type AppBridge, connectAppBridge } from './app/app-bridge';
import { type AppHost, BridgeDevice } from './bridge-device';
import { closeSharedBridgeServer, sharedBridgeServer } from './server';
import { SimulatedAppHost } from './sim-host';
import type { MinimalWebSocket } from './ws-endpoint';

let env: TestEnv;
let seq = 0;
const uid = (p: string) => `${p}-${process.pid}-${Date.now().toString(36)}-${seq++}`;

beforeAll(async () => {
  env = await startTestEnv();
});
afterAll(async () => {
  await closeSharedBridgeServer();
  await env?.close();
});

const activity = (id: string) => ({
  sport: 'run',
  started_at: Date.now() - 3_600_000,
  duration_s: 1800,
  distance_m: 5000,
  avg_hr: 150,
  max_hr: 170,
  calories: 400,
  source_device: 'bridge-test',
  rpe: 5,
  notes: `bridge ${id}`,
  updated_at: Date.now(),
});

async function bridged(userId: string) {
  const id = uid('bp');
  const dev = new BridgeDevice({
    id,
    kind: 'detox',
    host: new SimulatedAppHost(),
    connectTimeoutMs: 30_000,
    // The spec's radio and battery reach the app's energy model in configure.
    energy: { radio: 'wifi', batteryMah: 3000, batteryVolts: 3.85 },
  });
  await dev.start(env.ctx({ userId, deviceId: id }));
  return dev;
}

describe('bridge protocol against the simulated phone', () => {
  it('write, pending, sync (token over the bridge), snapshot, clock offset, energy, ping', async () => {
    const user = uid('user');
    const dev = await bridged(user);
    try {
      const id = uid('act');
      await dev.write({ op: 'create', table: 'activities', id, values: activity(id) });
      expect(await dev.pendingChanges()).toBe(1);
      const out = await dev.sync('manual');
      expect(out.error ?? '').toBe('');
      expect(out).toMatchObject({ ok: true, trigger: 'manual', pushed: 1 });
      expect(await dev.pendingChanges()).toBe(0);
      expect((await dev.snapshot()).activities.map((r) => r.id)).toContain(id);

      // The server got it: another (plain) phone of the same user pulls it.
      const other = createPhone({ id: uid('plain'), autoTriggers: false });
      await other.start(env.ctx({ userId: user, deviceId: other.id }));
      try {
        expect((await other.sync('manual')).ok).toBe(true);
        expect((await other.snapshot()).activities.find((r) => r.id === id)?.notes).toBe(`bridge ${id}`);
      } finally {
        await other.stop();
      }

      dev.setClockOffset(60_000);
      const e = dev.energy();
      expect(e.source).toBe('modelled');
      expect(e.joules).toBeGreaterThan(0);
      expect(e.radio).toBe('wifi');
      expect(e.details?.batteryCapacityJ).toBeCloseTo(3 * 3600 * 3.85);
      expect(await dev.ping()).toBeGreaterThanOrEqual(0);
      const methods = new Set(dev.roundTrips.map((r) => r.method));
      for (const m of ['configure', 'write', 'pendingChanges', 'sync', 'snapshot', 'energy', 'setClockOffset', 'ping'])
        expect(methods).toContain(m);
    } finally {
      await dev.stop();
    }
  });

  it('app kill and relaunch: the app reconnects on its session and keeps its unsynced write', async () => {
    const dev = await bridged(uid('user'));
    try {
      const id = uid('act');
      await dev.write({ op: 'create', table: 'activities', id, values: activity(id) });
      await dev.kill();
      await expect(dev.pendingChanges()).rejects.toThrow(/not connected/);
      await dev.restart();
      expect(await dev.pendingChanges()).toBe(1);
      expect((await dev.sync('app_launch')).pushed).toBe(1);
    } finally {
      await dev.stop();
    }
  });

  it("an app announcing setOffline gets the offline fault's device-level switch; its log lines reach the device log", async () => {
    const seen: boolean[] = [];
    const lines: string[] = [];
    let app: AppBridge | undefined;
    const host: AppHost = {
      name: 'a minimal app',
      async launch(r) {
        app = await connectAppBridge({
          url: r.bridgeUrl,
          session: r.session,
          app: { name: 'minimal', version: '0', platform: 'ANDROID' },
          WebSocket: WebSocket as unknown as new (url: string) => MinimalWebSocket,
          handlers: {
            configure: async (_c, getToken) => {
              app?.log(`configured, token ${(await getToken()).length > 20 ? 'ok' : 'bad'}`);
            },
            write: async () => {},
            sync: async (trigger) => ({ ...blankSyncOutcome(trigger), ok: true }),
            snapshot: async () => ({}) as never,
            pendingChanges: async () => 0,
            setClockOffset: async () => {},
            energy: async () => ({ source: 'modelled', joules: 0, batteryPct: 0 }),
            setOffline: async (v) => {
              seen.push(v);
            },
          },
        });
      },
      terminate: async () => app?.close(),
      stop: async () => app?.close(),
    };
    const id = uid('min');
    const dev = new BridgeDevice({ id, kind: 'detox', host, connectTimeoutMs: 30_000 });
    await dev.start({ ...env.ctx({ userId: uid('user'), deviceId: id }), log: (l) => lines.push(l) });
    try {
      expect(dev.connection?.hello.capabilities).toEqual(['setOffline']);
      await dev.setOffline(true);
      await dev.setOffline(false);
      expect(seen).toEqual([true, false]);
      await expect(dev.background()).rejects.toMatchObject({ code: 'HRN_ERR_FAULT_UNSUPPORTED' });
      await dev.ping(); // events and results share one ordered socket: the log line is in by now
      expect(lines).toContain('configured, token ok');
    } finally {
      await dev.stop();
    }
  });

  it('the handshake refuses an unknown session and another protocol version', async () => {
    const server = await sharedBridgeServer();
    const answer = async (hello: object) => {
      const ws = new WebSocket(server.url);
      await new Promise((r) => ws.once('open', r));
      const reply = new Promise<any>((r) => ws.once('message', (d) => r(JSON.parse(String(d)))));
      ws.send(JSON.stringify(hello));
      const m = await reply;
      ws.close();
      return m;
    };
    const base = { t: 'hello', app: { name: 't', version: '0', platform: 'simulated' }, capabilities: [] };
    expect(await answer({ ...base, protocol: BRIDGE_PROTOCOL, session: 'nope' })).toEqual({
      t: 'refused',
      reason: 'unknown session "nope"',
    });
    const session = server.register('t', { getToken: async () => 'x' });
    expect(await answer({ ...base, protocol: 99, session })).toMatchObject({
      t: 'refused',
      reason: expect.stringMatching(/protocol 99 is not supported/),
    });
    expect(await answer({ t: 'call', id: 1 })).toMatchObject({ t: 'refused' });
    server.unregister(session);
  });
});
