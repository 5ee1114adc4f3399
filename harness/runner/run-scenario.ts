/**
 * Runs one scenario end to end (architecture.md "Data flow of one run"). This module only
 * orchestrates; each stage is its own module: the server (scenario-server), devices behind their
 * proxies (device-set), recording handles (handle), the workload driver and the nemesis schedule
 * (workload-driver), heal and quiescence (quiescence), checkers and metrics (analysis), the verdict.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Toxiproxy } from 'toxiproxy-node-client';
import type { ProgressInfo } from '../../harness/results/reporter';
import type { ScenarioResult } from '../../harness/results/types';
import { type Clock, ScaledClock } from '../../protocol/clock';
import { Rng } from '../../protocol/rng';
import { TABLE_NAMES } from '../../protocol/tables';
import type { HarnessConfig } from '../config/types';
import { type DatabaseControl, Nemesis } from '../faults/nemesis';
import type { DeviceNetwork } from '../faults/network';
import type { ServerAdmin } from '../faults/plugin';
import { History, JsonlHistoryWriter } from '../history/index';
import { localPostmaster } from '../load/process-stats';
import { type ResolvedObjectStore, scopedObjectStoreView } from '../services/object-store/index';
import { gatewayChecks } from '../target/gateway-checks';
import { ProbeClient } from '../target/probe-client';
import { targetGaps } from '../target/requirements';
import type { ResolvedAdapter } from '../target/types';
import { analyse } from './analysis';
import { DeviceSet } from './device-set';
import { unavailableDevices } from './devices';
import { pairDevices, recordingHandle } from './handle';
import { LiveSyncStats } from './live-stats';
import type { LoadedScenario } from './loader';
import {
  type EndOfRun,
  endOfRunCheck,
  type FinalState,
  healAndQuiesce,
  QUIESCENCE_ROUNDS,
  readFinalState,
} from './quiescence';
import { ScenarioRecord, scenarioChecks, scenarioContext } from './scenario-context';
import { readServerLog, type ScenarioServer, startScenarioServer } from './scenario-server';
import { serverAdmin } from './server-admin';
import { phoneSyncMetadata, type SyncMetadataSize, serverSyncMetadata } from './sync-metadata';
import { scenarioResult, skippedResult, verdictOf } from './verdict';
import { driveWorkload, RandomWorkloadDriver, scenarioWorkload } from './workload-driver';

export interface RunEnvironment {
  config: HarnessConfig;
  runDir: string;
  /** postgres:// URL of a database the harness may create per-scenario databases in (absent with --target). */
  postgres?: {
    adminUrl: string;
    createDatabase(name: string): Promise<string>;
    control?: DatabaseControl;
    /** The database's URL for the server the harness starts, when a cheaper path than the URL's exists. */
    serverUrl?(url: string): string;
  };
  toxiproxy: { url: string; client: Toxiproxy; addressing: Parameters<typeof DeviceNetwork.create>[3] };
  target?: string;
  /** How the target speaks (with --target): the gateway translates through it, and scenarios that need what it lacks are skipped. */
  adapter?: ResolvedAdapter;
  /**
   * Suffix of every user and device id this run presents to a target: someone else's server keeps
   * its data between runs, so each run's users start empty and never meet an earlier run's.
   */
  namespace?: string;
  /** S3-compatible store for FIT uploads; each device reaches it through its own proxy. */
  objectStore?: ResolvedObjectStore;
  log(line: string): void;
  onProgress?(p: ProgressInfo): void;
}

export interface ScenarioRunOptions {
  seed: number;
  attempt: number;
  /** 0-based index of this run under `--repeat` (each repetition gets its own folder). */
  repetition?: number;
  timeScale: number;
  network?: string;
  brokenServer?: string[];
  /** Reference-server processes behind a round-robin front (overrides the scenario's `server.instances`). */
  serverInstances?: number;
}

export async function runScenario(
  env: RunEnvironment,
  loaded: LoadedScenario,
  opts: ScenarioRunOptions,
): Promise<ScenarioResult> {
  const def = loaded.def;
  const started = new Date();
  const t0 = performance.now();
  // One folder per repetition and attempt: device databases live in it, and a repetition that
  // reused the previous one's started its phones with rows and a lastPulledAt of the previous
  // repetition's server (convergence failed on rows "the server does not have").
  const slug = `${def.name}${opts.repetition ? `-repeat${opts.repetition}` : ''}${opts.attempt > 1 ? `-retry${opts.attempt - 1}` : ''}`;
  // Hardware or tooling this machine lacks makes the scenario `skipped` before anything starts.
  const reasons = await unavailableDevices(def.devices, {
    phoneAdapter: env.config.use.phoneAdapter,
    devices: env.config.use.devices,
  });
  // A target that lacks what the scenario needs: skipped with the reason, never a false alarm.
  if (env.adapter) reasons.push(...targetGaps(def, env.adapter).map((r) => `target: ${r}`));
  if (reasons.length) {
    env.log(`scenario ${def.name}: skipped: ${reasons.join('; ')}`);
    return skippedResult({ def, seed: opts.seed, attempt: opts.attempt, startedAt: started, slug, reasons });
  }
  const dir = join(env.runDir, slug);
  mkdirSync(dir, { recursive: true });
  const clock = new ScaledClock(opts.timeScale);
  const rng = new Rng(opts.seed).fork(def.name);
  const historyWriter = new JsonlHistoryWriter(join(dir, 'history.jsonl'));
  const rec = new History({ sink: historyWriter });
  const record = new ScenarioRecord();
  const devices = new DeviceSet(env, dir, slug, opts.seed);
  const final: FinalState = { server: {}, devices: [] };
  let server: ScenarioServer | undefined;
  let nemesis: Nemesis | undefined;
  let fatal: { code: string; message: string } | undefined;
  // A scripted operation that threw: reported as a failed check, and the checkers still run.
  let workloadError: { code: string; message: string } | undefined;
  // The end-of-run rule (heal, drained queues, quiescence, final read), judged as the end-of-run check.
  let endOfRun: EndOfRun | undefined;
  let finalRead: number | undefined;
  const live = new LiveSyncStats();
  const devicesTotal = Object.keys(def.devices).length;
  const progress = setInterval(() => {
    const p = {
      ...{ opsDone: rec.length, devices: devices.byId.size, devicesTotal, faultsActive: nemesis?.activeFaults() ?? [] },
      ...{ syncs: live.count, syncsFailed: live.failed, syncP95Ms: live.p95() },
    };
    env.onProgress?.({ scenario: def.name, ...p, elapsedMs: performance.now() - t0 });
  }, 500);

  try {
    server = await startScenarioServer(env, def, opts, slug);
    // Before any device can upload: what other scenarios of this run left in the store is not ours.
    const objectStore = env.objectStore && (await scopedObjectStoreView(env.objectStore));
    await devices.start(def.devices, server, clock);
    const admin = scenarioAdmin(devices, server);
    const nem = scenarioNemesis(devices, clock, server, env, rec, admin);
    nemesis = nem;
    const handles = Object.fromEntries(
      devices.all().map((d) => [d.id, recordingHandle(d, { rec, rng, nemesis: nem, memory: record.memory, live })]),
    );
    pairDevices(devices.all(), handles, rec);
    const served = env.adapter ? { tables: env.adapter.tables, deletes: env.adapter.capabilities.deletes } : undefined;
    const random = new RandomWorkloadDriver(devices.byId, handles, rng, clock, served);
    const srv = server;
    const ctx = scenarioContext({
      ...{ handles, nemesis: nem, rng, clock, seed: opts.seed, serverUrl: server.url, record },
      ...(admin ? { admin } : {}),
      objectStore,
      random: (w) => random.run(w),
      tables: served ? [...served.tables] : [...TABLE_NAMES],
      ...(env.target && env.adapter
        ? {
            target: {
              url: env.target,
              adapter: env.adapter.name,
              capabilities: env.adapter.capabilities,
              pushLastPulledAtIn: env.adapter.push.lastPulledAt.in,
            },
          }
        : {}),
      serverPid: () => srv.server.pid?.(),
      postgresPid: () => localPostmaster(srv.databaseUrl),
      client: (user, name) =>
        new ProbeClient({
          ...{ serverUrl: srv.url, user, serverUser: srv.serverUser(user), name, rec },
          deviceId: srv.serverDeviceId(name),
        }),
    });
    try {
      await driveWorkload({
        ...{ workload: scenarioWorkload(def), ctx, nemesis: nem, faults: def.faults, rng },
        ...{ deviceIds: devices.ids(), timeoutMs: def.timeoutMs ?? env.config.timeoutMs, note: record.note },
      });
    } catch (e) {
      const err = e as Error & { code?: string };
      // A usage error (unknown device, bad table) is the scenario's bug: nothing to check then.
      if (err.code && /^HRN_ERR_(SCENARIO|USAGE|CONFIG)/.test(err.code)) throw e;
      workloadError = { code: err.code ?? 'HRN_ERR_RUN', message: err.message };
      env.log(`scenario ${def.name}: the workload stopped: ${err.message}; healing and checking what happened`);
    }
    endOfRun = await healAndQuiesce(nem, devices.all(), handles);
    if (endOfRun.quietAfterRounds === undefined)
      record.note(`devices did not reach quiescence within ${QUIESCENCE_ROUNDS} sync rounds`);
    await readFinalState(server.url, devices.all(), final, server.serverUser);
    finalRead = final.devices.length;
  } catch (e) {
    const err = e as Error & { code?: string };
    fatal = { code: err.code ?? 'HRN_ERR_RUN', message: err.message };
    env.log(`scenario ${def.name}: ${err.message}`);
  } finally {
    clearInterval(progress);
    await devices.stop();
    await server?.close();
  }
  rec.closeOpen();
  historyWriter.close();
  const serverLog = fatal ? undefined : await readServerLog(server?.databaseUrl, devices.serverIds());
  const syncMetadata: SyncMetadataSize[] = [];
  if (!fatal) {
    syncMetadata.push(...(await serverSyncMetadata(server?.databaseUrl, devices.serverIds()).catch(() => [])));
    for (const d of devices.all())
      if (d.spec.kind === 'phone') {
        const m = await phoneSyncMetadata(d.id, d.dataDir).catch(() => undefined);
        if (m) syncMetadata.push(m);
      }
  }
  // Paired devices (watches) are not contract clients: their packs reach the server through the
  // peer's own writes, which the checkers verify; their ops stay in history.jsonl for the report.
  const paired = new Set(
    devices
      .all()
      .filter((d) => d.kind.talks !== 'contract')
      .map((d) => d.id),
  );
  const analysis = await analyse({
    def,
    history: paired.size ? rec.ops.filter((o) => !o.device || !paired.has(o.device)) : rec.ops,
    serverState: final.server,
    devices: final.devices,
    ...{ assertions: record.assertions, custom: record.custom, series: record.series, memory: record.memory },
    deviceInfo: devices.all().map((d) => ({
      ...{ id: d.id, kind: d.spec.kind, user: d.user },
      energy: safe(() => d.dev.energy()),
      ...(paired.has(d.id)
        ? { pairedSyncs: rec.ops.filter((o) => o.device === d.id && o.f === 'sync' && o.type !== 'invoke').length }
        : {}),
      uploads: safe(() => d.dev.uploadSummary?.()),
    })),
    configThresholds: env.config.thresholds,
    fatal,
    serverLog,
    syncMetadata,
    // Our server always answers with its conflicts; a target only when its adapter reads them.
    conflictsReported: env.adapter ? env.adapter.capabilities.conflictsReported : true,
    extraChecks: [
      ...(endOfRun && !fatal ? [endOfRunCheck(endOfRun, finalRead)] : []),
      ...scenarioChecks(record),
      ...(server?.gateway ? gatewayChecks(server.gateway.problems()) : []),
      ...(workloadError
        ? [
            {
              name: 'workload',
              passed: false,
              summary: `the workload stopped early: ${workloadError.message}`,
              violations: [{ message: workloadError.message }],
              durationMs: 0,
            },
          ]
        : []),
    ],
  });
  const notes = [...(server?.notes ?? []), ...record.notes];
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  for (const m of syncMetadata)
    notes.push(
      `sync metadata of ${m.device} (${m.side}): ${kb(m.bytes)}${
        Object.keys(m.parts).length
          ? ` (${Object.entries(m.parts)
              .map(([t, b]) => `${t} ${kb(b)}`)
              .join(', ')})`
          : ''
      }`,
    );
  // A random nemesis has no workload of its own to say what it proved: the faults it drew and the
  // end-of-run rule that held after them are what the run shows (printed only when it passed).
  const eor = analysis.checks.find((c) => c.name === 'end-of-run');
  if (def.faults && eor?.passed) {
    const kinds = new Map<string, number>();
    for (const f of analysis.faults) kinds.set(f.name, (kinds.get(f.name) ?? 0) + 1);
    const drawn = [...kinds].map(([k, n]) => `${k} ×${n}`).join(', ');
    notes.push(
      `proved: ${analysis.faults.length} faults (${drawn || 'none'}); end-of-run rule held: ${eor.summary}; the checkers below judged the final state`,
    );
  }
  const verdict = verdictOf(def, analysis, fatal ?? workloadError, (m) => notes.push(m));
  return scenarioResult({
    ...{ def, seed: opts.seed, attempt: opts.attempt, startedAt: started, durationMs: performance.now() - t0 },
    ...{ slug, operations: rec.length, analysis, verdict, fatal: fatal ?? workloadError, notes },
  });
}

/** The nemesis of one scenario: faults act on its devices, server and database, and go into the history. */
/** The reference server's operator routes in the scenario's terms (device and user ids as the scenario names them). */
function scenarioAdmin(devices: DeviceSet, server: ScenarioServer): ServerAdmin | undefined {
  if (!server.adminUrls) return undefined;
  return serverAdmin(
    server.adminUrls,
    (id) => {
      const d = devices.get(id);
      return { userId: server.serverUser(d.user), deviceId: d.serverDeviceId };
    },
    (user) => server.serverUser(user),
  );
}

function scenarioNemesis(
  devices: DeviceSet,
  clock: Clock,
  server: ScenarioServer,
  env: RunEnvironment,
  rec: History,
  admin: ServerAdmin | undefined,
) {
  return new Nemesis({
    clock,
    network: (id) => devices.get(id).net,
    device: (id) => devices.get(id).dev,
    kind: (id) => devices.byId.get(id)?.kind,
    deviceClock: (id) => devices.byId.get(id)?.clock,
    deviceIds: () => devices.ids(),
    server: server.control,
    database: env.postgres?.control,
    dbProxy: server.dbProxy,
    ...(admin ? { admin } : {}),
    record: (event, fault, label, targets, error, details) =>
      rec.event({
        process: 'nemesis',
        f: event,
        fault: { name: fault.kind, targets, params: { ...fault, ...details, label } },
        ...(error ? { error } : {}),
      }),
  });
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
