/**
 * Load with protocol-level virtual users (RFC 0006 §5.2 "1000 concurrent sync operations"): many VUs,
 * each a user's device, writing rows of the real shapes and syncing in a loop against a real server.
 * Reports sync latency percentiles, success rate, and how many syncs were really in flight at once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScaledClock } from '../../protocol/clock';
import type { Platform } from '../../protocol/records';
import { type SchemaVersion, TABLE_NAMES, type TableName } from '../../protocol/tables';
import { makeEdit, makeRow, rng } from './payloads';
import { createVirtualUser, type VirtualUser } from './virtual-user';

export interface LoadOptions {
  serverUrl: string;
  users: number;
  devicesPerUser: number;
  /** Wall time the loop runs after setup. */
  durationMs: number;
  schemaVersion?: SchemaVersion;
  /** Local writes before each sync (default 3). */
  writesPerSync?: number;
  /** Wall pause between one VU's syncs, jittered ±50% (default 0: maximum pressure). */
  thinkTimeMs?: number;
  /** Rows each user's first device creates and syncs before the loop, so pulls carry data (default 20). */
  seedRowsPerUser?: number;
  /** Spread of the VUs' first syncs over this many ms (default 0: all at once). */
  rampUpMs?: number;
  seed?: number;
  /** Sync attempts per operation (default 1: a failure is reported, not hidden by retries). */
  maxAttempts?: number;
  requestTimeoutMs?: number;
  /** Concurrency the run is meant to hold; the report says how long it did (default 1000). */
  targetConcurrency?: number;
  /** Token source; default POST /auth/test-token on the server. */
  getToken?(userId: string, deviceId: string, platform: Platform): Promise<string>;
  onProgress?(p: { syncs: number; inFlight: number; elapsedMs: number }): void;
}

export interface LatencyStats {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LoadReport {
  vus: number;
  syncs: number;
  ok: number;
  failed: number;
  successRate: number;
  errors: Record<string, number>;
  latencyMs: LatencyStats;
  /** Most syncs in flight at one instant. */
  maxConcurrentSyncs: number;
  /** Time-weighted mean of syncs in flight over the loop. */
  meanConcurrentSyncs: number;
  targetConcurrency: number;
  /** Wall ms during which at least `targetConcurrency` syncs were in flight. */
  msAtOrAboveTarget: number;
  throughputSyncsPerSec: number;
  pulled: number;
  pushed: number;
  conflicts: number;
  bytesUp: number;
  bytesDown: number;
  setupMs: number;
  loopMs: number;
}

export function latencyStats(xs: number[]): LatencyStats {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]! : 0);
  return {
    count: s.length,
    min: s[0] ?? 0,
    mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0,
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    max: s[s.length - 1] ?? 0,
  };
}

export async function fetchTestToken(
  serverUrl: string,
  userId: string,
  deviceId: string,
  platform: Platform,
): Promise<string> {
  const res = await fetch(`${serverUrl.replace(/\/$/, '')}/auth/test-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, deviceId, platform }),
  });
  if (!res.ok)
    throw new Error(
      `HRN_ERR_VU_TOKEN: POST /auth/test-token answered ${res.status}: ${(await res.text()).slice(0, 200)}`,
    );
  return ((await res.json()) as { token: string }).token;
}

async function inBatches<T>(items: T[], size: number, fn: (x: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

const WRITE_TABLES: TableName[] = ['activities', 'activities', 'daily_metrics', 'daily_metrics', 'goals', 'users'];

export async function runVirtualUsers(o: LoadOptions): Promise<LoadReport> {
  const version = o.schemaVersion ?? 2;
  const clock = new ScaledClock(1);
  const seed = o.seed ?? 1;
  const target = o.targetConcurrency ?? 1000;
  const getToken = o.getToken ?? ((u, d, p) => fetchTestToken(o.serverUrl, u, d, p));
  const run = `${Date.now().toString(36)}${seed}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'vu-'));
  interface Slot {
    vu: VirtualUser;
    userId: string;
    known: Map<TableName, string[]>;
    r: ReturnType<typeof rng>;
  }
  const slots: Slot[] = [];
  const setupStart = performance.now();
  for (let u = 0; u < o.users; u++) {
    for (let d = 0; d < o.devicesPerUser; d++) {
      const userId = `vu-user-${run}-${u}`;
      const deviceId = `vu-dev-${run}-${u}-${d}`;
      slots.push({
        vu: createVirtualUser({
          id: deviceId,
          schemaVersion: version,
          maxAttempts: o.maxAttempts ?? 1,
          requestTimeoutMs: o.requestTimeoutMs,
        }),
        userId,
        known: new Map(TABLE_NAMES.map((t) => [t, []])),
        r: rng(seed * 1_000_003 + u * 1009 + d),
      });
    }
  }
  await inBatches(slots, 100, async (s) => {
    const token = await getToken(s.userId, s.vu.id, 'IOS');
    await s.vu.start({
      userId: s.userId,
      deviceId: s.vu.id,
      platform: 'IOS',
      serverUrl: o.serverUrl,
      getToken: async () => token,
      schemaVersion: version,
      clock,
      dataDir,
      log: () => {},
    });
  });
  // Seed: the first device of each user creates rows, so every other device's first pull is real.
  const seedRows = o.seedRowsPerUser ?? 20;
  let seq = 0;
  const create = async (s: Slot, table: TableName) => {
    const id = `${table.slice(0, 2)}-${s.vu.id}-${seq++}`;
    const { id: _, ...values } = makeRow(table, id, s.r, version, clock.now());
    await s.vu.write({ op: 'create', table, id, values });
    s.known.get(table)!.push(id);
  };
  await inBatches(
    slots.filter((_, i) => i % o.devicesPerUser === 0),
    100,
    async (s) => {
      for (let i = 0; i < seedRows; i++) await create(s, WRITE_TABLES[i % WRITE_TABLES.length]!);
      await s.vu.sync('app_launch');
    },
  );
  const setupMs = performance.now() - setupStart;

  // The loop.
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let pulled = 0;
  let pushed = 0;
  let conflicts = 0;
  let bytesUp = 0;
  let bytesDown = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let area = 0;
  let atTarget = 0;
  const loopStart = performance.now();
  let lastChange = loopStart;
  const bump = (delta: number) => {
    const now = performance.now();
    const dt = now - lastChange;
    area += inFlight * dt;
    if (inFlight >= target) atTarget += dt;
    lastChange = now;
    inFlight += delta;
    maxInFlight = Math.max(maxInFlight, inFlight);
  };
  const deadline = loopStart + o.durationMs;
  const progress = o.onProgress
    ? setInterval(() => o.onProgress!({ syncs: ok + failed, inFlight, elapsedMs: performance.now() - loopStart }), 1000)
    : undefined;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  await Promise.all(
    slots.map(async (s, i) => {
      if (o.rampUpMs) await sleep((o.rampUpMs * i) / slots.length);
      while (performance.now() < deadline) {
        for (let w = 0; w < (o.writesPerSync ?? 3); w++) {
          const table = s.r.pick(WRITE_TABLES);
          const ids = s.known.get(table)!;
          if (ids.length && s.r.next() < 0.5) {
            const id = s.r.pick(ids);
            await s.vu
              .write({ op: 'update', table, id, values: makeEdit(table, s.r, version, clock.now()) })
              .catch(() => {});
          } else await create(s, table);
        }
        bump(+1);
        const out = await s.vu.sync('manual');
        bump(-1);
        if (out.ok) {
          ok++;
          latencies.push(out.durationMs);
        } else {
          failed++;
          const key = (out.error ?? 'unknown').replace(/\d+/g, 'N').slice(0, 120);
          errors[key] = (errors[key] ?? 0) + 1;
        }
        pulled += out.pulled;
        pushed += out.pushed;
        conflicts += out.conflicts.length;
        bytesUp += out.bytesUp;
        bytesDown += out.bytesDown;
        // Learn ids of rows pulled from the user's other devices, so edits hit shared rows.
        if (out.pulled && s.r.next() < 0.2) {
          const snap = await s.vu.snapshot();
          for (const t of TABLE_NAMES)
            s.known.set(
              t,
              snap[t].map((x) => x.id),
            );
        }
        if (o.thinkTimeMs) await sleep(o.thinkTimeMs * (0.5 + s.r.next()));
      }
    }),
  );
  bump(0);
  if (progress) clearInterval(progress);
  const loopMs = performance.now() - loopStart;
  return {
    vus: slots.length,
    syncs: ok + failed,
    ok,
    failed,
    successRate: ok + failed ? ok / (ok + failed) : 0,
    errors,
    latencyMs: latencyStats(latencies),
    maxConcurrentSyncs: maxInFlight,
    meanConcurrentSyncs: loopMs ? area / loopMs : 0,
    targetConcurrency: target,
    msAtOrAboveTarget: atTarget,
    throughputSyncsPerSec: ((ok + failed) / loopMs) * 1000,
    pulled,
    pushed,
    conflicts,
    bytesUp,
    bytesDown,
    setupMs,
    loopMs,
  };
}
