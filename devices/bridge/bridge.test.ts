/**
 * The whole bridge protocol end to end against the simulated phone: the harness's BridgeServer and
 * BridgeDevice on one side, the app-side module (app/app-bridge.ts) running the simulated phone on
 * the other, the real sync server behind (HARNESS_PG_URL for `url` mode).
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BRIDGE_PROTOCOL } from '../../protocol/bridge';
import { blankSyncOutcome } from '../../protocol/device';
import { FIT_CONTENT_TYPE } from '../../protocol/files';
import { createPhone } from '../phone/index';
import { startTestEnv, type TestEnv } from '../phone/test-support';
import { type AppBridge, type AppCommandHandlers, connectAppBridge, parseAttachFile } from './app/app-bridge';
import { type AppHost, BridgeDevice } from './bridge-device';
import { closeSharedBridgeServer, sharedBridgeServer } from './server';
import { SimulatedAppHost } from './sim-host';
import type { MinimalWebSocket } from './ws-endpoint';

let env: TestEnv;
let seq = 0;
const uid = (p: string) => `${p}-${process.pid}-${Date.now().toString(36)}-${seq++}`;

beforeAll(async () => {
  env = await startTestEnv({ objectStore: true });
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
      // No upload commands: no 'uploads' capability, and the harness says so instead of pretending.
      expect(dev.connection?.hello.capabilities).toEqual(['setOffline']);
      expect(dev.attachesFiles()).toBe(false);
      await expect(
        dev.attachFile({
          table: 'activities',
          recordId: 'a1',
          bytes: new Uint8Array([1, 2, 3]),
          fileName: 'a1.fit',
          contentType: FIT_CONTENT_TYPE,
        }),
      ).rejects.toMatchObject({
        code: 'HRN_ERR_BRIDGE_CAPABILITY',
        message: expect.stringMatching(
          /"minimal" 0 \(ANDROID\) did not announce the 'uploads' capability.*nothing was queued/,
        ),
      });
      await expect(dev.retryFailedUploads()).rejects.toMatchObject({ code: 'HRN_ERR_BRIDGE_CAPABILITY' });
      await dev.uploadsSettled(); // nothing can be queued there: settled at once (quiescence asks every device)
      expect(dev.uploadStatus()).toBeUndefined();
      expect(dev.uploadSummary()).toBeUndefined();
      expect(lines.some((l) => /announces no 'uploads' capability/.test(l))).toBe(true);
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

  it("attachFile through the bridge: the simulated app's own upload queue stores the FIT once and the server row points at it", async () => {
    const user = uid('user');
    const dev = await bridged(user);
    try {
      expect(dev.connection?.hello.capabilities).toContain('uploads');
      expect(dev.attachesFiles()).toBe(true);
      const id = uid('act');
      await dev.write({
        op: 'create',
        table: 'activities',
        id,
        values: { rpe: 6, notes: 'bridged fit', updated_at: Date.now() },
      });
      expect((await dev.sync('workout_complete')).ok).toBe(true);
      const fit = readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'fit', 'run-30min.fit'));
      const sha256 = createHash('sha256').update(fit).digest('hex');
      // Bad input is refused before anything reaches the app's queue.
      await expect(
        dev.attachFile({
          table: 'goals' as never,
          recordId: id,
          bytes: fit,
          fileName: 'x.fit',
          contentType: FIT_CONTENT_TYPE,
        }),
      ).rejects.toMatchObject({ code: 'HRN_ERR_SCENARIO', message: expect.stringMatching(/no file column/) });
      const item = await dev.attachFile({
        table: 'activities',
        recordId: id,
        bytes: fit,
        fileName: `${id}.fit`,
        contentType: FIT_CONTENT_TYPE,
      });
      expect(item).toMatchObject({ tableName: 'activities', recordId: id, size: fit.length, sha256 });
      await dev.uploadsSettled();
      const st = dev.uploadStatus();
      expect(st).toMatchObject({ pending: 0, done: 1, failed: [] });
      expect(st!.bytesSent).toBeGreaterThanOrEqual(fit.length);
      expect(dev.uploadSummary()).toMatchObject({ pending: 0, done: 1, failed: [] });
      const methods = new Set(dev.roundTrips.map((r) => r.method));
      for (const m of ['attachFile', 'uploadsSettled', 'uploadStatus']) expect(methods).toContain(m);

      const stored = (await env.objects()).filter((o) => o.sha256 === sha256);
      expect(stored).toHaveLength(1);
      // The app learned the key from the server's confirmation; the server decoded the FIT session.
      expect((await dev.snapshot()).activities.find((r) => r.id === id)?.fit_file_key).toBe(stored[0]!.key);
      const other = createPhone({ id: uid('plain'), autoTriggers: false });
      await other.start(env.ctx({ userId: user, deviceId: other.id }));
      try {
        expect((await other.sync('manual')).ok).toBe(true);
        const row = (await other.snapshot()).activities.find((r) => r.id === id);
        expect(row?.fit_file_key).toBe(stored[0]!.key);
        expect(row?.duration_s).toBe(1800);
      } finally {
        await other.stop();
      }
      expect(await dev.retryFailedUploads()).toBe(0);
    } finally {
      await dev.stop();
    }
  });

  it('the app side checks attachFile strictly and refuses a partial upload command group', async () => {
    const ok = parseAttachFile({
      table: 'activities',
      recordId: 'r',
      fileName: 'r.fit',
      contentType: FIT_CONTENT_TYPE,
      bytesBase64: Buffer.from([0, 1, 254, 255]).toString('base64'),
    });
    expect([...ok.bytes]).toEqual([0, 1, 254, 255]);
    const base = { table: 'activities', recordId: 'r', fileName: 'r.fit', contentType: FIT_CONTENT_TYPE };
    expect(() => parseAttachFile({ ...base, bytesBase64: 'not base64!' })).toThrow(/not base64/);
    expect(() => parseAttachFile({ ...base, bytesBase64: '' })).toThrow(/"bytesBase64" must be a non-empty string/);
    expect(() => parseAttachFile({ ...base, bytesBase64: 'AA==', size: 1 })).toThrow(/unknown field\(s\) size/);
    expect(() => parseAttachFile({ ...base, table: 'goals', bytesBase64: 'AA==' })).toThrow(/no file column/);
    const handlers = {
      attachFile: async () => ({}) as never,
      uploadStatus: async () => null,
    } as unknown as AppCommandHandlers;
    await expect(
      connectAppBridge({
        url: 'ws://127.0.0.1:1',
        session: 's',
        app: { name: 'p', version: '0', platform: 'IOS' },
        handlers,
        WebSocket: WebSocket as unknown as new (url: string) => MinimalWebSocket,
      }),
    ).rejects.toThrow(
      /needs all of attachFile, uploadsSettled, uploadStatus, retryFailedUploads; this app has only attachFile, uploadStatus/,
    );
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
