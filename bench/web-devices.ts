/**
 * Web devices on this machine: how many Chromium contexts (one per web device, each its own app
 * origin and app server, all in one shared browser) sync at once while the p95 sync latency stays
 * under the RFC's 2 s; memory per context; the sync latency distribution at each level.
 *
 *   npx tsx bench/web-devices.ts [--levels 1,2,4,8,12,16] [--seconds 20] [--think 1000]
 *
 * Each device loops: 1-2 local writes, then sync (pull + push through its app server), then
 * `think` ms. Latency = the sync's in-page wall duration (SyncOutcome.durationMs); the driver's
 * round trip (CDP evaluate included) is reported beside it. Memory: proportional set size of the
 * whole Chromium process tree divided by the number of contexts (what a context really costs),
 * and the CDP JS heap per context. The first context also pays for the renderer's share of
 * Chromium's code pages, so the marginal cost of one more context is reported too. The server runs as a child process on embedded PostgreSQL.
 * Writes bench/results/web-devices.json and devices/web/docs/app-screenshot.png.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireBrowser, releaseBrowser } from '../devices/web/chromium';
import { closeSharedBrowser, createWebDevice, type WebDevice } from '../devices/web/index';
import { startChildServer } from '../harness/runner/server-process';
import { tokenProvider } from '../harness/runner/tokens';
import { resolvePostgres } from '../harness/services/postgres/index';
import { ScaledClock } from '../protocol/clock';
import type { DeviceContext } from '../protocol/device';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const levels = arg('levels', '1,2,4,8,12,16').split(',').map(Number);
const seconds = Number(arg('seconds', '20'));
const think = Number(arg('think', '1000'));
const P95_LIMIT_MS = 2000;
const MEM_GOAL_MB = 80;
const MB = 1024 * 1024;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const pct = (xs: number[], p: number) => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** PSS (kB → bytes) of every Chromium process descended from this Node process. */
function chromiumPssBytes(): number {
  const parent = new Map<number, number>();
  const isChrome = new Set<number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(after[1]));
      if (/\((chromium|chrome)[^)]*\)/.test(stat)) isChrome.add(Number(d));
    } catch {
      /* gone */
    }
  }
  const descends = (pid: number) => {
    for (let p = pid, i = 0; p > 1 && i < 50; p = parent.get(p) ?? 0, i++) if (p === process.pid) return true;
    return false;
  };
  let total = 0;
  for (const pid of isChrome) {
    if (!descends(pid)) continue;
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      /* gone */
    }
  }
  return total;
}

const root = mkdtempSync(join(tmpdir(), 'bench-web-'));
const pgRes = await resolvePostgres({ mode: 'embedded', log: () => {} });
const server = await startChildServer({ databaseUrl: pgRes.url });
const clock = new ScaledClock(1);
let seq = 0;
const ctx = (userId: string, deviceId: string): DeviceContext => ({
  userId,
  deviceId,
  platform: 'WEB',
  serverUrl: server.url,
  getToken: tokenProvider(server.url, userId, deviceId, 'WEB'),
  schemaVersion: 2,
  clock,
  dataDir: join(root, `d${seq++}`),
  log: () => {},
});

const results: Record<string, unknown> = {
  bench: 'web-devices',
  when: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    memGB: round(totalmem() / 1024 ** 3),
    loadavgAtStart: loadavg().map((x) => round(x, 2)),
  },
  params: { levels, seconds, thinkMs: think, p95LimitMs: P95_LIMIT_MS },
  levels: [] as unknown[],
};

await acquireBrowser(); // keep the shared browser up across levels
// Warm-up: the first context also starts the browser's shared helpers (network service, GPU/utility
// processes); the baseline is taken after one device came and went, so per-context PSS is marginal.
{
  const probe = createWebDevice({ id: 'probe', autoSync: false });
  await probe.start(ctx('bench-probe', 'web-probe'));
  await probe.sync('manual');
  await probe.stop();
  await new Promise((r) => setTimeout(r, 1000));
}
const browserOnlyPss = chromiumPssBytes();
let maxOk = 0;
let failedLevels = 0;
let onePss: number | null = null;
try {
  for (const n of levels) {
    const t0 = Date.now();
    const devices: WebDevice[] = [];
    // Two devices per user, so pokes and pulls carry the other device's writes.
    for (let i = 0; i < n; i++) {
      const d = createWebDevice({
        id: `w${n}-${i}`,
        autoSync: true,
        backgroundSyncOnWrite: false,
        backgroundIntervalMs: 0,
      });
      await d.start(ctx(`bench-${n}-${Math.floor(i / 2)}`, `web-${n}-${i}`));
      devices.push(d);
    }
    const startMs = Date.now() - t0;
    const inPage: number[] = [];
    const roundTrip: number[] = [];
    let failures = 0;
    const deadline = Date.now() + seconds * 1000;
    await Promise.all(
      devices.map(async (d, i) => {
        let k = 0;
        await new Promise((r) => setTimeout(r, (i * think) / n)); // spread the first syncs
        while (Date.now() < deadline) {
          const writes = 1 + (k % 2);
          for (let w = 0; w < writes; w++) {
            await d.write({
              op: 'create',
              table: w ? 'daily_metrics' : 'goals',
              id: `${d.id}-${k}-${w}`,
              values: w
                ? { date: '2026-11-25', resting_hr: 40 + (k % 20), mood: 'ok' }
                : { title: `goal ${k}`, target_value: k, status: 'active' },
            });
          }
          const t = performance.now();
          const out = await d.sync('manual');
          roundTrip.push(performance.now() - t);
          if (out.ok) inPage.push(out.durationMs);
          else failures++;
          k++;
          await new Promise((r) => setTimeout(r, think));
        }
      }),
    );
    const pss = chromiumPssBytes();
    if (n === 1) onePss = pss;
    const heaps: number[] = [];
    for (const d of devices) heaps.push(await d.memoryBytes());
    const level = {
      devices: n,
      startAllMs: startMs,
      syncs: inPage.length + failures,
      failures,
      syncsPerSecond: round((inPage.length + failures) / seconds, 2),
      syncMs: {
        p50: round(pct(inPage, 50)),
        p95: round(pct(inPage, 95)),
        p99: round(pct(inPage, 99)),
        max: round(Math.max(...inPage)),
      },
      driverRoundTripMs: { p50: round(pct(roundTrip, 50)), p95: round(pct(roundTrip, 95)) },
      memory: {
        chromiumPssMB: round(pss / MB),
        perContextPssMB: round((pss - browserOnlyPss) / n / MB),
        // What one more context costs once a renderer has loaded Chromium's code (shared text pages).
        marginalPerContextPssMB: onePss !== null && n > 1 ? round((pss - onePss) / (n - 1) / MB) : null,
        jsHeapPerContextMB: round(heaps.reduce((a, b) => a + b, 0) / n / MB),
      },
      loadavg: loadavg().map((x) => round(x, 2)),
      withinThreshold: pct(inPage, 95) < P95_LIMIT_MS && failures === 0,
    };
    console.log(JSON.stringify(level));
    (results.levels as unknown[]).push(level);
    if (level.withinThreshold) maxOk = n;
    for (const d of devices) await d.stop();
    // The box is shared and noisy: stop after two failing levels in a row.
    failedLevels = level.withinThreshold ? 0 : failedLevels + 1;
    if (failedLevels >= 2) break;
  }

  // A screenshot of a device with a little of everything, after a sync.
  const u = 'bench-screenshot';
  const show = createWebDevice({ id: 'screenshot', autoSync: true, backgroundIntervalMs: 0 });
  const peer = createWebDevice({ id: 'screenshot-peer', autoSync: false });
  await show.start(ctx(u, 'web-screenshot'));
  await peer.start(ctx(u, 'web-screenshot-peer'));
  const now = Date.now();
  await peer.write({
    op: 'create',
    table: 'users',
    id: 'u-ada',
    values: { name: 'Ada Runner', email: 'ada@example.org', max_hr: 188, units: 'metric' },
  });
  await peer.write({
    op: 'create',
    table: 'activities',
    id: 'act-1',
    values: {
      sport: 'run',
      started_at: now - 86_400_000,
      distance_m: 10_200,
      avg_hr: 152,
      rpe: 6,
      notes: 'tempo, windy',
    },
  });
  await peer.write({
    op: 'create',
    table: 'activities',
    id: 'act-2',
    values: {
      sport: 'ride',
      started_at: now - 2 * 86_400_000,
      distance_m: 42_000,
      avg_hr: 138,
      rpe: 4,
      notes: 'easy spin',
    },
  });
  await peer.write({
    op: 'create',
    table: 'training_plans',
    id: 'plan-1',
    values: { name: 'Spring marathon', weeks: 16, status: 'active' },
  });
  await peer.write({
    op: 'create',
    table: 'scheduled_workouts',
    id: 'sw-1',
    values: { plan_id: 'plan-1', date: '2026-11-27', title: 'Intervals 6x800', intensity: 'z4' },
  });
  await peer.write({
    op: 'create',
    table: 'daily_metrics',
    id: 'dm-1',
    values: { date: '2026-11-25', resting_hr: 47, readiness: 82, mood: 'good' },
  });
  await peer.sync('manual');
  await show.write({
    op: 'create',
    table: 'goals',
    id: 'goal-1',
    values: { title: 'Sub-3:15 marathon', target_value: 11_700, status: 'active' },
  });
  await show.sync('pull_to_refresh');
  const page = show.tabs[0]!;
  await page.setViewportSize({ width: 1280, height: 760 });
  await page.locator('#badge[data-state="synced"]').waitFor({ timeout: 15_000 });
  await show.screenshot(join(ROOT, 'devices/web/docs/app-screenshot.png'));
  await show.stop();
  await peer.stop();
} finally {
  await releaseBrowser();
  await closeSharedBrowser();
  await server.close();
  await pgRes.stop();
  rmSync(root, { recursive: true, force: true });
}

results.summary = {
  maxDevicesWithinP95: maxOk,
  p95LimitMs: P95_LIMIT_MS,
  memoryGoalMBPerContext: MEM_GOAL_MB,
  note: 'Shared 2-core box: other workloads ran at the same time (see loadavg per level).',
};
writeFileSync(join(ROOT, 'bench/results/web-devices.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results.summary));
