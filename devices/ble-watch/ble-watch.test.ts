/**
 * The ble-watch driver's noble central on the virtual radio against a simulated watch (bleno in its
 * worker): the code a real adapter runs, with only the HCI socket virtual. And what it says when
 * there is no adapter.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../protocol/clock';
import { currentRadio, installVirtualRadio, loadNoble } from '../radio/install';
import type { ActivityPack } from '../watch/protocol';
import { startSimWatch } from '../watch/sim-watch';
import { bleAdapterUnavailable, hciAdapters } from './adapter';
import { BleWatchDevice } from './device';
import { deviceKind } from './kind';
import { resolveBleWatchOptions } from './options';
import { asAttached, scanForWatches } from './scan';

afterAll(() => currentRadio()?.medium?.close());

const ctx = (id: string) => ({
  userId: 'u',
  deviceId: id,
  platform: 'WATCH_GARMIN' as const,
  serverUrl: 'http://127.0.0.1:9',
  getToken: async () => 'unused',
  schemaVersion: 2 as const,
  clock: new ScaledClock(1),
  dataDir: mkdtempSync(join(tmpdir(), 'ble-watch-')),
  log: () => {},
});

describe('ble-watch', () => {
  it('finds the watch by its service, receives activity packs, sends the context pack, reads the battery', async () => {
    installVirtualRadio({ seed: 7 });
    const dev = new BleWatchDevice('bw1', resolveBleWatchOptions({ transport: 'virtual' }));
    const got: ActivityPack[] = [];
    dev.onActivityPack(async (p) => {
      got.push(p);
    });
    await dev.start(ctx('bw1'));
    try {
      expect(dev.bridge!.reachable).toBe(true);
      await dev.write({ op: 'create', table: 'activities', id: 'act-1', values: { sport: 'run', rpe: 6 } });
      expect(await dev.pendingChanges()).toBe(1);
      const out = await dev.sync('watch_connect');
      expect(out.error ?? '').toBe('');
      expect(out).toMatchObject({ ok: true, pushed: 1 });
      expect(got.map((p) => [p.activityId, p.rpe])).toEqual([['act-1', 6]]);
      expect(got[0].fitFile.length).toBeGreaterThan(1000);
      // A fresh watch asked for a context pack at hello (v1); the sync sent the newer one (v2).
      expect((await dev.sim!.state()).contextVersion).toBe(2);
      expect(dev.bridge!.transfers.some((t) => t.direction === 'to-watch' && t.outcome === 'done')).toBe(true);

      // Battery Service: the level notified by the watch is the run's "measured" reading.
      const before = dev.bridge!.battery!;
      const lower = new Promise<void>((r) => dev.bridge!.once('battery', () => r()));
      await dev.sim!.setBattery(before - 3);
      await lower;
    } finally {
      await dev.stop();
    }
    const e = dev.energy();
    expect(e.source).toBe('modelled');
    expect(e.joules).toBeGreaterThan(0);
    expect(e.measured).toMatchObject({ source: 'measured', batteryPct: 3 });
  });

  it('a 5 s scan lists the watches advertising the sync service', async () => {
    const radio = installVirtualRadio({ seed: 11 });
    const watch = await startSimWatch({ id: 'scan-me', medium: radio.medium!, dataDir: null });
    try {
      const seen = await scanForWatches(loadNoble(), { scanMs: 5000, clock: radio.clock });
      expect(seen.map((w) => w.address)).toContain(watch.address);
      expect(asAttached(seen).find((d) => d.id === watch.address)).toMatchObject({
        kind: 'ble-watch',
        state: 'advertising',
        via: 'BLE scan',
      });
    } finally {
      await watch.stop();
    }
  });

  it('a real watch is worn, not scripted: writes are refused without the simulated peripheral', async () => {
    const dev = new BleWatchDevice('bw2', resolveBleWatchOptions({}));
    await expect(dev.write({ op: 'create', table: 'activities', id: 'x', values: {} })).rejects.toMatchObject({
      code: 'HRN_ERR_SCENARIO',
    });
  });

  it('no adapter: the kind says why (so the scenario is skipped), the virtual transport needs none', async () => {
    const noAdapter = hciAdapters().length === 0 && process.platform === 'linux';
    const why = await deviceKind.unavailable!('w', { kind: 'ble-watch', pairedWith: 'p' }, {});
    if (noAdapter) expect(why).toMatch(/^no Bluetooth adapter/);
    else expect(why).toBe(bleAdapterUnavailable());
    expect(
      await deviceKind.unavailable!('w', { kind: 'ble-watch' }, { devices: { 'ble-watch': { transport: 'virtual' } } }),
    ).toBeUndefined();
    expect(() => resolveBleWatchOptions({ transport: 'usb' })).toThrow(
      /use\.devices\.ble-watch\.transport" must be "hci" or "virtual"/,
    );
    expect(() => resolveBleWatchOptions({ address: 'nope' })).toThrow(/address/);
  });
});
