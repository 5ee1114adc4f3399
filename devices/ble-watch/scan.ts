/**
 * A BLE scan for watches advertising the watch sync service (`harness devices`): the same noble the
 * bridge uses, real adapter or virtual radio. Scans for `scanMs` on the given clock, then stops.
 */
import type { Clock } from '../../protocol/clock';
import type { AttachedDevice } from '../../protocol/device';
import { WATCH_SYNC_SERVICE } from '../watch/protocol';

export interface SeenWatch {
  address: string;
  name?: string;
  rssi: number;
}

const wall: Clock = { timeScale: 1, now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

export async function scanForWatches(noble: any, o: { scanMs: number; clock?: Clock }): Promise<SeenWatch[]> {
  const clock = o.clock ?? wall;
  if (noble.state !== 'poweredOn') {
    const state = await Promise.race([
      new Promise<string>((resolve) => {
        const on = (s: string) => {
          if (s === 'poweredOn' || s === 'unsupported' || s === 'unauthorized' || s === 'poweredOff') {
            noble.off('stateChange', on);
            resolve(s);
          }
        };
        noble.on('stateChange', on);
      }),
      clock.sleep(o.scanMs).then(() => 'timeout'),
    ]);
    if (state !== 'poweredOn') throw new Error(`the Bluetooth adapter is ${state === 'timeout' ? 'not ready' : state}`);
  }
  const seen = new Map<string, SeenWatch>();
  const onDiscover = (p: any) => {
    seen.set(p.address, {
      address: p.address,
      ...(p.advertisement?.localName ? { name: p.advertisement.localName } : {}),
      rssi: p.rssi,
    });
  };
  noble.on('discover', onDiscover);
  await noble.startScanningAsync([WATCH_SYNC_SERVICE], true);
  await clock.sleep(o.scanMs);
  await noble.stopScanningAsync().catch(() => {});
  noble.off('discover', onDiscover);
  return [...seen.values()];
}

export function asAttached(ws: SeenWatch[]): AttachedDevice[] {
  return ws.map((w) => ({
    kind: 'ble-watch' as const,
    id: w.address,
    ...(w.name ? { name: w.name } : {}),
    state: 'advertising',
    via: 'BLE scan',
    detail: `rssi ${w.rssi} dBm`,
  }));
}
