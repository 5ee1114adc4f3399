/**
 * One load-generator process's share of a load run: its users and devices (virtual users), their
 * setup, the executor over them, and the lost-write check on a sample of its users. Everything it
 * measures goes into Metrics registries that export as plain data, so slices in worker processes
 * merge into the very histograms one process would have recorded.
 */

import { makeRow, rng } from '../../devices/vu/payloads';
import { fetchTestToken } from '../../devices/vu/token';
import { createVirtualUser, type VirtualUser } from '../../devices/vu/virtual-user';
import { ScaledClock } from '../../protocol/clock';
import { blankSyncOutcome, type SyncOutcome } from '../../protocol/device';
import type { Platform } from '../../protocol/records';
import { type SchemaVersion, TABLE_NAMES, type TableName } from '../../protocol/tables';
import { type ExportedSeries, Metrics } from '../metrics/registry';
import { type ExecutorResult, type ExecutorSpec, maxVUsOf, runExecutor } from './executors';
import { GeneratorMonitor, type GeneratorSample } from './process-stats';
import { socketFetchFrom } from './socket-transport';
import { closeTransports, fetchFrom, isLoopback, sourceAddress } from './transport';
import { type LoadTrigger, pickTrigger, runTrigger, type TriggerMix, type TriggerSlot, validateMix } from './triggers';

export interface LoadOptions {
  serverUrl: string;
  executor: ExecutorSpec;
  /** Devices per user: VU i is device i % devicesPerUser of user ⌊i / devicesPerUser⌋ (default 2). */
  devicesPerUser?: number;
  mix?: TriggerMix;
  /** Rows the first device of each user creates and syncs in setup, so pulls carry data (default 10). */
  seedRowsPerUser?: number;
  schemaVersion?: SchemaVersion;
  seed?: number;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  /** Attempts per sync (default 1: a failure is reported, not hidden by retries). */
  maxAttempts?: number;
  /** Closed models: pause between one VU's iterations, jittered ±50 % (default 0). */
  thinkTimeMs?: number;
  /** Worker processes the VUs are spread over (default 1: this process). */
  workers?: number;
  /** Users (per slice) whose writes are checked after the run (default 10). */
  lostWriteSample?: number;
  /** Named spans of the run (by iteration start, ms from the executor start): latency is also tagged `phase:<name>`. */
  phases?: Array<{ name: string; fromMs: number; toMs: number }>;
  /** Timeline window (default 1000 ms). */
  windowMs?: number;
  /** Prefix of user and device ids (default from the clock and seed): unique per run. */
  runId?: string;
  /**
   * On a loopback server, give each VU its own source address in 127.0.0.0/8, as real phones have,
   * so the server's per-address connection cap (2048) does not reject the generator. Default 'auto':
   * when the run's VUs exceed 1024 (with first syncs and keep-alive churn they would approach the
   * cap).
   */
  spreadSourceAddresses?: boolean | 'auto';
  /**
   * HTTP client of the VUs: 'socket' (default on a plain-http loopback server), a minimal HTTP/1.1
   * client on raw net.Sockets (socket-transport.ts); 'http' (default on other plain-http servers),
   * node:http with keep-alive and buffered bodies (transport.ts); or 'fetch', the global fetch
   * (undici). An https server always gets fetch. At 1000 VUs the generator used 837 and 1076 CPU ms
   * per 1000 syncs with 'http' against 1318 and 1528 with 'fetch' (interleaved runs, one machine):
   * on a machine the server shares, the generator's CPU is taken from the server's. 'socket' against
   * 'http', 15 alternating runs of load-1000-concurrent on a machine other jobs loaded (load average
   * 5–12): 828, 867, 1018, 1058, 1077, 1084, 1661 (median 1058) against 1050, 1158, 1205, 1350,
   * 1536, 1849, 1924, 2236 (median 1442) CPU ms per 1000 syncs, lower in 6 of 7 neighbouring pairs,
   * 0 failed syncs against 4 node:http "socket hang up"s (3 of 8 runs); alone, a client doing 20 000
   * requests used 78–85 µs of CPU per request against node:http's 153–175.
   */
  transport?: 'socket' | 'http' | 'fetch';
  /** Token source; default POST /auth/test-token on the server. */
  getToken?(userId: string, deviceId: string, platform: Platform, fetchImpl?: typeof fetch): Promise<string>;
  onProgress?(p: { elapsedMs: number; iterations: number; inFlight: number; dropped: number }): void;
}

export interface SliceResult {
  slice: number;
  /** Run metrics: vu_sync_latency_ms{trigger}, vu_sync_success_rate{trigger}, counters. */
  series: ExportedSeries[];
  /** Per-window metrics (tag `w`: window index): latency and counts. */
  windows: ExportedSeries[];
  /** Generator samples, one per window as the sampler managed (t: ms from the executor start, at the sample). */
  samples: Array<GeneratorSample & { inFlight: number }>;
  executor: ExecutorResult;
  /** Wall epoch ms when the executor started (after setup). */
  startedAt: number;
  vus: number;
  users: number;
  setupMs: number;
  errors: Record<string, number>;
  lostWrites: { checkedUsers: number; lost: number; diverged: number; unverified: number; examples: string[] };
  generator: {
    cpuMs: number;
    cpuPct: number;
    elu: number;
    loopDelayP99Ms: number;
    wallMs: number;
    rssBaseMb: number;
    rssPeakMb: number;
  };
}

/** The slice's share of an executor spec (VUs and rates divided among `of` slices). */
export function shareOf(spec: ExecutorSpec, slice: number, of: number): ExecutorSpec {
  if (of === 1) return spec;
  const split = (n: number) => Math.floor(n / of) + (slice < n % of ? 1 : 0);
  switch (spec.executor) {
    case 'constant-vus':
      return { ...spec, vus: Math.max(1, split(spec.vus)) };
    case 'ramping-vus':
      return {
        ...spec,
        startVUs: split(spec.startVUs ?? 0),
        stages: spec.stages.map((s) => ({ ...s, target: split(s.target) })),
      };
    case 'constant-arrival-rate':
      return {
        ...spec,
        rate: spec.rate / of,
        maxVUs: Math.max(1, split(spec.maxVUs)),
        preAllocatedVUs: spec.preAllocatedVUs === undefined ? undefined : split(spec.preAllocatedVUs),
      };
    case 'ramping-arrival-rate':
      return {
        ...spec,
        startRate: (spec.startRate ?? 0) / of,
        stages: spec.stages.map((s) => ({ ...s, target: s.target / of })),
        maxVUs: Math.max(1, split(spec.maxVUs)),
        preAllocatedVUs: spec.preAllocatedVUs === undefined ? undefined : split(spec.preAllocatedVUs),
      };
  }
}

async function inBatches<T>(items: T[], size: number, fn: (x: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/** Above this many VUs in a run, 'auto' spreads source addresses (half the server's per-address cap). */
const SPREAD_ABOVE_VUS = 1024;

const errorKey = (e: string) => e.replace(/\d+/g, 'N').slice(0, 120);

interface Slot extends TriggerSlot {
  user: number;
  userId: string;
  deviceId: string;
}

export async function runSlice(o: LoadOptions, slice = 0, slices = 1): Promise<SliceResult> {
  const spec = shareOf(o.executor, slice, slices);
  const mix = validateMix(o.mix ?? {});
  const version = o.schemaVersion ?? 2;
  const perUser = o.devicesPerUser ?? 2;
  const seed = o.seed ?? 1;
  const clock = new ScaledClock(1);
  const runId = o.runId ?? `${Date.now().toString(36)}${seed}`;
  const getToken = o.getToken ?? ((u, d, p, f) => fetchTestToken(o.serverUrl, u, d, p, f));
  const rssBaseMb = process.memoryUsage.rss() / 1048576;
  const vus = maxVUsOf(spec);
  const users = Math.ceil(vus / perUser);
  const metrics = new Metrics();
  const windows = new Metrics();
  const windowMs = o.windowMs ?? 1000;
  const errors: Record<string, number> = {};
  let seq = 0;
  let fresh = 0;

  // On loopback, each VU's connections leave from an address of its own (see transport.ts).
  const spreadOpt = o.spreadSourceAddresses ?? 'auto';
  const spread =
    isLoopback(o.serverUrl) && (spreadOpt === 'auto' ? maxVUsOf(o.executor) > SPREAD_ABOVE_VUS : spreadOpt);
  // node:http and the socket client speak plain HTTP only; an https target goes through fetch.
  const plainHttp = new URL(o.serverUrl).protocol === 'http:';
  const transport = o.transport ?? (isLoopback(o.serverUrl) ? 'socket' : 'http');
  const from = transport === 'socket' && plainHttp ? socketFetchFrom : fetchFrom;
  const startDevice = async (userId: string, deviceId: string, vuIndex: number): Promise<VirtualUser> => {
    // Each device its own connections, as each phone (and each k6 VU) has: with one pool shared by a
    // process's VUs, the setup's 50-at-a-time syncs left ~100 connections, and at the run's start
    // 900 VUs opened new ones at once; the server's loaded event loop took 2.5 s to accept them all
    // (its accept queue reached 833), and those first syncs took up to 6 s: the run's p99.
    const own = { ownConnections: true };
    const vuFetch = spread
      ? from(sourceAddress(slice * vus + vuIndex), own)
      : transport === 'fetch' || !plainHttp
        ? undefined
        : from(undefined, own);
    const vu = createVirtualUser({
      ...(vuFetch ? { fetch: vuFetch } : {}),
      id: deviceId,
      schemaVersion: version,
      maxAttempts: o.maxAttempts ?? 1,
      requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
      // The contract's records are the table's columns: WatermelonDB's bookkeeping stays on the device.
      sendBookkeeping: false,
    });
    const token = await getToken(userId, deviceId, 'IOS', vuFetch);
    await vu.start({
      userId,
      deviceId,
      platform: 'IOS',
      serverUrl: o.serverUrl,
      getToken: async () => token,
      schemaVersion: version,
      clock,
      dataDir: '',
      log: () => {},
    });
    return vu;
  };

  // Setup: every device gets its token and its first full sync before the clock starts, so the
  // run measures the steady state; first syncs under load are the `first-sync` trigger's job.
  const setupStart = performance.now();
  const slots: Slot[] = [];
  for (let i = 0; i < vus; i++) {
    const user = Math.floor(i / perUser);
    const userId = `vu-${runId}-s${slice}-u${user}`;
    const deviceId = `${userId}-d${i % perUser}`;
    const slot: Slot = {
      user,
      userId,
      deviceId,
      vu: undefined as unknown as VirtualUser,
      r: rng(seed * 1_000_003 + slice * 7919 + i),
      version,
      now: () => clock.now(),
      created: new Map(TABLE_NAMES.map((t) => [t, []])),
      nextId: (table: TableName) => `${table.slice(0, 2)}-${deviceId}-${seq++}`,
      freshDevice: () => startDevice(userId, `${userId}-f${fresh++}`, i),
    };
    slots.push(slot);
  }
  await inBatches(slots, 50, async (s) => {
    s.vu = await startDevice(s.userId, s.deviceId, slots.indexOf(s));
  });
  const seedRows = o.seedRowsPerUser ?? 10;
  const SEED_TABLES: TableName[] = ['activities', 'daily_metrics', 'scheduled_workouts', 'goals', 'users'];
  await inBatches(
    slots.filter((_, i) => i % perUser === 0),
    50,
    async (s) => {
      for (let k = 0; k < seedRows; k++) {
        const table = SEED_TABLES[k % SEED_TABLES.length]!;
        const id = s.nextId(table);
        const { id: _, ...values } = makeRow(table, id, s.r, version, clock.now());
        await s.vu.write({ op: 'create', table, id, values });
        s.created.get(table)!.push(id);
      }
      const out = await s.vu.sync('app_launch');
      if (!out.ok) throw new Error(`HRN_ERR_LOAD_SETUP: seeding ${s.userId} failed: ${out.error}`);
    },
  );
  await inBatches(
    slots.filter((_, i) => i % perUser !== 0),
    50,
    async (s) => {
      const out = await s.vu.sync('app_launch');
      if (!out.ok) throw new Error(`HRN_ERR_LOAD_SETUP: first sync of ${s.vu.id} failed: ${out.error}`);
    },
  );
  const setupMs = performance.now() - setupStart;

  // The run.
  const t0 = performance.now();
  const startedAt = Date.now();
  const win = () => String(Math.floor((performance.now() - t0) / windowMs));
  let inFlight = 0;
  let maxInFlight = 0;
  let iterations = 0;
  let dropped = 0;
  let rssPeakMb = process.memoryUsage.rss() / 1048576;
  const phaseAt = (t: number) => o.phases?.find((p) => t >= p.fromMs && t < p.toMs)?.name;
  // Started after setup: the generator's CPU per sync is the run's, not the tokens' and seeds'.
  const monitor = new GeneratorMonitor();
  const samples: SliceResult['samples'] = [];
  const sampleWindow = () => {
    const g = monitor.sample();
    // Stamped with when it was taken: a busy event loop fires the interval late, and a sample must
    // not land in the wrong window (summarise matches samples to windows by time).
    samples.push({ ...g, t: performance.now() - t0, inFlight });
    metrics.add('generator_cpu_pct', g.cpuPct, { slice: String(slice) }, 'pct');
    metrics.add('generator_loop_delay_ms', g.loopDelayP99Ms, { slice: String(slice) });
    rssPeakMb = Math.max(rssPeakMb, g.rssMb);
    o.onProgress?.({ elapsedMs: performance.now() - t0, iterations, inFlight, dropped });
  };
  const sampler = setInterval(sampleWindow, windowMs);

  const record = (trigger: LoadTrigger, out: SyncOutcome, startedAt: number, w: string) => {
    const phase = phaseAt(startedAt);
    const tags: Record<string, string> = phase ? { trigger, phase } : { trigger };
    metrics.add('vu_sync_latency_ms', out.durationMs, tags);
    metrics.rate('vu_sync_success_rate', out.ok, tags);
    metrics.count('vu_pulled_records', out.pulled);
    metrics.count('vu_pushed_records', out.pushed);
    metrics.count('vu_conflicts', out.conflicts.length);
    metrics.count('vu_bytes_up', out.bytesUp, undefined, 'bytes');
    metrics.count('vu_bytes_down', out.bytesDown, undefined, 'bytes');
    windows.add('vu_sync_latency_ms', out.durationMs, { w });
    windows.count(out.ok ? 'vu_syncs_ok' : 'vu_syncs_failed', 1, { w });
    if (!out.ok) {
      const k = errorKey(out.error ?? 'unknown');
      errors[k] = (errors[k] ?? 0) + 1;
    }
  };

  const executor = await runExecutor(spec, {
    async iterate(vuIndex) {
      const s = slots[vuIndex]!;
      const trigger = pickTrigger(mix, s.r.next());
      const startedAt = performance.now() - t0;
      const w = win();
      iterations++;
      windows.count('vu_iterations_started', 1, { w });
      inFlight++;
      if (inFlight > maxInFlight) maxInFlight = inFlight;
      let out: SyncOutcome;
      try {
        out = await runTrigger(s, trigger);
      } catch (e) {
        // Setup of a first sync (token) or a local write failed: still a failed iteration.
        out = blankSyncOutcome('manual', {
          error: (e as Error).message,
          durationMs: performance.now() - t0 - startedAt,
          attempts: 1,
        });
      } finally {
        inFlight--;
      }
      record(trigger, out, startedAt, win());
    },
    dropped() {
      dropped++;
      metrics.count('vu_dropped_iterations', 1);
      windows.count('vu_dropped_iterations', 1, { w: win() });
    },
    thinkTime: o.thinkTimeMs ? (vu) => o.thinkTimeMs! * (0.5 + slots[vu]!.r.next()) : undefined,
  });
  clearInterval(sampler);
  sampleWindow(); // the last (possibly partial) window
  metrics.count('vu_iterations', executor.iterations);
  metrics.count('vu_dropped_iterations', 0); // present even when nothing dropped
  metrics.gauge('vu_syncs_in_flight_max', maxInFlight);
  const generator = { ...monitor.total(), rssBaseMb, rssPeakMb };
  monitor.stop();

  const lostWrites = await checkLostWrites(slots, o.lostWriteSample ?? 10, perUser, startDevice);
  metrics.count('vu_lost_writes', lostWrites.lost);
  metrics.count('vu_diverged_devices', lostWrites.diverged);
  await Promise.all(slots.map((s) => s.vu.stop()));
  closeTransports();
  return {
    slice,
    series: metrics.exportSeries(),
    windows: windows.exportSeries(),
    samples,
    startedAt,
    executor,
    vus,
    users,
    setupMs,
    errors,
    lostWrites,
    generator,
  };
}

/**
 * After the load: for a sample of users, every device syncs twice (its last writes pushed, the
 * others' pulled), then a fresh device pulls everything. A row a device created that the fresh
 * device does not get is a lost write; a device whose rows differ from the fresh device's has
 * diverged. A device whose final syncs fail is "unverified", not counted as lost.
 */
async function checkLostWrites(
  slots: Slot[],
  sample: number,
  perUser: number,
  startDevice: (userId: string, deviceId: string, vuIndex: number) => Promise<VirtualUser>,
): Promise<SliceResult['lostWrites']> {
  const byUser = new Map<number, Slot[]>();
  for (const s of slots) {
    if (s.user >= sample) continue;
    const l = byUser.get(s.user) ?? [];
    l.push(s);
    byUser.set(s.user, l);
  }
  let lost = 0;
  let diverged = 0;
  let unverified = 0;
  const examples: string[] = [];
  await Promise.all(
    [...byUser.values()].map(async (devs) => {
      let ok = true;
      for (let round = 0; round < 2; round++)
        for (const d of devs) {
          const out = await d.vu.sync('manual');
          if (!out.ok) ok = false;
        }
      if (!ok || devs.length < Math.min(perUser, devs.length)) {
        unverified++;
        return;
      }
      const reader = await startDevice(devs[0]!.userId, `${devs[0]!.userId}-check`, slots.indexOf(devs[0]!));
      const out = await reader.sync('manual');
      if (!out.ok) {
        unverified++;
        return;
      }
      const snap = await reader.snapshot();
      const have = new Set(TABLE_NAMES.flatMap((t) => snap[t].map((r) => `${t}:${r.id}`)));
      for (const d of devs)
        for (const [t, ids] of d.created)
          for (const id of ids)
            if (!have.has(`${t}:${id}`)) {
              lost++;
              if (examples.length < 5) examples.push(`${d.vu.id} created ${t}#${id}; the server does not have it`);
            }
      const want = JSON.stringify(snap);
      for (const d of devs)
        if (JSON.stringify(await d.vu.snapshot()) !== want) {
          diverged++;
          if (examples.length < 5) examples.push(`${d.vu.id} differs from the server after two sync rounds`);
        }
    }),
  );
  return { checkedUsers: byUser.size, lost, diverged, unverified, examples };
}
