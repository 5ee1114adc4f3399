/**
 * Worker-thread entry of one simulated watch: virtual radio over the hub port, bleno (a module
 * singleton, hence one watch per thread), the watch store and the sync manager, plus a small RPC for
 * the main thread (sim-watch.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { installVirtualRadio, loadBleno } from '../radio/install';
import { WatchApp } from './peripheral';
import { WatchStore } from './store';

export interface WatchWorkerData {
  port: import('node:worker_threads').MessagePort;
  watchId: string;
  address: string;
  name: string;
  dataFile: string;
  epochMs: number;
  timeScale: number;
  battery?: number;
  advertisingIntervalMs: number;
  maxContextAgeMs?: number;
  energy?: import('../radio/energy').EnergyParams;
}

export type WatchRpc =
  | { id: number; method: 'recordActivity'; args: [import('./peripheral').RecordActivityInput] }
  | { id: number; method: 'state'; args: [] }
  | { id: number; method: 'contextPack'; args: [] }
  | { id: number; method: 'setBattery'; args: [number] };

const d = workerData as WatchWorkerData;
const radio = installVirtualRadio({
  port: d.port,
  epochMs: d.epochMs,
  timeScale: d.timeScale,
  address: d.address,
  energy: d.energy,
});
const release = radio.client!.hold();
process.env.BLENO_DEVICE_NAME = d.name;
process.env.BLENO_ADVERTISING_INTERVAL = String(d.advertisingIntervalMs);
const store = new WatchStore(d.dataFile);
const app = new WatchApp({
  bleno: loadBleno(),
  store,
  clock: radio.clock,
  watchId: d.watchId,
  name: d.name,
  battery: d.battery,
  maxContextAgeMs: d.maxContextAgeMs,
});

app.start().then(
  () => {
    release();
    parentPort!.postMessage({ ready: true });
  },
  (err: Error) => parentPort!.postMessage({ ready: false, error: err.message }),
);

parentPort!.on('message', async (m: WatchRpc) => {
  try {
    let result: unknown;
    if (m.method === 'recordActivity') {
      const input = m.args[0];
      result = await app.recordActivity({ ...input, fit: Buffer.from(input.fit) });
    } else if (m.method === 'state') result = app.state();
    else if (m.method === 'contextPack') result = app.contextPack() ?? null;
    else if (m.method === 'setBattery') result = app.setBattery(m.args[0]);
    parentPort!.postMessage({ id: m.id, result });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).message });
  }
});
