/**
 * Bridge round-trip time against the simulated phone: the harness's BridgeServer + BridgeDevice, the
 * app-side bridge module running the simulated phone, the real sync server behind (machine
 * PostgreSQL when HARNESS_PG_URL is set, else embedded). Measures wall ms per command:
 *   ping (the protocol's own cost), pendingChanges, write, snapshot, and sync (pull + push through the
 *   server) for comparison with the phone driven directly; attachFile (a 45.9 KB FIT as base64 into
 *   the app's upload queue, persisted) and the wait until those uploads settled.
 *
 *   HARNESS_PG_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/bridge-rtt.ts [--n 500]
 *
 * Writes bench/results/bridge-rtt.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BridgeDevice } from '../devices/bridge/bridge-device';
import { closeSharedBridgeServer } from '../devices/bridge/server';
import { SimulatedAppHost } from '../devices/bridge/sim-host';
import { createPhone } from '../devices/phone/index';
import { startTestEnv } from '../devices/phone/test-support';
import { BRIDGE_MESSAGES } from '../protocol/bridge';
import { FIT_CONTENT_TYPE } from '../protocol/files';

const here = dirname(fileURLToPath(import.meta.url));
const i = process.argv.indexOf('--n');
const N = i > 0 ? Number(process.argv[i + 1]) : 500;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50: r3(q(0.5)), p95: r3(q(0.95)), p99: r3(q(0.99)), max: r3(s[s.length - 1]) };
}

async function time(n: number, f: (k: number) => Promise<unknown>) {
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const t0 = performance.now();
    await f(k);
    out.push(performance.now() - t0);
  }
  return stats(out);
}

const env = await startTestEnv({ objectStore: true });
const fit = readFileSync(join(here, '..', 'fixtures', 'fit', 'run-30min.fit'));
const FILES = 20;
const attach = (d: { attachFile: BridgeDevice['attachFile'] }, prefix: string) =>
  time(FILES, (k) =>
    d.attachFile({
      table: 'activities',
      recordId: `${user}-${prefix}-${k}`,
      bytes: fit,
      fileName: `${prefix}-${k}.fit`,
      contentType: FIT_CONTENT_TYPE,
    }),
  );
const uploadsOf = (d: { uploadStatus: BridgeDevice['uploadStatus'] }) => {
  const st = d.uploadStatus();
  return st && { done: st.done, failed: st.failed.length, firstFailure: st.failed[0]?.lastError };
};
const settled = async (d: { uploadsSettled(): Promise<void> }) => {
  const t = performance.now();
  await d.uploadsSettled();
  return r3(performance.now() - t);
};
// User and device ids unique per run: a machine database keeps the last run's (a device id binds to one user).
const user = `bench-${Date.now().toString(36)}`;
const dev = new BridgeDevice({ id: 'bench-bridge', kind: 'detox', host: new SimulatedAppHost() });
const t0 = performance.now();
await dev.start(env.ctx({ userId: user, deviceId: `${user}-bridge` }));
const startMs = performance.now() - t0;
const values = (k: number) => ({
  sport: 'run',
  started_at: Date.now(),
  duration_s: 60 + k,
  distance_m: 100,
  source_device: 'bench',
  updated_at: Date.now(),
});
const viaBridge = {
  startAndConnectMs: r3(startMs),
  ping: await time(N, () => dev.ping()),
  pendingChanges: await time(N, () => dev.pendingChanges()),
  // Ids unique per run: a machine database keeps the last run's rows (ids are global, not per user).
  write: await time(N, (k) =>
    dev.write({ op: 'create', table: 'activities', id: `${user}-a-${k}`, values: values(k) }),
  ),
  snapshot: await time(Math.min(N, 100), () => dev.snapshot()),
  sync: await time(20, () => dev.sync('manual')),
  attachFile: await attach(dev, 'a'),
  uploadsSettledMs: await settled(dev),
  uploads: uploadsOf(dev),
};
await dev.stop();

// The same simulated phone driven directly (no bridge): what the bridge adds.
const direct = createPhone({ id: 'bench-direct', autoTriggers: false });
await direct.start(env.ctx({ userId: `${user}-d`, deviceId: `${user}-direct` }));
const directPhone = {
  pendingChanges: await time(N, () => direct.pendingChanges()),
  write: await time(N, (k) =>
    direct.write({ op: 'create', table: 'activities', id: `${user}-d-${k}`, values: values(k) }),
  ),
  sync: await time(20, () => direct.sync('manual')),
  attachFile: await attach(direct, 'd'),
  uploadsSettledMs: await settled(direct),
  uploads: uploadsOf(direct),
};
await direct.stop();
await closeSharedBridgeServer();
await env.close();

const result = {
  at: new Date().toISOString(),
  machine: { cpus: cpus().length, loadavg: loadavg().map(r3), node: process.version },
  postgres: process.env.HARNESS_PG_URL ? 'url' : 'embedded',
  messages: BRIDGE_MESSAGES,
  viaBridge,
  directPhone,
  note: 'wall ms per command; ping = bridge round trip with no work (WebSocket JSON + Rpc), the rest include the phone worker',
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'bridge-rtt.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify({ viaBridge, directPhone }, null, 2));
