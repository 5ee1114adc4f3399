/**
 * Phone first sync (RFC 0006 §5.2: "Memory: < 50 MB during sync"): one fresh phone pulls a user's
 * 1,000 and 10,000 activities through WatermelonDB's synchronize() in its worker; then 8, 16 and 32
 * fresh phones first-sync 1,000 activities in parallel. The server runs as a child process on embedded
 * PostgreSQL so this process's RSS is the phones' (plus the main thread).
 *
 *   npx tsx bench/phone-first-sync.ts [--adapter sqlite|lokijs] [--parallel 8,16,32] [--sizes 1000,10000]
 *
 * Writes bench/results/phone-first-sync.json. Times are wall ms on this machine; the load average at
 * start is recorded because the box is shared.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPhone, type PhoneAdapterKind, type PhoneDevice } from '../devices/phone/index';
import { createVirtualUser, makeRow, rng } from '../devices/vu/index';
import { startChildServer } from '../harness/runner/server-process';
import { tokenProvider } from '../harness/runner/tokens';
import { resolvePostgres } from '../harness/services/postgres/index';
import { ScaledClock } from '../protocol/clock';
import type { DeviceContext } from '../protocol/device';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const adapter = arg('adapter', 'sqlite') as PhoneAdapterKind;
const sizes = arg('sizes', '1000,10000').split(',').map(Number);
const parallel = arg('parallel', '8,16,32').split(',').map(Number);
const MB = 1024 * 1024;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

const root = mkdtempSync(join(tmpdir(), 'bench-phone-'));
const clock = new ScaledClock(1);
const pgRes = await resolvePostgres({
  mode: process.env.HARNESS_PG_URL ? 'url' : 'embedded',
  url: process.env.HARNESS_PG_URL,
  log: () => {},
});
const server = await startChildServer({ databaseUrl: pgRes.url });
let n = 0;
const ctx = (userId: string, deviceId: string): DeviceContext => ({
  userId,
  deviceId,
  platform: 'ANDROID',
  serverUrl: server.url,
  getToken: tokenProvider(server.url, userId, deviceId, 'ANDROID'),
  schemaVersion: 2,
  clock,
  dataDir: join(root, `d${n++}`),
  log: () => {},
});

/** Seeds `count` full activity rows for a user through a protocol-level VU, in pushes of 2,000. */
async function seed(userId: string, count: number) {
  const vu = createVirtualUser({ id: `seed-${userId}` });
  await vu.start(ctx(userId, `seed-${userId}`));
  const r = rng(count);
  for (let i = 0; i < count; i++) {
    const { id, ...values } = makeRow('activities', `act-${userId}-${i}`, r, 2, clock.now());
    await vu.write({ op: 'create', table: 'activities', id, values });
    if ((i + 1) % 2000 === 0 || i === count - 1) {
      const o = await vu.sync('manual');
      if (!o.ok) throw new Error(`seeding failed: ${o.error}`);
    }
  }
}

function rssSampler() {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  return {
    stop() {
      clearInterval(t);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

const results: Record<string, unknown> = {
  bench: 'phone-first-sync',
  date: new Date().toISOString(),
  adapter,
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    totalMemMB: Math.round(totalmem() / MB),
    loadAvgAtStart: loadavg().map((x) => round(x, 2)),
  },
  node: process.version,
  notes: [
    'peakWorkerHeapMB: the V8 heap of the phone worker (its own isolate) sampled every 10 ms during the sync; SQLite page cache and other native memory are not in it.',
    'rss figures are this whole process (main thread + all phone workers); the server runs in a child process.',
    'durations are wall ms of synchronize() inside the worker (pull + apply; nothing to push on a first sync).',
  ],
  single: [] as unknown[],
  parallel: [] as unknown[],
};

try {
  // --- one phone, 1,000 and 10,000 activities -----------------------------------------------------
  for (const size of sizes) {
    const user = `bench-single-${size}-${Date.now()}`;
    const s0 = performance.now();
    await seed(user, size);
    const seedMs = performance.now() - s0;
    const phone = createPhone({ id: `p-${size}`, autoTriggers: false, adapter });
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    await phone.start(ctx(user, `phone-${user}`));
    const startMs = performance.now() - t0;
    const heapIdle = await phone.memoryBytes();
    const rss = rssSampler();
    const out = await phone.sync('app_launch');
    const rssPeak = rss.stop();
    const snap = await phone.snapshot();
    const entry = {
      activities: size,
      ok: out.ok,
      error: out.error,
      rowsOnPhone: snap.activities.length,
      pulled: out.pulled,
      syncMs: round(out.durationMs),
      workerStartMs: round(startMs),
      bytesDown: out.bytesDown,
      workerHeapIdleMB: round(heapIdle / MB),
      peakWorkerHeapMB: round(out.peakHeapBytes / MB),
      heapUnder50MB: out.peakHeapBytes < 50 * MB,
      processRssBeforeMB: round(rssBefore / MB),
      processRssPeakMB: round(rssPeak / MB),
      anomalies: out.anomalies,
      seedMs: round(seedMs),
    };
    (results.single as unknown[]).push(entry);
    console.log(JSON.stringify(entry));
    await phone.stop();
  }

  // --- N phones in parallel, 1,000 activities each (one shared user) ------------------------------
  const user = `bench-par-${Date.now()}`;
  await seed(user, 1000);
  for (const count of parallel) {
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const phones: PhoneDevice[] = Array.from({ length: count }, (_, i) =>
      createPhone({ id: `pp-${count}-${i}`, autoTriggers: false, adapter }),
    );
    const t0 = performance.now();
    await Promise.all(phones.map((p, i) => p.start(ctx(user, `par-${count}-${i}-${Date.now()}`))));
    const startMs = performance.now() - t0;
    const rssIdle = process.memoryUsage().rss;
    const rss = rssSampler();
    const t1 = performance.now();
    const outs = await Promise.all(phones.map((p) => p.sync('app_launch')));
    const wallMs = performance.now() - t1;
    const rssPeak = rss.stop();
    const durs = outs.map((o) => o.durationMs).sort((a, b) => a - b);
    const counts = await Promise.all(phones.map(async (p) => (await p.snapshot()).activities.length));
    const entry = {
      phones: count,
      activitiesEach: 1000,
      allOk: outs.every((o) => o.ok),
      errors: outs.filter((o) => !o.ok).map((o) => o.error),
      allHave1000: counts.every((c) => c === 1000),
      startAllMs: round(startMs),
      wallMs: round(wallMs),
      perPhoneSyncMs: {
        min: round(durs[0]!),
        p50: round(durs[Math.floor(durs.length / 2)]!),
        max: round(durs[durs.length - 1]!),
      },
      peakWorkerHeapMB: round(Math.max(...outs.map((o) => o.peakHeapBytes)) / MB),
      processRssBeforeMB: round(rssBefore / MB),
      processRssIdleMB: round(rssIdle / MB),
      processRssPeakMB: round(rssPeak / MB),
      rssPerPhoneMB: round((rssPeak - rssBefore) / MB / count),
    };
    (results.parallel as unknown[]).push(entry);
    console.log(JSON.stringify(entry));
    await Promise.all(phones.map((p) => p.stop()));
  }
} finally {
  await server.close().catch(() => {});
  await pgRes.stop().catch(() => {});
  rmSync(root, { recursive: true, force: true });
}

const out = join(
  dirname(fileURLToPath(import.meta.url)),
  'results',
  adapter === 'sqlite' ? 'phone-first-sync.json' : `phone-first-sync-${adapter}.json`,
);
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote ${out}`);
