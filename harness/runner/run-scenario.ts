/**
 * Runs one scenario end to end (architecture.md "Data flow of one run"): server and per-device
 * proxies up, devices started, workload and nemesis concurrently, heal, quiescence, final state
 * through the contract, checkers, metrics and thresholds.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Toxiproxy } from 'toxiproxy-node-client';
import type { ScenarioResult } from '../../harness/results/types';
import { ScaledClock, SkewedClock } from '../../protocol/clock';
import {
  blankSyncOutcome,
  type Device,
  type DeviceContext,
  type DeviceDrivers,
  type DeviceKind,
  type SyncOutcome,
  type SyncTrigger,
} from '../../protocol/device';
import { HarnessError } from '../../protocol/harness-error';
import type { TableRecords } from '../../protocol/records';
import type { HarnessConfig } from '../config/types';
import { type DatabaseControl, Nemesis } from '../faults/nemesis';
import { DeviceNetwork } from '../faults/network';
import { faultNeeds } from '../faults/registry';
import { History, JsonlHistoryWriter } from '../history/index';
import { objectStoreView, type ResolvedObjectStore } from '../services/object-store/index';
import { analyse } from './analysis';
import { createDevice } from './devices';
import type { LoadedScenario } from './loader';
import { runSteps } from './recorded';
import { Rng } from './rng';
import type { DeviceHandle, ScenarioContext } from './scenario';
import { type RunningCluster, startCluster } from './server-cluster';
import { type RunningServer, startChildServer, startInProcessServer } from './server-process';
import { readServerState } from './server-state';
import { tokenProvider } from './tokens';
import { planDeviceOps, randomRecordValues, seedIds } from './workload';

export interface RunEnvironment {
  config: HarnessConfig;
  runDir: string;
  /** postgres:// URL of a database the harness may create per-scenario databases in (absent with --target). */
  postgres?: { adminUrl: string; createDatabase(name: string): Promise<string>; control?: DatabaseControl };
  toxiproxy: { url: string; client: Toxiproxy; addressing: Parameters<typeof DeviceNetwork.create>[3] };
  target?: string;
  /** S3-compatible store for FIT uploads; each device reaches it through its own proxy. */
  objectStore?: ResolvedObjectStore;
  log(line: string): void;
  onProgress?(p: {
    scenario: string;
    opsDone: number;
    devices: number;
    faultsActive: string[];
    elapsedMs: number;
  }): void;
}

export interface ScenarioRunOptions {
  seed: number;
  attempt: number;
  timeScale: number;
  network?: string;
  brokenServer?: string[];
  /** Reference-server processes behind a round-robin front (overrides the scenario's `server.instances`). */
  serverInstances?: number;
}

const QUIESCENCE_ROUNDS = 8;

export async function runScenario(
  env: RunEnvironment,
  loaded: LoadedScenario,
  opts: ScenarioRunOptions,
): Promise<ScenarioResult> {
  const def = loaded.def;
  const started = new Date();
  const t0 = performance.now();
  const slug = opts.attempt > 1 ? `${def.name}-retry${opts.attempt - 1}` : def.name;
  const dir = join(env.runDir, slug);
  mkdirSync(dir, { recursive: true });
  const clock = new ScaledClock(opts.timeScale);
  const rng = new Rng(opts.seed).fork(def.name);
  const historyWriter = new JsonlHistoryWriter(join(dir, 'history.jsonl'));
  // Device chatter (retries, WatermelonDB diagnostics) goes to a file beside the history; the
  // terminal stays readable. HARNESS_VERBOSE=1 echoes it too.
  const deviceLogFile = join(dir, 'devices.log');
  const deviceLog = (line: string) => {
    appendFileSync(deviceLogFile, `${new Date().toISOString()} ${line}\n`);
    if (process.env.HARNESS_VERBOSE) env.log(line);
  };
  const rec = new History({ sink: historyWriter });
  const notes: string[] = [];
  const assertions: Array<{ ok: boolean; message: string }> = [];
  const custom: Array<{ name: string; value: number; tags?: Record<string, string> }> = [];
  const devices = new Map<
    string,
    {
      dev: Device;
      kind: DeviceKind;
      net: DeviceNetwork;
      user: string;
      clock: SkewedClock;
      spec: (typeof def.devices)[string];
    }
  >();
  let server: RunningServer | undefined;
  let fatal: { code: string; message: string } | undefined;
  const serverState: Record<string, TableRecords> = {};
  const finalDevices: Array<{
    id: string;
    user: string;
    snapshot: TableRecords;
    pendingChanges: number;
    schemaVersion: 1 | 2;
  }> = [];
  const memory = new Map<string, number[]>();

  const broken = [...(opts.brokenServer ?? []), ...(def.server?.broken ?? [])];
  const instances = opts.serverInstances ?? def.server?.instances ?? 1;
  const recordedFaults = (def.steps ?? []).flatMap((st) => (st.op === 'fault' ? [st.fault] : []));
  const needsChild = def.server?.process === 'child' || faultNeeds(def.faults, recordedFaults).has('childServer');

  const progressTimer = setInterval(() => {
    env.onProgress?.({
      scenario: def.name,
      opsDone: rec.length,
      devices: devices.size,
      faultsActive: nemesis?.activeFaults() ?? [],
      elapsedMs: performance.now() - t0,
    });
  }, 500);
  let nemesis: Nemesis | undefined;

  try {
    // --- server
    /** deviceId → that device's proxy in front of the object store (presigned URLs point there). */
    const uploadRoutes = new Map<string, string>();
    if (env.target) {
      if (broken.length)
        throw Object.assign(new Error('broken server modes need the harness to start the server (not with --target)'), {
          code: 'HRN_ERR_USAGE',
        });
      server = { url: env.target.replace(/\/$/, ''), hostPort: new URL(env.target).host, close: async () => {} };
    } else {
      const dbName =
        `h_${slug.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${opts.seed}_${Date.now().toString(36)}`.slice(0, 60);
      const databaseUrl = await env.postgres!.createDatabase(dbName);
      server =
        instances > 1
          ? await startCluster({ databaseUrl, broken, instances })
          : needsChild
            ? await startChildServer({ databaseUrl, broken })
            : await startInProcessServer({
                databaseUrl,
                broken,
                objectStore: env.objectStore && {
                  endpoint: env.objectStore.endpoint,
                  bucket: env.objectStore.bucket,
                  region: env.objectStore.region,
                  accessKeyId: env.objectStore.accessKeyId,
                  secretAccessKey: env.objectStore.secretAccessKey,
                  publicEndpointFor: (deviceId) => uploadRoutes.get(deviceId),
                },
              });
      if (instances > 1) notes.push(`server: ${instances} instances behind a round-robin front`);
    }
    const serverUrl = server.url;

    // --- devices, each behind its own proxy
    const ids = Object.keys(def.devices);
    for (const id of ids) {
      const spec = def.devices[id];
      const user = spec.user ?? 'user-1';
      const net = await DeviceNetwork.create(
        env.toxiproxy.client,
        `${slug}-${id}`,
        Number(new URL(serverUrl).port),
        env.toxiproxy.addressing,
      );
      const deviceId = `${slug}-${id}-${opts.seed}`;
      if (env.objectStore) {
        // Uploads go to the store through a second proxy of the same device, linked so that every
        // fault and preset of the device applies to its uploads as well.
        const files = await DeviceNetwork.create(
          env.toxiproxy.client,
          `${slug}-${id}-files`,
          Number(new URL(env.objectStore.endpoint).port),
          env.toxiproxy.addressing,
        );
        net.link(files);
        uploadRoutes.set(deviceId, files.url);
      }
      const preset = spec.network ?? env.config.use.network;
      if (preset) await net.applyPreset(preset);
      const { dev, kind } = await createDevice(id, spec, { phoneAdapter: env.config.use.phoneAdapter });
      const devClock = new SkewedClock(clock);
      const platform = kind.platform;
      const ctx: DeviceContext = {
        userId: user,
        deviceId,
        platform,
        serverUrl: net.url,
        getToken: tokenProvider(serverUrl, user, deviceId, platform),
        schemaVersion: spec.schemaVersion ?? 2,
        clock: devClock,
        dataDir: join(dir, 'devices', id),
        log: (l) => deviceLog(`[${id}] ${l}`),
      };
      mkdirSync(ctx.dataDir, { recursive: true });
      devices.set(id, { dev, kind, net, user, clock: devClock, spec });
      await dev.start(ctx);
    }

    nemesis = new Nemesis({
      clock,
      network: (id) => must(devices.get(id), id).net,
      device: (id) => must(devices.get(id), id).dev,
      kind: (id) => devices.get(id)?.kind,
      deviceClock: (id) => devices.get(id)?.clock,
      deviceIds: () => [...devices.keys()],
      server: serverControl(server, instances),
      database: env.postgres?.control,
      record: (event, fault, label, targets, error) =>
        rec.event({
          process: 'nemesis',
          f: event,
          fault: { name: fault.kind, targets, params: { ...fault, label } },
          ...(error ? { error } : {}),
        }),
    });
    const nem = nemesis;

    // --- handles that record every operation
    const killed = new Map<string, Awaited<ReturnType<Nemesis['start']>>>();
    const handle = (id: string): DeviceHandle => {
      const d = must(devices.get(id), id);
      const write = async (op: Parameters<Device['write']>[0]) => {
        const values = op.op === 'delete' ? undefined : { ...op.values };
        if (values && values.updated_at === undefined && d.clock) values.updated_at = d.clock.now();
        const c = rec.invoke({
          f: op.op,
          device: id,
          user: d.user,
          table: op.table,
          id: op.id,
          values,
          deviceTime: d.clock.now(),
        });
        try {
          await d.dev.write(values ? ({ ...op, values } as typeof op) : op);
          c.ok();
        } catch (e) {
          c.fail({ error: (e as Error).message });
          throw e;
        }
      };
      return {
        id,
        kind: d.spec.kind,
        user: d.user,
        async create(table, values, rid) {
          const rowId = rid ?? rng.id(table.slice(0, 3));
          await write({ op: 'create', table, id: rowId, values });
          return rowId;
        },
        update: (table, rid, values) => write({ op: 'update', table, id: rid, values }),
        delete: (table, rid) => write({ op: 'delete', table, id: rid }),
        async sync(trigger: SyncTrigger = 'manual') {
          const c = rec.invoke({ f: 'sync', device: id, user: d.user, trigger });
          let out: SyncOutcome;
          try {
            out = await d.dev.sync(trigger);
          } catch (e) {
            out = blankSyncOutcome(trigger, { attempts: 1, indeterminate: true, error: (e as Error).message });
          }
          c.complete(out.ok ? 'ok' : out.indeterminate ? 'info' : 'fail', {
            pulled: out.pulled,
            pushed: out.pushed,
            conflicts: out.conflicts,
            bytesUp: out.bytesUp,
            bytesDown: out.bytesDown,
            ...(out.error ? { error: out.error } : {}),
            extra: { attempts: out.attempts, durationMs: out.durationMs, lastPulledAt: out.lastPulledAt },
          });
          if (d.dev.memoryBytes) {
            const m = await d.dev.memoryBytes().catch(() => undefined);
            if (m !== undefined) memory.set(id, [...(memory.get(id) ?? []), m]);
          }
          return out;
        },
        snapshot: () => d.dev.snapshot(),
        pending: () => d.dev.pendingChanges(),
        now: () => d.clock.now(),
        raw: d.dev,
        driver<K extends keyof DeviceDrivers>(kind: K): DeviceDrivers[K] {
          if (d.dev.kind !== kind)
            throw new HarnessError('HRN_ERR_SCENARIO', `device "${id}" is a ${d.dev.kind}, not a ${kind}`);
          return d.dev as DeviceDrivers[K];
        },
        // A kill is an appKill fault (recorded, healed by restart() or at the end of the workload).
        kill: async () => {
          killed.set(id, await nem.start({ kind: 'appKill', device: id }));
        },
        restart: async () => {
          const k = killed.get(id);
          killed.delete(id);
          if (k) return nem.stop(k);
          if (!d.dev.restart) throw new Error(`device ${id} (${d.dev.kind}) cannot restart`);
          await d.dev.restart();
        },
      };
    };
    const handles = Object.fromEntries([...devices.keys()].map((id) => [id, handle(id)]));
    for (const [id, d] of devices) {
      if (!d.kind.pair || !d.spec.pairedWith) continue;
      const peer = handles[d.spec.pairedWith];
      d.kind.pair(d.dev as DeviceDrivers[typeof d.kind.kind], {
        id,
        peer: {
          id: peer.id,
          dataDir: join(dir, 'devices', peer.id),
          create: (table, values, rid) => peer.create(table, values, rid),
          sync: (trigger) => peer.sync(trigger),
        },
        event: (e) => rec.event(e),
      });
    }

    const ctx: ScenarioContext = {
      objectStore: env.objectStore && objectStoreView(env.objectStore),
      devices: handles,
      device: (id) => must(handles[id], id),
      nemesis: {
        start: async (f) => {
          const a = await nem.start(f);
          return { stop: () => nem.stop(a) };
        },
        inject: (f, ms) => nem.inject(f, ms),
        heal: () => nem.heal(),
        active: () => nem.activeFaults(),
      },
      rng,
      clock,
      seed: opts.seed,
      serverUrl,
      sleep: (ms) => clock.sleep(ms),
      random: (w) => runRandom(w),
      expect: (ok, message) => {
        assertions.push({ ok: !!ok, message });
      },
      note: (m) => notes.push(m),
      metric: (name, value, tags) => custom.push({ name, value, tags }),
      id: (prefix = 'rec') => rng.id(prefix),
    };

    const pools = new Map<string, ReturnType<typeof seedIds>>();
    let randomCalls = 0;
    const runRandom = async (w: NonNullable<typeof def.random>) => {
      const call = randomCalls++;
      const targets = w.devices ?? [...devices.keys()];
      // Seed a shared pool per user so updates and deletes from every device hit the same records.
      const byUser = new Map<string, string[]>();
      for (const id of targets) byUser.set(devices.get(id)!.user, [...(byUser.get(devices.get(id)!.user) ?? []), id]);
      for (const [user, devs] of byUser) {
        if (pools.has(user)) continue;
        const pool = seedIds(rng.fork(`pool-${user}`), user, 3);
        pools.set(user, pool);
        const first = handles[devs[0]];
        const v = devices.get(devs[0])!.spec.schemaVersion ?? 2;
        const prng = rng.fork(`pool-values-${user}`);
        for (const p of pool) await first.create(p.table, randomRecordValues(prng, p.table, v, false), p.id);
        await first.sync('app_launch');
        for (const other of devs.slice(1)) await handles[other].sync('app_launch');
      }
      await Promise.all(
        targets.map(async (id) => {
          const d = devices.get(id)!;
          const plan = planDeviceOps(
            rng.fork(`ops-${id}-${call}`),
            `${id}.${call}`,
            d.spec.schemaVersion ?? 2,
            w,
            pools.get(d.user)!,
          );
          const h = handles[id];
          for (const op of plan) {
            if (op.kind === 'think') await clock.sleep(op.ms);
            else if (op.kind === 'sync') await h.sync('manual');
            else if (op.kind === 'create') await h.create(op.table, op.values, op.id).catch(() => {});
            else if (op.kind === 'update') await h.update(op.table, op.id, op.values).catch(() => {});
            else await h.delete(op.table, op.id).catch(() => {});
          }
        }),
      );
    };

    // --- workload and nemesis, concurrently, under the scenario timeout
    const abort = new AbortController();
    const steps = def.faults ? Nemesis.expand(def.faults, rng.fork('nemesis'), [...devices.keys()], 60_000) : [];
    const schedule = nem.runSchedule(steps, abort.signal);
    const timeoutMs = def.timeoutMs ?? env.config.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const work = (async () => {
      if (def.random) await runRandom(def.random);
      if (def.steps) await runSteps(ctx, def.steps);
      if (def.workload) await def.workload(ctx);
    })();
    try {
      await Promise.race([
        work,
        new Promise((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new Error(`scenario timed out after ${timeoutMs} ms (raise timeoutMs in the scenario or config)`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      abort.abort();
      await schedule.catch((e) => notes.push(`nemesis: ${(e as Error).message}`));
    }

    // --- heal and quiesce: upload queues settle, then every device syncs until a round moves nothing
    await nem.heal();
    for (const [, d] of devices) d.clock.offsetMs = 0;
    for (const [, d] of devices) await d.dev.uploadsSettled?.().catch(() => {});
    let quiet = false;
    for (let round = 0; round < QUIESCENCE_ROUNDS && !quiet; round++) {
      quiet = true;
      for (const id of devices.keys()) {
        const out = await handles[id].sync('manual');
        if (!out.ok || out.pushed > 0 || out.pulled > 0) quiet = false;
      }
    }
    if (!quiet) notes.push(`devices did not reach quiescence within ${QUIESCENCE_ROUNDS} sync rounds`);

    // --- final state through the contract
    const users = [...new Set([...devices.values()].map((d) => d.user))];
    for (const u of users) serverState[u] = await readServerState(serverUrl, u);
    for (const [id, d] of devices) {
      if (d.kind.talks !== 'contract') continue;
      finalDevices.push({
        id,
        user: d.user,
        snapshot: await d.dev.snapshot(),
        pendingChanges: await d.dev.pendingChanges(),
        schemaVersion: d.spec.schemaVersion ?? 2,
      });
    }
  } catch (e) {
    const err = e as Error & { code?: string };
    fatal = { code: err.code ?? 'HRN_ERR_RUN', message: err.message };
    env.log(`scenario ${def.name}: ${err.message}`);
  } finally {
    clearInterval(progressTimer);
    for (const [, d] of devices) {
      await d.dev.stop().catch(() => {});
      await d.net.remove();
    }
    if (server && 'frontStats' in server) {
      const f = (server as RunningCluster).frontStats();
      notes.push(
        `front: requests per instance ${f.perUpstream.join(' / ')}, ${f.retried} re-sent after a refused connection, ${f.failed} answered 502/503 by the front`,
      );
    }
    await server?.close().catch(() => {});
  }

  rec.closeOpen();
  historyWriter.close();
  // Watches are not contract clients: their packs reach the server through the phone's own writes,
  // which the checkers verify; the watch's ops stay in history.jsonl for the report.
  const nonContract = new Set([...devices.entries()].filter(([, d]) => d.kind.talks !== 'contract').map(([id]) => id));
  const analysis = await analyse({
    def,
    history: nonContract.size ? rec.ops.filter((o) => !o.device || !nonContract.has(o.device)) : rec.ops,
    serverState,
    devices: finalDevices,
    assertions,
    custom,
    memory,
    deviceInfo: [...devices.entries()].map(([id, d]) => ({
      id,
      kind: d.spec.kind,
      user: d.user,
      energy: safe(() => d.dev.energy()),
      uploads: safe(() => d.dev.uploadSummary?.()),
    })),
    configThresholds: env.config.thresholds,
    fatal,
  });
  const failed = !!fatal || analysis.checks.some((c) => !c.passed) || analysis.thresholds.some((t) => !t.passed);
  // A checker proof passes only when a *check* caught the bug; a missed threshold is not a catch.
  const caught = analysis.checks.some((c) => !c.passed && c.name !== 'run' && c.name !== 'scenario-assertions');
  const expectFail = def.expect === 'fail';
  if (expectFail)
    notes.push(
      caught
        ? 'this scenario is expected to fail (it proves a checker catches a deliberate bug), and a checker caught it'
        : 'this scenario was expected to fail but no checker caught the bug',
    );
  const verdict: ScenarioResult['verdict'] = fatal
    ? 'error'
    : expectFail
      ? caught
        ? 'passed'
        : 'failed'
      : failed
        ? 'failed'
        : 'passed';
  return {
    name: def.name,
    title: def.title,
    tags: def.tags ?? [],
    seed: opts.seed,
    verdict,
    attempt: opts.attempt,
    startedAt: started.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    devices: analysis.devices,
    checks: analysis.checks,
    metrics: analysis.metrics,
    thresholds: analysis.thresholds,
    faults: analysis.faults,
    historyFile: join(slug, 'history.jsonl'),
    operations: rec.length,
    ...(fatal ? { error: fatal } : {}),
    ...(notes.length ? { notes } : {}),
  };
}

function must<T>(v: T | undefined, id: string): T {
  if (v === undefined) throw new Error(`unknown device "${id}"`);
  return v;
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** The serverCrash fault's handle: `instance` only makes sense when the server runs several. */
function serverControl(server: RunningServer, instances: number) {
  const { crash, restart } = server;
  if (!crash || !restart) return undefined;
  const check = (instance?: number) => {
    if (instance !== undefined && (instance < 0 || instance >= instances))
      throw new Error(
        `serverCrash names instance ${instance}, but the server runs ${instances} instance${instances === 1 ? '' : 's'}; set server.instances or --server-instances`,
      );
  };
  return {
    crash: async (instance?: number) => {
      check(instance);
      await crash(instance);
    },
    restart: async (instance?: number) => {
      check(instance);
      await restart(instance);
    },
  };
}
